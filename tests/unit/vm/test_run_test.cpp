// The VM's program environment and BPF_PROG_TEST_RUN: map references (lddw pseudo sources), global data and its
// access rights, callbacks (bpf_loop, faults and depth inside callbacks), tail calls and their limit, and the
// contexts vm::test_run builds (xdp_md, __sk_buff, raw, tracing), checked against hand-derived values and, where
// bpf() works, against the kernel's own BPF_PROG_TEST_RUN.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "../../support/insn_builder.hpp"
#include "kernel/bpf_syscall.hpp"
#include "maps/array.hpp"
#include "maps/prog_array.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

using namespace xbpf::test;  // NOLINT(google-build-using-namespace)

constexpr std::int32_t kLoop = 181;
constexpr std::int32_t kTailCall = 12;

/// lddw dst, pseudo `src` with imm and next_imm (map references and function addresses).
Slots ld_pseudo(std::uint8_t dst, std::uint8_t src, std::int32_t imm, std::int32_t next_imm = 0) {
    RawInsn tail;
    tail.imm = next_imm;
    return Slots(make(Op::Lddw, dst, src, 0, imm), tail);
}

std::shared_ptr<maps::Map> array_map(const char* name, std::uint32_t value_size, std::uint32_t flags = 0) {
    maps::MapSpec s;
    s.name = name;
    s.type = maps::MapType::Array;
    s.key_size = 4;
    s.value_size = value_size;
    s.max_entries = 1;
    s.flags = flags;
    auto m = maps::create_map(s);
    EXPECT_TRUE(m.has_value());
    return *m;
}

maps::MapSpec map_spec(const char* name, maps::MapType type, std::uint32_t value_size, std::uint32_t max_entries) {
    maps::MapSpec s;
    s.name = name;
    s.type = type;
    s.key_size = 4;
    s.value_size = value_size;
    s.max_entries = max_entries;
    return s;
}

std::uint64_t max_entries_helper(std::uint64_t map, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                 RunState*) {
    return reinterpret_cast<maps::Map*>(map)->spec().max_entries;
}

// ---- maps in Program::load ----

TEST(ProgramEnv, MapReferenceLoadsTheMapObject) {
    HelperTable helpers;
    helpers.add({1000, "max_entries", max_entries_helper});
    auto hash = maps::create_map(map_spec("h", maps::MapType::Hash, 8, 77));
    ASSERT_TRUE(hash);
    const std::shared_ptr<maps::Map> table[] = {array_map("a", 8), *hash};
    for (std::uint8_t src : {isa::kPseudoMapFd, isa::kPseudoMapIdx}) {
        auto prog = program({ld_pseudo(R1, src, 1), call_helper(1000), exit_insn()});
        auto p = Program::load(prog, ProgramEnv{&helpers, table, 0});
        ASSERT_TRUE(p) << p.error().to_string();
        auto r = interpret(*p, RunInput{});
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->r0, 77u);
    }
}

TEST(ProgramEnv, UnknownMapIndexNamesTheInstruction) {
    const std::shared_ptr<maps::Map> table[] = {array_map("a", 8)};
    auto prog = program({mov64_imm(R0, 0), ld_pseudo(R1, isa::kPseudoMapIdx, 3), exit_insn()});
    auto p = Program::load(prog, ProgramEnv{nullptr, table, 0});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().where.insn, 1u);
    EXPECT_NE(p.error().message.find("map 3"), std::string::npos) << p.error().message;
}

TEST(ProgramEnv, WithoutAMapTableMapReferencesAreUnsupported) {
    auto prog = program({ld_pseudo(R1, isa::kPseudoMapIdx, 0), mov64_imm(R0, 0), exit_insn()});
    auto p = Program::load(prog);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::kUnsupported);
}

TEST(ProgramEnv, MapValueOffsetPastTheValueIsRefused) {
    const std::shared_ptr<maps::Map> table[] = {array_map("a", 8)};
    auto prog = program({ld_pseudo(R1, isa::kPseudoMapIdxValue, 0, 8), mov64_imm(R0, 0), exit_insn()});
    auto p = Program::load(prog, ProgramEnv{nullptr, table, 0});
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message.find("offset 8"), std::string::npos) << p.error().message;
}

TEST(ProgramEnv, GlobalDataIsReadableAndWritableInCheckedMode) {
    auto data = array_map("x.data", 16);
    const std::uint32_t zero = 0;
    auto* value = static_cast<std::uint64_t*>(data->lookup(&zero));
    value[1] = 40;
    const std::shared_ptr<maps::Map> table[] = {data};
    // r1 = &value + 8; r0 = *r1 + 2; *r1 = r0; exit
    auto prog = program({ld_pseudo(R1, isa::kPseudoMapIdxValue, 0, 8), ldx_mem(Size::DW, R0, R1, 0),
                         alu64_imm(Alu::Add, R0, 2), stx_mem(Size::DW, R1, R0, 0), exit_insn()});
    auto p = Program::load(prog, ProgramEnv{nullptr, table, 0});
    ASSERT_TRUE(p) << p.error().to_string();
    auto r = interpret(*p, RunInput{});
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->r0, 42u);
    EXPECT_EQ(value[1], 42u);
    // Past the value: a fault, not a write into the neighbour.
    auto past = program({ld_pseudo(R1, isa::kPseudoMapIdxValue, 0, 8), st_mem(Size::DW, R1, 8, 1), exit_insn()});
    auto q = Program::load(past, ProgramEnv{nullptr, table, 0});
    ASSERT_TRUE(q);
    EXPECT_FALSE(interpret(*q, RunInput{}));
}

TEST(ProgramEnv, ReadOnlyGlobalDataRefusesStores) {
    auto rodata = array_map("x.rodata", 8, maps::kFRdonlyProg);
    const std::shared_ptr<maps::Map> table[] = {rodata};
    auto read = program({ld_pseudo(R1, isa::kPseudoMapIdxValue, 0, 0), ldx_mem(Size::DW, R0, R1, 0), exit_insn()});
    auto p = Program::load(read, ProgramEnv{nullptr, table, 0});
    ASSERT_TRUE(p);
    EXPECT_TRUE(interpret(*p, RunInput{}));
    auto write = program(
        {ld_pseudo(R1, isa::kPseudoMapIdxValue, 0, 0), st_mem(Size::DW, R1, 0, 1), mov64_imm(R0, 0), exit_insn()});
    auto q = Program::load(write, ProgramEnv{nullptr, table, 0});
    ASSERT_TRUE(q);
    auto r = interpret(*q, RunInput{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where.insn, 2u);
    EXPECT_NE(r.error().message.find("invalid write"), std::string::npos) << r.error().message;
}

// ---- callbacks ----

/// main: r6 = &counter slot on the stack; bpf_loop(n, cb, r6, flags); r0 = result (or the counter if `ret_sum`).
/// cb(i, ctx): *(u64*)ctx += i; return i == stop_at.
std::vector<RawInsn> loop_program(std::int32_t n, std::int32_t flags, std::int32_t stop_at, bool ret_sum) {
    std::vector<RawInsn> p = program({
        st_mem(Size::DW, R10, -8, 0),                                // 0
        mov64_reg(R6, R10),                                          // 1
        alu64_imm(Alu::Add, R6, -8),                                 // 2
        mov64_imm(R1, n),                                            // 3
        ld_pseudo(R2, isa::kPseudoFunc, 0),                          // 4-5: imm patched below
        mov64_reg(R3, R6),                                           // 6
        mov64_imm(R4, flags),                                        // 7
        call_helper(kLoop),                                          // 8
        ret_sum ? ldx_mem(Size::DW, R0, R6, 0) : mov64_reg(R0, R0),  // 9
        exit_insn(),                                                 // 10
        // cb at 11
        ldx_mem(Size::DW, R3, R2, 0),       // 11
        alu64_reg(Alu::Add, R3, R1),        // 12
        stx_mem(Size::DW, R2, R3, 0),       // 13
        mov64_imm(R0, 0),                   // 14
        jmp_imm(Jmp::Jne, R1, stop_at, 1),  // 15
        mov64_imm(R0, 1),                   // 16
        exit_insn(),                        // 17
    });
    p[4].imm = 11 - 5;  // target = pc + 1 + imm = 11
    return p;
}

Result<RunResult> run_with_standard(const std::vector<RawInsn>& insns, bool checked = true) {
    auto p = Program::load(insns, &standard_helpers());
    if (!p) return std::unexpected(p.error());
    RunOptions o;
    o.checked = checked;
    return interpret(*p, RunInput{}, o);
}

TEST(Callbacks, BpfLoopRunsTheCallbackOnTheCallersStack) {
    for (bool checked : {true, false}) {
        auto r = run_with_standard(loop_program(10, 0, -1, true), checked);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->r0, 45u);  // 0 + 1 + ... + 9
        auto n = run_with_standard(loop_program(10, 0, -1, false), checked);
        ASSERT_TRUE(n);
        EXPECT_EQ(n->r0, 10u);  // iterations done
    }
}

TEST(Callbacks, BpfLoopStopsWhenTheCallbackReturnsOne) {
    auto r = run_with_standard(loop_program(10, 0, 3, false));
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->r0, 4u);  // i = 0..3, stopped after the fourth call
    auto sum = run_with_standard(loop_program(10, 0, 3, true));
    ASSERT_TRUE(sum);
    EXPECT_EQ(sum->r0, 6u);
}

TEST(Callbacks, BpfLoopArgumentErrors) {
    auto flags = run_with_standard(loop_program(10, 1, -1, false));
    ASSERT_TRUE(flags);
    EXPECT_EQ(static_cast<std::int64_t>(flags->r0), -EINVAL);
    auto big = run_with_standard(loop_program((1 << 23) + 1, 0, -1, false));
    ASSERT_TRUE(big);
    EXPECT_EQ(static_cast<std::int64_t>(big->r0), -E2BIG);
}

TEST(Callbacks, FaultInsideACallbackEndsTheRunWithItsError) {
    // cb reads from address 8: the whole run fails naming the callback's instruction.
    std::vector<RawInsn> p = program({
        mov64_imm(R1, 3),                    // 0
        ld_pseudo(R2, isa::kPseudoFunc, 5),  // 1-2: target 1 + 1 + 5 = 7
        mov64_imm(R3, 0),                    // 3
        mov64_imm(R4, 0),                    // 4
        call_helper(kLoop),                  // 5
        exit_insn(),                         // 6
        mov64_imm(R1, 8),                    // 7
        ldx_mem(Size::DW, R0, R1, 0),        // 8
        exit_insn(),                         // 9
    });
    auto r = run_with_standard(p);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kRuntime) << r.error().to_string();
    EXPECT_EQ(r.error().where.insn, 8u);
    EXPECT_NE(r.error().message.find("invalid read"), std::string::npos) << r.error().message;
}

TEST(Callbacks, CallbackAddressMustBeAFunction) {
    // r2 = 3 (not a function start: the callback address is the plain number 3).
    auto p = program(
        {mov64_imm(R1, 1), mov64_imm(R2, 3), mov64_imm(R3, 0), mov64_imm(R4, 0), call_helper(kLoop), exit_insn()});
    auto r = run_with_standard(p);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("not a function"), std::string::npos) << r.error().message;
}

TEST(Callbacks, NestedCallbacksHitTheFrameLimit) {
    // f: bpf_loop(1, f, 0, 0) — each level is a new frame; the ninth frame is refused.
    std::vector<RawInsn> p = program({
        mov64_imm(R1, 1),                     // 0
        ld_pseudo(R2, isa::kPseudoFunc, -2),  // 1-2: target 1 + 1 - 2 = 0
        mov64_imm(R3, 0),                     // 3
        mov64_imm(R4, 0),                     // 4
        call_helper(kLoop),                   // 5
        exit_insn(),                          // 6
    });
    auto r = run_with_standard(p);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("call depth exceeds 8"), std::string::npos) << r.error().to_string();
}

TEST(Callbacks, ForEachMapElemVisitsEveryElement) {
    auto array = maps::create_map(map_spec("arr", maps::MapType::Array, 8, 4));
    ASSERT_TRUE(array);
    for (std::uint32_t i = 0; i < 4; ++i) {
        const std::uint64_t v = i + 1;
        ASSERT_EQ((*array)->update_host(&i, &v), 0);
    }
    const std::shared_ptr<maps::Map> table[] = {*array};
    const auto build = [](bool write_key) {
        std::vector<RawInsn> p = program({
            st_mem(Size::DW, R10, -8, 0),          // 0: sum = 0
            ld_pseudo(R1, isa::kPseudoMapIdx, 0),  // 1-2
            ld_pseudo(R2, isa::kPseudoFunc, 10),   // 3-4: target 3 + 1 + 10 = 14
            mov64_reg(R3, R10),                    // 5
            alu64_imm(Alu::Add, R3, -8),           // 6
            mov64_imm(R4, 0),                      // 7
            call_helper(164),                      // 8
            mov64_reg(R6, R0),                     // 9: count
            ldx_mem(Size::DW, R0, R10, -8),        // 10
            alu64_imm(Alu::Mul, R0, 1000),         // 11
            alu64_reg(Alu::Add, R0, R6),           // 12: sum * 1000 + count
            exit_insn(),                           // 13
        });
        // cb(map, key, value, ctx) at 14: *ctx += *value (and touches the key)
        append(p, write_key ? st_mem(Size::W, R2, 0, 1) : ldx_mem(Size::W, R1, R2, 0));  // 14
        append(p, ldx_mem(Size::DW, R5, R3, 0));                                         // 15
        append(p, ldx_mem(Size::DW, R0, R4, 0));                                         // 16
        append(p, alu64_reg(Alu::Add, R0, R5));                                          // 17
        append(p, stx_mem(Size::DW, R4, R0, 0));                                         // 18
        append(p, mov64_imm(R0, 0));                                                     // 19
        append(p, exit_insn());                                                          // 20
        return p;
    };
    auto p = Program::load(build(false), ProgramEnv{&standard_helpers(), table, 0});
    ASSERT_TRUE(p) << p.error().to_string();
    for (bool checked : {true, false}) {
        RunOptions o;
        o.checked = checked;
        auto r = interpret(*p, RunInput{}, o);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->r0, 10u * 1000 + 4);  // values 1..4, four elements
    }
    // The key is read-only for the callback.
    auto q = Program::load(build(true), ProgramEnv{&standard_helpers(), table, 0});
    ASSERT_TRUE(q);
    auto r = interpret(*q, RunInput{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where.insn, 14u);
}

// ---- tail calls ----

object::ProgramSpec xdp_spec(const char* name) {
    object::ProgramSpec s;
    s.name = name;
    s.type = object::ProgramType::Xdp;
    return s;
}

TEST(TailCalls, AtMost33TailCallsThenTheCallFallsThrough) {
    auto counter = array_map("count", 16);
    auto jmp = maps::create_map(map_spec("jmp", maps::MapType::ProgArray, 4, 2));
    ASSERT_TRUE(jmp);
    const std::shared_ptr<maps::Map> table[] = {counter, *jmp};
    // count[0] += 1; r0 = tail_call(ctx, jmp, 0); count[1] = r0; return count[0]
    auto insns = program({
        mov64_reg(R6, R1),
        ld_pseudo(R2, isa::kPseudoMapIdxValue, 0, 0),
        ldx_mem(Size::DW, R1, R2, 0),
        alu64_imm(Alu::Add, R1, 1),
        stx_mem(Size::DW, R2, R1, 0),
        mov64_reg(R1, R6),
        ld_pseudo(R2, isa::kPseudoMapIdx, 1),
        mov64_imm(R3, 0),
        call_helper(kTailCall),
        ld_pseudo(R2, isa::kPseudoMapIdxValue, 0, 0),
        stx_mem(Size::DW, R2, R0, 8),
        ldx_mem(Size::DW, R0, R2, 0),
        exit_insn(),
    });
    auto p = Program::load(insns, ProgramEnv{&standard_helpers(), table, 6});
    ASSERT_TRUE(p) << p.error().to_string();
    const object::ProgramSpec spec = xdp_spec("self");
    auto loaded = std::make_shared<LoadedProgram>(&spec, std::move(*p), 1);
    auto* array = static_cast<maps::ProgArrayMap*>(jmp->get());
    ASSERT_EQ(array->set(0, loaded), 0);
    for (bool checked : {true, false}) {
        const std::uint32_t zero = 0;
        auto* value = static_cast<std::uint64_t*>(counter->lookup(&zero));
        value[0] = value[1] = 0;
        RunOptions o;
        o.checked = checked;
        auto r = interpret(loaded->program(), RunInput{}, o);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->r0, 34u);  // the entry run plus 33 tail calls
        EXPECT_EQ(static_cast<std::int64_t>(value[1]), -E2BIG);
    }
    // A missing slot fails with -ENOENT and the caller goes on.
    const std::uint32_t zero = 0;
    array->erase(&zero);
    auto* value = static_cast<std::uint64_t*>(counter->lookup(&zero));
    value[0] = value[1] = 0;
    auto r = interpret(loaded->program(), RunInput{});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->r0, 1u);
    EXPECT_EQ(static_cast<std::int64_t>(value[1]), -ENOENT);
}

// ---- test_run contexts ----

std::shared_ptr<LoadedProgram> loaded(const std::vector<RawInsn>& insns, object::ProgramType type,
                                      object::ProgramSpec& spec) {
    spec.name.assign(1, 'p');
    spec.type = type;
    auto p = Program::load(insns, &standard_helpers());
    EXPECT_TRUE(p) << p.error().to_string();
    return std::make_shared<LoadedProgram>(&spec, std::move(*p), 1);
}

std::vector<std::uint8_t> frame(std::size_t size, std::uint16_t ethertype = 0x0800) {
    std::vector<std::uint8_t> f(size, 0);
    for (std::size_t i = 0; i < size; ++i) f[i] = static_cast<std::uint8_t>(i + 1);
    for (int i = 0; i < 6; ++i) f[static_cast<std::size_t>(i)] = 0;  // destination 00:00:00:00:00:00 (lo)
    f[12] = static_cast<std::uint8_t>(ethertype >> 8);
    f[13] = static_cast<std::uint8_t>(ethertype);
    return f;
}

template <class T>
std::vector<std::uint8_t> bytes_of(const T& v) {
    std::vector<std::uint8_t> b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof(T));
    return b;
}

TEST(TestRun, XdpSeesItsPacketThroughXdpMd) {
    // r2 = ctx->data; r3 = ctx->data_end; *(u8*)r2 = 0xaa; r0 = r3 - r2
    auto insns =
        program({ldx_mem(Size::W, R2, R1, offsetof(xdp_md, data)), ldx_mem(Size::W, R3, R1, offsetof(xdp_md, data_end)),
                 st_mem(Size::B, R2, 0, 0xaa), mov64_reg(R0, R3), alu64_reg(Alu::Sub, R0, R2), exit_insn()});
    object::ProgramSpec spec;
    auto prog = loaded(insns, object::ProgramType::Xdp, spec);
    TestRunInput in;
    in.data_in = frame(60);
    in.repeat = 3;
    auto out = test_run(*prog, in);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->retval, 60u);
    auto expect = in.data_in;
    expect[0] = 0xaa;
    EXPECT_EQ(out->data_out, expect);
    EXPECT_TRUE(out->ctx_out.empty());

    // ctx_in: the kernel's rules (data_end at most the data size, data_meta 0).
    xdp_md md{};
    md.data_end = 60;
    md.ingress_ifindex = 1;
    in.ctx_in = bytes_of(md);
    out = test_run(*prog, in);
    ASSERT_TRUE(out) << out.error().to_string();
    ASSERT_EQ(out->ctx_out.size(), sizeof(xdp_md));
    xdp_md back{};
    std::memcpy(&back, out->ctx_out.data(), sizeof(back));
    EXPECT_EQ(back.data, 0u);
    EXPECT_EQ(back.data_end, 60u);
    EXPECT_EQ(back.ingress_ifindex, 1u);
    md.data_end = 61;  // past data_in
    in.ctx_in = bytes_of(md);
    EXPECT_EQ(test_run(*prog, in).error().code, ErrorCode::kInvalidArgument);
    md.data_end = 60;
    md.data_meta = 4;
    in.ctx_in = bytes_of(md);
    EXPECT_EQ(test_run(*prog, in).error().code, ErrorCode::kInvalidArgument);

    // Metadata: data = 8 bytes of metadata before the packet.
    md = {};
    md.data = 8;
    md.data_end = 60;
    in.ctx_in = bytes_of(md);
    out = test_run(*prog, in);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->retval, 52u);
    ASSERT_EQ(out->data_out.size(), 60u);
    EXPECT_EQ(out->data_out[8], 0xaa);

    in.ctx_in.clear();
    in.data_in.assign(13, 0);
    EXPECT_EQ(test_run(*prog, in).error().code, ErrorCode::kInvalidArgument);
}

TEST(TestRun, XdpContextIsReadOnly) {
    auto insns = program({st_mem(Size::W, R1, 0, 0), mov64_imm(R0, 2), exit_insn()});
    object::ProgramSpec spec;
    auto prog = loaded(insns, object::ProgramType::Xdp, spec);
    TestRunInput in;
    in.data_in = frame(20);
    auto out = test_run(*prog, in);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, ErrorCode::kRuntime);
}

std::vector<RawInsn> return_field(std::int16_t offset) {
    return program({ldx_mem(Size::W, R0, R1, offset), exit_insn()});
}

TEST(TestRun, SkbLengthAndProtocol) {
    object::ProgramSpec s1, s2, s3;
    auto sock_len = loaded(return_field(offsetof(__sk_buff, len)), object::ProgramType::SocketFilter, s1);
    auto tc_len = loaded(return_field(offsetof(__sk_buff, len)), object::ProgramType::SchedCls, s2);
    auto proto = loaded(return_field(offsetof(__sk_buff, protocol)), object::ProgramType::SchedCls, s3);
    TestRunInput in;
    in.data_in = frame(64, 0x86dd);
    auto a = test_run(*sock_len, in);
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->retval, 50u);  // the socket filter sees the packet after the Ethernet header
    auto expect = in.data_in;
    std::memset(expect.data(), 0, 14);  // and the kernel gives the header back zeroed
    EXPECT_EQ(a->data_out, expect);
    auto b = test_run(*tc_len, in);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->retval, 64u);
    EXPECT_EQ(b->data_out, in.data_in);
    auto c = test_run(*proto, in);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->retval, 0xdd86u);  // skb->protocol is network byte order
    in.data_in.resize(13);
    EXPECT_EQ(test_run(*sock_len, in).error().code, ErrorCode::kInvalidArgument);
}

TEST(TestRun, SkbContextInAndOut) {
    // cb[0] = cb[1] + mark; r0 = priority
    auto insns = program({ldx_mem(Size::W, R2, R1, offsetof(__sk_buff, cb) + 4),
                          ldx_mem(Size::W, R3, R1, offsetof(__sk_buff, mark)), alu64_reg(Alu::Add, R2, R3),
                          stx_mem(Size::W, R1, R2, offsetof(__sk_buff, cb)),
                          ldx_mem(Size::W, R0, R1, offsetof(__sk_buff, priority)), exit_insn()});
    object::ProgramSpec spec;
    auto prog = loaded(insns, object::ProgramType::SocketFilter, spec);
    __sk_buff skb{};
    skb.mark = 5;
    skb.priority = 9;
    skb.cb[1] = 30;
    TestRunInput in;
    in.data_in = frame(40);
    in.ctx_in = bytes_of(skb);
    auto out = test_run(*prog, in);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->retval, 9u);
    ASSERT_EQ(out->ctx_out.size(), sizeof(__sk_buff));
    __sk_buff back{};
    std::memcpy(&back, out->ctx_out.data(), sizeof(back));
    EXPECT_EQ(back.cb[0], 35u);
    EXPECT_EQ(back.ifindex, 1u);
    EXPECT_EQ(back.len, 0u);  // not reported back, as the kernel's convert_skb_to___skb

    skb.len = 1;  // not settable
    in.ctx_in = bytes_of(skb);
    EXPECT_EQ(test_run(*prog, in).error().code, ErrorCode::kInvalidArgument);

    // A socket filter may write cb only.
    object::ProgramSpec spec2;
    auto writer = loaded(program({st_mem(Size::W, R1, offsetof(__sk_buff, mark), 1), mov64_imm(R0, 0), exit_insn()}),
                         object::ProgramType::SocketFilter, spec2);
    in.ctx_in.clear();
    EXPECT_EQ(test_run(*writer, in).error().code, ErrorCode::kRuntime);
    object::ProgramSpec spec3;
    auto tc_writer = loaded(program({st_mem(Size::W, R1, offsetof(__sk_buff, mark), 1), mov64_imm(R0, 0), exit_insn()}),
                            object::ProgramType::SchedCls, spec3);
    EXPECT_TRUE(test_run(*tc_writer, in));
}

TEST(TestRun, RawAndTracingContexts) {
    object::ProgramSpec s1, s2;
    // raw: r0 = r2 (size) + first byte
    auto raw = loaded(program({ldx_mem(Size::B, R0, R1, 0), alu64_reg(Alu::Add, R0, R2), exit_insn()}),
                      object::ProgramType::Unspec, s1);
    TestRunInput in;
    in.data_in = {7, 1, 2};
    auto r = test_run(*raw, in);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 10u);
    // kprobe: ctx padded to pt_regs; reading its last word works, writing does not.
    auto kp = loaded(return_field(160), object::ProgramType::Kprobe, s2);
    in.data_in.clear();
    in.ctx_in = {1, 2, 3, 4};
    auto k = test_run(*kp, in);
    ASSERT_TRUE(k) << k.error().to_string();
    EXPECT_EQ(k->retval, 0u);
}

// ---- what the kernel does (verified with BPF_PROG_TEST_RUN on this machine) ----

struct KernelRun {
    std::uint32_t retval = 0;
    std::vector<std::uint8_t> data_out;
};

std::optional<KernelRun> kernel_run(const std::vector<RawInsn>& insns, kernel::ProgType type,
                                    const std::vector<std::uint8_t>& data) {
    auto fd = kernel::load(insns, type);
    if (!fd) return std::nullopt;
    KernelRun out;
    out.data_out.resize(data.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.data(), .data_out = out.data_out.data(),
                .data_size_in = static_cast<__u32>(data.size()),
                .data_size_out = static_cast<__u32>(out.data_out.size()), .repeat = 1);
    if (bpf_prog_test_run_opts(fd->get(), &opts) != 0) return std::nullopt;
    out.retval = opts.retval;
    out.data_out.resize(opts.data_size_out);
    return out;
}

TEST(TestRun, SkbMatchesTheKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << why;
    const auto data = frame(64, 0x0800);
    for (auto [type, ktype] : {std::pair{object::ProgramType::SocketFilter, kernel::ProgType::SocketFilter},
                               std::pair{object::ProgramType::SchedCls, kernel::ProgType::SchedCls}}) {
        for (std::int16_t field : {static_cast<std::int16_t>(offsetof(__sk_buff, len)),
                                   static_cast<std::int16_t>(offsetof(__sk_buff, protocol)),
                                   static_cast<std::int16_t>(offsetof(__sk_buff, pkt_type)),
                                   static_cast<std::int16_t>(offsetof(__sk_buff, ifindex))}) {
            const auto insns = return_field(field);
            auto k = kernel_run(insns, ktype, data);
            ASSERT_TRUE(k) << "kernel test run failed";
            object::ProgramSpec spec;
            auto prog = loaded(insns, type, spec);
            TestRunInput in;
            in.data_in = data;
            auto x = test_run(*prog, in);
            ASSERT_TRUE(x) << x.error().to_string();
            EXPECT_EQ(x->retval, k->retval) << "type " << static_cast<int>(type) << " field offset " << field;
            EXPECT_EQ(x->data_out, k->data_out) << "type " << static_cast<int>(type);
        }
    }
}

TEST(TestRun, XdpMatchesTheKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << why;
    const auto data = frame(64, 0x0800);
    const std::vector<std::vector<RawInsn>> programs = {
        return_field(offsetof(xdp_md, ingress_ifindex)),
        return_field(offsetof(xdp_md, rx_queue_index)),
        // r0 = data_end - data; the first byte becomes 0x5a
        program({ldx_mem(Size::W, R2, R1, offsetof(xdp_md, data)), ldx_mem(Size::W, R3, R1, offsetof(xdp_md, data_end)),
                 mov64_reg(R4, R2), alu64_imm(Alu::Add, R4, 1), jmp_reg(Jmp::Jgt, R4, R3, 1),
                 st_mem(Size::B, R2, 0, 0x5a), mov64_reg(R0, R3), alu64_reg(Alu::Sub, R0, R2), exit_insn()}),
    };
    for (const auto& insns : programs) {
        auto k = kernel_run(insns, kernel::ProgType::Xdp, data);
        ASSERT_TRUE(k) << "kernel test run failed";
        object::ProgramSpec spec;
        auto prog = loaded(insns, object::ProgramType::Xdp, spec);
        ASSERT_GT(k->data_out.size(), 0u);
        TestRunInput in;
        in.data_in = data;
        auto x = test_run(*prog, in);
        ASSERT_TRUE(x) << x.error().to_string();
        EXPECT_EQ(x->retval, k->retval);
        EXPECT_EQ(x->data_out, k->data_out);
    }
}

/// Runs the same program with `data` and context `ctx` in the kernel (prog_fd) and in xbpf: both accept or both
/// refuse the context, and on success retval, data_out and ctx_out are identical.
template <class Ctx>
void expect_ctx_run_like_kernel(int prog_fd, const LoadedProgram& prog, const std::vector<std::uint8_t>& data,
                                const Ctx& ctx, const char* what) {
    Ctx kctx = ctx;
    Ctx kout{};
    std::vector<std::uint8_t> kdata(data.size() + 64);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.data(), .data_out = kdata.data(),
                .data_size_in = static_cast<__u32>(data.size()), .data_size_out = static_cast<__u32>(kdata.size()),
                .ctx_in = &kctx, .ctx_out = &kout, .ctx_size_in = sizeof(kctx), .ctx_size_out = sizeof(kout));
    const int kerr = bpf_prog_test_run_opts(prog_fd, &opts);
    TestRunInput in;
    in.data_in = data;
    in.ctx_in = bytes_of(ctx);
    auto x = test_run(prog, in);
    ASSERT_EQ(kerr == 0, x.has_value()) << what << ": kernel " << kerr << ", xbpf "
                                        << (x ? std::string("ok") : x.error().to_string());
    if (!x) return;
    EXPECT_EQ(x->retval, opts.retval) << what;
    kdata.resize(opts.data_size_out);
    EXPECT_EQ(x->data_out, kdata) << what;
    EXPECT_EQ(x->ctx_out, bytes_of(kout)) << what;
}

TEST(TestRun, XdpCtxInRulesMatchTheKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << why;
    const auto data = frame(64, 0x0800);
    // r0 = data - data_meta (the metadata length the program sees)
    const auto insns = program({ldx_mem(Size::W, R2, R1, offsetof(xdp_md, data)),
                                ldx_mem(Size::W, R3, R1, offsetof(xdp_md, data_meta)), mov64_reg(R0, R2),
                                alu64_reg(Alu::Sub, R0, R3), exit_insn()});
    auto fd = kernel::load(insns, kernel::ProgType::Xdp);
    ASSERT_TRUE(fd) << fd.error().to_string();
    object::ProgramSpec spec;
    auto prog = loaded(insns, object::ProgramType::Xdp, spec);
    struct Case {
        const char* what;
        xdp_md md;
    };
    const Case cases[] = {
        {"all zero (data_end 0)", xdp_md{}},
        {"data_end = size", xdp_md{.data = 0,
                                   .data_end = 64,
                                   .data_meta = 0,
                                   .ingress_ifindex = 0,
                                   .rx_queue_index = 0,
                                   .egress_ifindex = 0}},
        {"8 bytes of metadata", xdp_md{.data = 8,
                                       .data_end = 64,
                                       .data_meta = 0,
                                       .ingress_ifindex = 0,
                                       .rx_queue_index = 0,
                                       .egress_ifindex = 0}},
        {"metadata not a multiple of 4", xdp_md{.data = 6,
                                                .data_end = 64,
                                                .data_meta = 0,
                                                .ingress_ifindex = 0,
                                                .rx_queue_index = 0,
                                                .egress_ifindex = 0}},
        {"data_meta set", xdp_md{.data = 0,
                                 .data_end = 64,
                                 .data_meta = 4,
                                 .ingress_ifindex = 0,
                                 .rx_queue_index = 0,
                                 .egress_ifindex = 0}},
        {"egress_ifindex set", xdp_md{.data = 0,
                                      .data_end = 64,
                                      .data_meta = 0,
                                      .ingress_ifindex = 0,
                                      .rx_queue_index = 0,
                                      .egress_ifindex = 1}},
        {"loopback, queue 0", xdp_md{.data = 0,
                                     .data_end = 64,
                                     .data_meta = 0,
                                     .ingress_ifindex = 1,
                                     .rx_queue_index = 0,
                                     .egress_ifindex = 0}},
        {"data_end 20", xdp_md{.data = 0,
                               .data_end = 20,
                               .data_meta = 0,
                               .ingress_ifindex = 0,
                               .rx_queue_index = 0,
                               .egress_ifindex = 0}},
        {"data_end 10", xdp_md{.data = 0,
                               .data_end = 10,
                               .data_meta = 0,
                               .ingress_ifindex = 0,
                               .rx_queue_index = 0,
                               .egress_ifindex = 0}},
        {"data_end 65", xdp_md{.data = 0,
                               .data_end = 65,
                               .data_meta = 0,
                               .ingress_ifindex = 0,
                               .rx_queue_index = 0,
                               .egress_ifindex = 0}},
        {"40 bytes of metadata", xdp_md{.data = 40,
                                        .data_end = 64,
                                        .data_meta = 0,
                                        .ingress_ifindex = 0,
                                        .rx_queue_index = 0,
                                        .egress_ifindex = 0}},
        {"ifindex 2", xdp_md{.data = 0,
                             .data_end = 64,
                             .data_meta = 0,
                             .ingress_ifindex = 2,
                             .rx_queue_index = 0,
                             .egress_ifindex = 0}},
        {"ifindex 99", xdp_md{.data = 0,
                              .data_end = 64,
                              .data_meta = 0,
                              .ingress_ifindex = 99,
                              .rx_queue_index = 0,
                              .egress_ifindex = 0}},
        {"loopback, queue 1", xdp_md{.data = 0,
                                     .data_end = 64,
                                     .data_meta = 0,
                                     .ingress_ifindex = 1,
                                     .rx_queue_index = 1,
                                     .egress_ifindex = 0}},
    };
    for (const Case& c : cases) expect_ctx_run_like_kernel(fd->get(), *prog, data, c.md, c.what);
}

TEST(TestRun, SkbCtxInMatchesTheKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << why;
    auto data = frame(64, 0x0800);
    data[0] = 0x02;  // a unicast address that is not the device's
    // cb[0] = cb[1] + mark; mark = pkt_type * 16 + ifindex; r0 = priority + ingress_ifindex
    const auto insns = program(
        {ldx_mem(Size::W, R2, R1, offsetof(__sk_buff, cb) + 4), ldx_mem(Size::W, R3, R1, offsetof(__sk_buff, mark)),
         alu64_reg(Alu::Add, R2, R3), stx_mem(Size::W, R1, R2, offsetof(__sk_buff, cb)),
         ldx_mem(Size::W, R2, R1, offsetof(__sk_buff, pkt_type)), alu64_imm(Alu::Lsh, R2, 4),
         ldx_mem(Size::W, R3, R1, offsetof(__sk_buff, ifindex)), alu64_reg(Alu::Add, R2, R3),
         stx_mem(Size::W, R1, R2, offsetof(__sk_buff, mark)), ldx_mem(Size::W, R0, R1, offsetof(__sk_buff, priority)),
         ldx_mem(Size::W, R3, R1, offsetof(__sk_buff, ingress_ifindex)), alu64_reg(Alu::Add, R0, R3), exit_insn()});
    auto fd = kernel::load(insns, kernel::ProgType::SchedCls);
    ASSERT_TRUE(fd) << fd.error().to_string();
    object::ProgramSpec spec;
    auto prog = loaded(insns, object::ProgramType::SchedCls, spec);
    struct Case {
        const char* what;
        __sk_buff skb;
    };
    std::vector<Case> cases(6);
    cases[0].what = "all zero";
    cases[1].what = "mark, priority, cb, ingress_ifindex";
    cases[1].skb.mark = 3;
    cases[1].skb.priority = 100;
    cases[1].skb.cb[1] = 7;
    cases[1].skb.ingress_ifindex = 5;
    cases[2].what = "len is not settable";
    cases[2].skb.len = 1;
    cases[3].what = "tc_index is not settable";
    cases[3].skb.tc_index = 1;
    cases[4].what = "ifindex 99 does not exist";
    cases[4].skb.ifindex = 99;
    cases[5].what = "wire_len below the length";
    cases[5].skb.wire_len = 10;
    for (const Case& c : cases) expect_ctx_run_like_kernel(fd->get(), *prog, data, c.skb, c.what);
}

}  // namespace
}  // namespace xbpf::vm
