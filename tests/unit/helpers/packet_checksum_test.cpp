// bpf_xdp_adjust_head / _tail, bpf_skb_load_bytes, and bpf_csum_diff (compared with the running kernel).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "helper_test_util.hpp"
#include "kernel/bpf_syscall.hpp"
#include "support/insn_builder.hpp"

namespace xbpf::helpers::test {
namespace {

// A 4096-byte frame with 256 bytes of headroom and 60 bytes of packet, as the kernel's XDP test_run builds it.
struct Frame {
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(4096, 0xee);
    Packet packet;
    std::uint32_t ctx_data = 0, ctx_data_end = 0, ctx_len = 0;
    Frame() {
        packet.frame_start = buf.data();
        packet.frame_end = buf.data() + buf.size();
        packet.data = packet.data_meta = buf.data() + 256;
        packet.data_end = packet.data + 60;
        for (int i = 0; i < 60; ++i) packet.data[i] = static_cast<std::uint8_t>(i);
        packet.ctx_data = &ctx_data;
        packet.ctx_data_end = &ctx_data_end;
        packet.ctx_len = &ctx_len;
    }
};

TEST(XdpAdjust, HeadBounds) {
    TestContext t;
    Frame f;
    t.ctx.packet = &f.packet;
    EXPECT_EQ(t.call(44, 0, static_cast<u64>(-217)), neg(EINVAL));  // into the xdp_frame area
    EXPECT_EQ(t.call(44, 0, 47), neg(EINVAL));                      // fewer than ETH_HLEN bytes left
    EXPECT_EQ(t.call(44, 0, static_cast<u64>(-216)), 0u);
    EXPECT_EQ(f.packet.data, f.buf.data() + 40);
    EXPECT_EQ(f.packet.size(), 276u);
    EXPECT_EQ(f.ctx_len, 276u);
    EXPECT_EQ(f.ctx_data, static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(f.buf.data() + 40)));
    EXPECT_EQ(t.call(44, 0, 216 + 46), 0u);  // down to exactly 14 bytes
    EXPECT_EQ(f.packet.size(), 14u);
    EXPECT_EQ(f.packet.data[0], 46);
    EXPECT_EQ(t.call(44, 0, 1), neg(EINVAL));
}

TEST(XdpAdjust, HeadMovesMetadata) {
    TestContext t;
    Frame f;
    t.ctx.packet = &f.packet;
    f.packet.data_meta = f.packet.data - 8;
    std::memcpy(f.packet.data_meta, "METADATA", 8);
    EXPECT_EQ(t.call(44, 0, static_cast<u64>(-209)), neg(EINVAL));  // 40 + 8 bytes must stay below
    EXPECT_EQ(t.call(44, 0, static_cast<u64>(-208)), 0u);
    EXPECT_EQ(f.packet.data, f.buf.data() + 48);
    EXPECT_EQ(f.packet.data_meta, f.buf.data() + 40);
    EXPECT_EQ(std::memcmp(f.packet.data_meta, "METADATA", 8), 0);
}

TEST(XdpAdjust, TailBounds) {
    TestContext t;
    Frame f;
    t.ctx.packet = &f.packet;
    EXPECT_EQ(t.call(65, 0, static_cast<u64>(-47)), neg(EINVAL));
    EXPECT_EQ(t.call(65, 0, 3461), neg(EINVAL));  // past frame end - 320
    EXPECT_EQ(t.call(65, 0, 3460), 0u);
    EXPECT_EQ(f.packet.size(), 3520u);
    EXPECT_EQ(f.ctx_len, 3520u);
    for (std::size_t i = 60; i < 3520; ++i) ASSERT_EQ(f.packet.data[i], 0) << i;  // grown bytes zeroed
    EXPECT_EQ(t.call(65, 0, static_cast<u64>(-3506)), 0u);
    EXPECT_EQ(f.packet.size(), 14u);
    t.ctx.packet = nullptr;
    EXPECT_EQ(t.call(65, 0, 1), neg(EINVAL));
    EXPECT_EQ(t.call(44, 0, 1), neg(EINVAL));
}

TEST(SkbLoadBytes, CopiesOrFaults) {
    TestContext t;
    Frame f;
    t.ctx.packet = &f.packet;
    std::uint8_t out[10];
    EXPECT_EQ(t.call(26, 0, 50, arg(out), 10), 0u);
    EXPECT_EQ(out[0], 50);
    EXPECT_EQ(out[9], 59);
    std::memset(out, 0xaa, sizeof out);
    EXPECT_EQ(t.call(26, 0, 51, arg(out), 10), neg(EFAULT));
    for (std::uint8_t b : out) EXPECT_EQ(b, 0);
    EXPECT_EQ(t.call(26, 0, 0x80000000u, arg(out), 1), neg(EFAULT));
    t.ctx.packet = nullptr;
    EXPECT_EQ(t.call(26, 0, 0, arg(out), 1), neg(EFAULT));
}

TEST(CsumDiff, HandDerivedValues) {
    TestContext t;
    // Network words 0x0001 + 0x0002 = 0x0003, stored (and returned) in memory order: 0x0300 on little endian.
    const std::uint8_t to[4] = {0x00, 0x01, 0x00, 0x02};
    EXPECT_EQ(t.call(28, 0, 0, arg(to), 4, 0), 0x0300u);
    // Replacing a word by itself changes nothing: the one's-complement difference is "negative zero".
    EXPECT_EQ(t.call(28, arg(to), 4, arg(to), 4, 0), 0xffffu);
    // Removing the word from a seed that holds exactly it: ~(~0x0300 +' 0x02000100) folds to 0xffff
    // (one's-complement zero as the kernel represents it; checked against the kernel below).
    EXPECT_EQ(t.call(28, arg(to), 4, 0, 0, 0x0300), 0xffffu);
    // Removing it from a seed of 0x0500 (network 0x0005) leaves network 0x0002, i.e. 0x0200 in memory order.
    EXPECT_EQ(t.call(28, arg(to), 4, 0, 0, 0x0500), 0x0200u);
    EXPECT_EQ(t.call(28, 0, 0, 0, 0, 0x12345678), 0x12345678u);  // nothing to do: the seed
    EXPECT_EQ(t.call(28, arg(to), 2, arg(to), 4, 0), neg(EINVAL));
    EXPECT_EQ(t.call(28, arg(to), 4, arg(to), 6, 0), neg(EINVAL));
}

// One bpf_csum_diff call on words stored on the stack, as a sched_cls program for the kernel.
std::vector<isa::RawInsn> csum_program(const std::vector<std::uint32_t>& from, const std::vector<std::uint32_t>& to,
                                       std::uint32_t seed) {
    using namespace xbpf::test;
    std::vector<isa::RawInsn> p;
    const int from_off = -64, to_off = -128;
    for (std::size_t i = 0; i < from.size(); ++i)
        p.push_back(
            st_mem(Size::W, R10, static_cast<std::int16_t>(from_off + 4 * i), static_cast<std::int32_t>(from[i])));
    for (std::size_t i = 0; i < to.size(); ++i)
        p.push_back(st_mem(Size::W, R10, static_cast<std::int16_t>(to_off + 4 * i), static_cast<std::int32_t>(to[i])));
    const auto ptr = [&](std::uint8_t reg, int off, bool present) {
        if (!present) {
            p.push_back(mov64_imm(reg, 0));
            return;
        }
        p.push_back(mov64_reg(reg, R10));
        p.push_back(alu64_imm(Alu::Add, reg, off));
    };
    ptr(R1, from_off, !from.empty());
    p.push_back(mov64_imm(R2, static_cast<std::int32_t>(4 * from.size())));
    ptr(R3, to_off, !to.empty());
    p.push_back(mov64_imm(R4, static_cast<std::int32_t>(4 * to.size())));
    p.push_back(mov32_imm(R5, static_cast<std::int32_t>(seed)));
    p.push_back(call_helper(28));
    p.push_back(exit_insn());
    return p;
}

TEST(CsumDiff, AgreesWithTheKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << "bpf() unavailable: " << why;
    std::mt19937 rng(12345);
    std::vector<std::uint8_t> packet(64, 0);
    TestContext t;
    int compared = 0;
    for (int round = 0; round < 40; ++round) {
        std::vector<std::uint32_t> from(static_cast<std::size_t>(rng() % 5)), to(static_cast<std::size_t>(rng() % 5));
        for (auto& w : from) w = round % 7 == 0 ? 0 : rng();
        for (auto& w : to) w = round % 5 == 0 ? 0xffffffffu : rng();
        const std::uint32_t seed = round % 3 == 0 ? 0 : rng();
        auto prog = kernel::load(csum_program(from, to, seed), kernel::ProgType::SchedCls);
        ASSERT_TRUE(prog.has_value()) << prog.error().message;
        auto run = kernel::test_run(*prog, packet);
        ASSERT_TRUE(run.has_value()) << run.error().message;
        const u64 ours = t.call(28, from.empty() ? 0 : arg(from.data()), 4 * from.size(),
                                to.empty() ? 0 : arg(to.data()), 4 * to.size(), seed);
        EXPECT_EQ(static_cast<std::uint32_t>(ours), run->retval)
            << "round " << round << " from " << from.size() << " to " << to.size() << " seed " << seed;
        ++compared;
    }
    EXPECT_EQ(compared, 40);
}

}  // namespace
}  // namespace xbpf::helpers::test
