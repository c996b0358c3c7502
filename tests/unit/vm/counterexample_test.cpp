// Counterexamples for verifier findings (src/vm/counterexample.hpp): for each classic mistake the search finds an
// input that makes the checked interpreter fault at the rejected instruction (or leave a ring buffer record
// reserved), and for a rejection that is not a fault at run time it claims nothing.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <filesystem>
#include <string>

#include "../../support/insn_builder.hpp"
#include "object/object_spec.hpp"
#include "verifier/verifier.hpp"
#include "vm/counterexample.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

using namespace xbpf::test;  // NOLINT(google-build-using-namespace)

/// A program of `type` loaded without maps, with the verifier's report for `mem_size` bytes of raw memory.
struct Loaded {
    object::ProgramSpec spec;
    std::unique_ptr<LoadedProgram> program;
    verifier::VerifyReport report;
};

std::unique_ptr<Loaded> load(std::vector<RawInsn> insns, object::ProgramType type, std::uint32_t mem_size = 0) {
    auto l = std::make_unique<Loaded>();
    l->spec.name = "prog";
    l->spec.type = type;
    l->spec.insns = std::move(insns);
    verifier::VerifyOptions vo;
    vo.type = type;
    vo.raw_memory_size = mem_size;
    l->report = verifier::verify(l->spec.insns, vo);
    auto p = Program::load(l->spec.insns, ProgramEnv{&standard_helpers(), {}, static_cast<std::uint32_t>(type)});
    EXPECT_TRUE(p.has_value()) << p.error().to_string();
    if (!p) return nullptr;
    l->program = std::make_unique<LoadedProgram>(&l->spec, std::move(*p), 0, l->report);
    return l;
}

TEST(Counterexample, RawMemoryReadPastTheEnd) {
    // r0 = *(u8 *)(r1 + 8) with 8 bytes of memory: one byte past the end, whatever the contents.
    auto l = load(program({ldx_mem(Size::B, R0, R1, 8), exit_insn()}), object::ProgramType::Unspec, 8);
    ASSERT_TRUE(l);
    ASSERT_FALSE(l->report.accepted);
    CounterexampleOptions co;
    co.raw_memory_size = 8;
    auto cx = find_counterexample(*l->program, l->report.findings.front(), co);
    ASSERT_TRUE(cx.has_value());
    EXPECT_EQ(cx->insn, 0u);
    EXPECT_EQ(cx->size, 8u);
    EXPECT_EQ(cx->data_in.size(), 8u);
    EXPECT_NE(cx->summary.find("8 bytes of memory"), std::string::npos) << cx->summary;
    EXPECT_NE(cx->summary.find("instruction 0 read 1 byte outside"), std::string::npos) << cx->summary;
    EXPECT_NE(cx->error.find("invalid read of 1 byte"), std::string::npos) << cx->error;
}

TEST(Counterexample, DataDependentIndexNeedsTheRightContents) {
    // r2 = mem[0]; if r2 != 0x42 goto out; r0 = *(u8 *)(r1 + 16) (past 16 bytes); out: exit. Only contents with
    // 0x42 at offset 0 fault: the constants of the program's jumps written at its load offsets find them.
    auto l = load(program({ldx_mem(Size::B, R2, R1, 0), mov64_imm(R0, 0), jmp_imm(Jmp::Jne, R2, 0x42, 1),
                           ldx_mem(Size::B, R0, R1, 16), exit_insn()}),
                  object::ProgramType::Unspec, 16);
    ASSERT_TRUE(l);
    ASSERT_FALSE(l->report.accepted);
    CounterexampleOptions co;
    co.raw_memory_size = 16;
    auto cx = find_counterexample(*l->program, l->report.findings.front(), co);
    ASSERT_TRUE(cx.has_value());
    EXPECT_EQ(cx->insn, 3u);
    ASSERT_EQ(cx->data_in.size(), 16u);
    EXPECT_EQ(cx->data_in[0], 0x42);
    EXPECT_GT(cx->tries, 2u);  // zeros, 0xff and plain random contents do not fault
}

TEST(Counterexample, NothingIsClaimedForARejectionThatDoesNotFault) {
    // r0 = r3 reads an uninitialised register: rejected, but the interpreter runs it without a fault.
    auto l = load(program({mov64_reg(R0, R3), exit_insn()}), object::ProgramType::Unspec, 8);
    ASSERT_TRUE(l);
    ASSERT_FALSE(l->report.accepted);
    CounterexampleOptions co;
    co.raw_memory_size = 8;
    EXPECT_FALSE(find_counterexample(*l->program, l->report.findings.front(), co).has_value());
    // A safe read the verifier rejects only for lack of a bounds check that the memory size makes moot is
    // covered by the same rule: no run faults at the instruction, so nothing is printed.
}

TEST(Counterexample, XdpPacketShorterThanTheRead) {
    // r2 = ctx->data; r0 = *(u16 *)(r2 + 12): the Ethernet protocol read without a bounds check.
    auto l = load(program({ldx_mem(Size::W, R2, R1, 0), ldx_mem(Size::H, R0, R2, 12), exit_insn()}),
                  object::ProgramType::Xdp);
    ASSERT_TRUE(l);
    ASSERT_FALSE(l->report.accepted);
    auto cx = find_counterexample(*l->program, l->report.findings.front());
    ASSERT_TRUE(cx.has_value());
    EXPECT_EQ(cx->insn, 1u);
    EXPECT_LT(cx->size, 14u);
    EXPECT_EQ(cx->ctx_in.size(), sizeof(xdp_md));  // a linear part under 14 bytes is given through ctx_in
    EXPECT_NE(cx->summary.find("read 2 bytes outside the packet"), std::string::npos) << cx->summary;
    // The input reproduces the fault through test_run (with the strict packet region).
    TestRunInput in;
    in.data_in = cx->data_in;
    in.ctx_in = cx->ctx_in;
    in.strict_packet = true;
    auto run = test_run(*l->program, in);
    ASSERT_FALSE(run.has_value());
    EXPECT_EQ(run.error().where.insn, std::optional<std::size_t>(1));
}

TEST(Counterexample, StrictPacketRegionEndsAtDataEnd) {
    // Reading byte 20 of a 16-byte xdp packet: inside the frame (no fault by default), outside the packet.
    auto l = load(program({ldx_mem(Size::W, R2, R1, 0), ldx_mem(Size::B, R0, R2, 20), exit_insn()}),
                  object::ProgramType::Xdp);
    ASSERT_TRUE(l);
    TestRunInput in;
    in.data_in.assign(16, 0);
    EXPECT_TRUE(test_run(*l->program, in).has_value());
    in.strict_packet = true;
    auto run = test_run(*l->program, in);
    ASSERT_FALSE(run.has_value());
    EXPECT_EQ(run.error().code, ErrorCode::kRuntime);
}

TEST(Counterexample, UnsupportedTypesGetNone) {
    auto l = load(program({ldx_mem(Size::DW, R0, R1, 4096), exit_insn()}), object::ProgramType::Kprobe);
    ASSERT_TRUE(l);
    ASSERT_FALSE(l->report.accepted);
    EXPECT_FALSE(counterexample_supported(object::ProgramType::Kprobe));
    EXPECT_FALSE(find_counterexample(*l->program, l->report.findings.front()).has_value());
}

// tests/programs/unsafe.bpf.c: the three classic mistakes each get a counterexample.
TEST(Counterexample, ClassicMistakesOfUnsafeBpfC) {
    const std::string path = std::string(XBPF_BINARY_DIR) + "/tests/programs/unsafe.bpf.o";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "tests/programs were not built";
    auto spec = object::parse_object_file(path);
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    LoadOptions lo;
    lo.verify = LoadOptions::Verify::Report;
    auto obj = Object::load(*spec, lo);
    ASSERT_TRUE(obj.has_value()) << obj.error().to_string();
    struct Expect {
        const char* program;
        const char* summary;
        std::size_t max_size;  ///< the input that misbehaves is shorter than this
    };
    for (const Expect& e : {Expect{"no_null_check", "a NULL pointer", 4096},
                            Expect{"no_bounds_check", "read 2 bytes outside the packet", 14},
                            Expect{"leaks_record", "ring buffer record neither submitted nor discarded", 64}}) {
        const LoadedProgram* p = (*obj)->program(e.program);
        ASSERT_NE(p, nullptr) << e.program;
        ASSERT_TRUE(p->verification().has_value());
        ASSERT_FALSE(p->verification()->accepted) << e.program;
        const verifier::Finding& f = p->verification()->findings.front();
        CounterexampleOptions co;
        co.maps = (*obj)->maps();
        auto cx = find_counterexample(*p, f, co);
        ASSERT_TRUE(cx.has_value()) << e.program << ": " << f.to_string();
        EXPECT_EQ(cx->insn, f.insn);
        EXPECT_NE(cx->summary.find(e.summary), std::string::npos) << e.program << ": " << cx->summary;
        EXPECT_LT(cx->size, e.max_size) << e.program << ": " << cx->summary;
    }
}

}  // namespace
}  // namespace xbpf::vm
