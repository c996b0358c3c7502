// bpf_probe_read_* and the user stack helpers.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "helper_test_util.hpp"
#include "maps/stack_trace.hpp"

namespace xbpf::helpers::test {
namespace {

// Two pages: the first readable, the second PROT_NONE.
struct Guarded {
    std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    char* base =
        static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    Guarded() { mprotect(base + page, page, PROT_NONE); }
    ~Guarded() { munmap(base, 2 * page); }
    char* edge(std::size_t n) { return base + page - n; }  // n readable bytes before the guard page
};

TEST(ProbeRead, UserReadsAndFaults) {
    TestContext t;
    const char src[] = "0123456789";
    char dst[8];
    EXPECT_EQ(t.call(112, arg(dst), 8, arg(src)), 0u);
    EXPECT_EQ(std::memcmp(dst, src, 8), 0);
    EXPECT_EQ(t.call(112, arg(dst), 0, 0), 0u);  // size 0
    std::memset(dst, 'x', sizeof dst);
    EXPECT_EQ(t.call(112, arg(dst), 8, 0), neg(EFAULT));
    for (char c : dst) EXPECT_EQ(c, 0);
    Guarded g;
    std::memcpy(g.edge(4), "abcd", 4);
    std::memset(dst, 'x', sizeof dst);
    EXPECT_EQ(t.call(112, arg(dst), 8, arg(g.edge(4))), neg(EFAULT));  // partial read is a fault
    for (char c : dst) EXPECT_EQ(c, 0);
    EXPECT_EQ(t.call(112, arg(dst), 4, arg(g.edge(4))), 0u);
    EXPECT_EQ(std::memcmp(dst, "abcd", 4), 0);
    // Legacy bpf_probe_read picks user memory for user addresses, kernel (none here) above TASK_SIZE.
    EXPECT_EQ(t.call(4, arg(dst), 4, arg(src)), 0u);
    EXPECT_EQ(t.call(4, arg(dst), 4, 0xffffffff81000000ULL), neg(EFAULT));
}

TEST(ProbeRead, KernelMemoryIsOnlyWhatTheRunOwns) {
    TestContext t;
    const u64 v = 5;
    const u64 foreign = 7;
    const char str[] = "ab";
    t.owned = {{&v, sizeof v}, {str, sizeof str}};
    u64 dst = 99;
    EXPECT_EQ(t.call(113, arg(&dst), 8, arg(&v)), 0u);
    EXPECT_EQ(dst, 5u);
    EXPECT_EQ(t.call(113, arg(&dst), 8, arg(&foreign)), neg(EFAULT));  // host memory the run was not given
    EXPECT_EQ(dst, 0u);
    char s[4] = {'x', 'x', 'x', 'x'};
    EXPECT_EQ(t.call(115, arg(s), 4, arg(str)), 3u);
    EXPECT_STREQ(s, "ab");
    std::memset(s, 'x', sizeof s);
    EXPECT_EQ(t.call(115, arg(s), 4, arg("cd")), neg(EFAULT));
    EXPECT_EQ(std::memcmp(s, "\0\0\0\0", 4), 0);
    EXPECT_EQ(t.call(115, arg(s), 0, arg(str)), 0u);
    t.ctx.owns = nullptr;  // no engine: nothing is kernel memory
    EXPECT_EQ(t.call(113, arg(&dst), 8, arg(&v)), neg(EFAULT));
}

TEST(ProbeRead, OverlappingReadsOfOwnMemoryCopyAsMemmoveWhereverTheBuffersLie) {
    // A program may copy its own memory onto itself (found by fuzz_jit: the result depended on page boundaries,
    // so the interpreter's and the JIT's runs on differently placed buffers disagreed). Every placement across a
    // page boundary, both directions, gives memmove's result.
    TestContext t;
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::vector<std::uint8_t> block(3 * page);
    t.owned = {{block.data(), block.size()}};
    for (std::size_t at : {page - 100, page - 63, page - 1, page, page + 17})
        for (long shift : {63L, -63L, 1L, -1L})
            for (const std::int32_t helper : {113, 112}) {  // bpf_probe_read_kernel, _user (this process)
                for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<std::uint8_t>(i * 7 + 3);
                std::vector<std::uint8_t> want = block;
                std::uint8_t* src = block.data() + at;
                std::uint8_t* dst = src + shift;
                std::memmove(want.data() + at + shift, want.data() + at, 193);
                EXPECT_EQ(t.call(helper, arg(dst), 193, arg(src)), 0u);
                EXPECT_EQ(block, want) << "helper " << helper << ", source at " << at << ", destination " << shift
                                       << " bytes from it";
            }
}

TEST(ProbeRead, StringsCountTheNulAndTruncate) {
    TestContext t;
    char dst[8];
    std::memset(dst, 'x', sizeof dst);
    EXPECT_EQ(t.call(114, arg(dst), 8, arg("abc")), 4u);
    EXPECT_STREQ(dst, "abc");
    EXPECT_EQ(dst[4], 'x');  // nothing written past the NUL
    EXPECT_EQ(t.call(114, arg(dst), 4, arg("abcdef")), 4u);
    EXPECT_STREQ(dst, "abc");
    EXPECT_EQ(t.call(114, arg(dst), 0, arg("abc")), 0u);
    EXPECT_EQ(t.call(45, arg(dst), 8, arg("hi")), 3u);
    Guarded g;
    std::memcpy(g.edge(3), "xyz", 3);  // no NUL before the guard page
    std::memset(dst, 'q', sizeof dst);
    EXPECT_EQ(t.call(114, arg(dst), 8, arg(g.edge(3))), neg(EFAULT));
    for (char c : dst) EXPECT_EQ(c, 0);
    EXPECT_EQ(t.call(114, arg(dst), 3, arg(g.edge(3))), 3u);  // truncated before the guard: fine
    EXPECT_STREQ(dst, "xy");
    std::memcpy(g.edge(3), "xy", 3);
    EXPECT_EQ(t.call(114, arg(dst), 8, arg(g.edge(3))), 3u);
}

TEST(ProbeRead, EnvironmentReaderIsUsed) {
    TestContext t;
    t.env.read_user = [](void* dst, std::uint64_t src, std::size_t n) -> long {
        if (src != 0x1000) return -EFAULT;
        std::memset(dst, 'r', n);
        return static_cast<long>(n < 5 ? n : 5);  // 5 readable bytes, no NUL
    };
    char dst[8];
    EXPECT_EQ(t.call(112, arg(dst), 4, 0x1000), 0u);
    EXPECT_EQ(std::memcmp(dst, "rrrr", 4), 0);
    EXPECT_EQ(t.call(112, arg(dst), 8, 0x1000), neg(EFAULT));
    EXPECT_EQ(t.call(114, arg(dst), 5, 0x1000), 5u);
    EXPECT_STREQ(dst, "rrrr");
}

// A fake user stack: three frames chained through bp, each { next_bp, return_address }.
struct FakeStack {
    std::uint64_t frames[3][2];
    alignas(8) unsigned char regs[168] = {};  // struct pt_regs
    FakeStack() {
        frames[0][0] = reinterpret_cast<std::uint64_t>(frames[1]);
        frames[0][1] = 0x1001;
        frames[1][0] = reinterpret_cast<std::uint64_t>(frames[2]);
        frames[1][1] = 0x1002;
        frames[2][0] = 0;
        frames[2][1] = 0x1003;
        const std::uint64_t ip = 0x1000, bp = reinterpret_cast<std::uint64_t>(frames[0]);
        std::memcpy(regs + 128, &ip, 8);
        std::memcpy(regs + 32, &bp, 8);
    }
};

TEST(StackHelpers, GetStackWalksFramePointers) {
    TestContext t;
    FakeStack s;
    t.ctx.prog_type = 2;  // kprobe
    t.ctx.ctx = arg(s.regs);
    std::uint64_t buf[6];
    std::memset(buf, 0xff, sizeof buf);
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), sizeof buf, maps::kFUserStack), 32u);
    EXPECT_EQ(buf[0], 0x1000u);
    EXPECT_EQ(buf[1], 0x1001u);
    EXPECT_EQ(buf[2], 0x1002u);
    EXPECT_EQ(buf[3], 0x1003u);
    EXPECT_EQ(buf[4], 0u);                                                         // zero-filled
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), 16, maps::kFUserStack | 1), 16u);  // skip 1, room for 2
    EXPECT_EQ(buf[0], 0x1001u);
    EXPECT_EQ(buf[1], 0x1002u);
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), 16, maps::kFUserStack | 9), neg(EFAULT));  // skip too many
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), 12, maps::kFUserStack), neg(EINVAL));      // not a multiple of 8
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), 16, 1u << 12), neg(EINVAL));               // unknown flag
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), 16, 0), 0u);  // kernel stack: none for user-mode registers
    t.ctx.prog_type = 6;                                      // xdp: no registers
    EXPECT_EQ(t.call(67, arg(s.regs), arg(buf), 16, maps::kFUserStack), 0u);
}

TEST(StackHelpers, GetStackidStoresTraces) {
    TestContext t;
    FakeStack s;
    t.ctx.prog_type = 7;  // perf_event
    t.ctx.ctx = arg(s.regs);
    auto m = make_map(maps::MapType::StackTrace, 4, 8 * 8, 16);
    const u64 id = t.call(27, arg(s.regs), arg(m.get()), maps::kFUserStack);
    ASSERT_LT(static_cast<std::int64_t>(id), 16);
    EXPECT_EQ(t.call(27, arg(s.regs), arg(m.get()), maps::kFUserStack), id);  // same trace, same id
    std::uint64_t value[8];
    const std::uint32_t key = static_cast<std::uint32_t>(id);
    ASSERT_EQ(m->lookup_copy(&key, value), 0);
    EXPECT_EQ(value[0], 0x1000u);
    EXPECT_EQ(value[3], 0x1003u);
    EXPECT_EQ(value[4], 0u);
    EXPECT_EQ(t.call(27, arg(s.regs), arg(m.get()), 0), neg(EFAULT));                      // kernel stack
    EXPECT_EQ(t.call(27, arg(s.regs), arg(m.get()), maps::kFUserStack | 4), neg(EFAULT));  // all skipped
    EXPECT_EQ(t.call(27, arg(s.regs), arg(m.get()), maps::kFUserStack | (1u << 11)), neg(EINVAL));
    auto arr = make_map(maps::MapType::Array, 4, 8, 1);
    EXPECT_EQ(t.call(27, arg(s.regs), arg(arr.get()), maps::kFUserStack), neg(EINVAL));
}

}  // namespace
}  // namespace xbpf::helpers::test
