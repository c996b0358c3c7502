// Differential tests: the same programs run in the Linux kernel (BPF_PROG_LOAD + BPF_PROG_TEST_RUN, socket filter)
// and in the xbpf interpreter (checked mode) must return the same r0. The kernel is the reference.
//
// BPF_PROG_TEST_RUN reports r0 truncated to 32 bits, so every program runs twice: as generated, and with
// `r0 >>= 32` before its exit. For socket filters the test-run skb's data starts after the 14-byte Ethernet header
// of the input (net/bpf/test_run.c: eth_type_trans pulls it; only tc programs push it back), so LD_ABS offset 0
// reads input byte 14: xbpf gets the input without its first 14 bytes as its packet.
#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kernel/bpf_syscall.hpp"
#include "support/insn_builder.hpp"
#include "support/program_gen.hpp"
#include "vm/vm.hpp"

namespace xbpf::test {
namespace {

constexpr std::size_t kEthHeaderBytes = 14;
constexpr std::size_t kInputBytes = 64;

std::vector<std::uint8_t> test_input() {
    std::vector<std::uint8_t> data(kInputBytes);
    SplitMix64 rng(0xda7a);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng.next());
    return data;
}

std::string dump(std::span<const RawInsn> prog) {
    std::string out;
    for (std::size_t i = 0; i < prog.size(); ++i) {
        const RawInsn& r = prog[i];
        const auto op = isa::lookup(r.opcode, r.src, r.off, r.imm);
        out += fmt::format("  {:3}: {:<16} dst=r{} src=r{} off={} imm={:#x}\n", i,
                           op ? isa::info(*op).name : std::string_view("(tail/unknown)"), r.dst, r.src, r.off,
                           static_cast<std::uint32_t>(r.imm));
        if (op == Op::Lddw && i + 1 < prog.size()) ++i;  // the tail is shown in the head's value
    }
    return out;
}

/// What one back end made of a program.
struct KernelRun {
    bool accepted = false;
    std::string error;  // load or run failure
    std::uint32_t r0 = 0;
};

KernelRun run_kernel(std::span<const RawInsn> prog, std::span<const std::uint8_t> input, bool want_log = false) {
    KernelRun out;
    std::string log;
    auto fd = kernel::load(prog, kernel::ProgType::SocketFilter, want_log ? &log : nullptr);
    if (!fd) {
        out.error = fd.error().message;
        return out;
    }
    out.accepted = true;
    auto r = kernel::test_run(*fd, input);
    if (!r) {
        out.error = r.error().message;
        return out;
    }
    out.r0 = r->retval;
    return out;
}

Result<std::uint64_t> run_xbpf(std::span<const RawInsn> prog, std::span<const std::uint8_t> input) {
    auto loaded = vm::Program::load(prog);
    if (!loaded) return std::unexpected(loaded.error());
    vm::RunInput in;
    in.packet = input.subspan(kEthHeaderBytes);
    auto r = vm::interpret(*loaded, in, vm::RunOptions{.checked = true, .insn_budget = 1u << 20});
    if (!r) return std::unexpected(r.error());
    return r->r0;
}

/// Compares the two back ends on `prog` (one variant). Returns a description of any disagreement.
struct Verdict {
    bool accepted = false;
    std::optional<std::string> problem;
};

Verdict compare(std::span<const RawInsn> prog, std::span<const std::uint8_t> input) {
    Verdict v;
    const KernelRun k = run_kernel(prog, input);
    if (!k.accepted) return v;
    v.accepted = true;
    if (!k.error.empty()) {
        v.problem = "kernel test run failed: " + k.error;
        return v;
    }
    const auto x = run_xbpf(prog, input);
    if (!x)
        v.problem = fmt::format("kernel r0 (low 32) = {:#x}, xbpf error: {}", k.r0, x.error().to_string());
    else if (static_cast<std::uint32_t>(*x) != k.r0)
        v.problem = fmt::format("kernel r0 (low 32) = {:#x}, xbpf r0 = {:#x}", k.r0, *x);
    return v;
}

/// Greedy reduction of a disagreeing program: replace instructions by `goto +0` while the kernel still accepts the
/// program and the back ends still disagree. Keeps the jump structure, so offsets stay valid.
std::vector<RawInsn> reduce(std::vector<RawInsn> prog, std::span<const std::uint8_t> input) {
    const RawInsn nop = ja(0);
    for (std::size_t i = 0; i + 1 < prog.size(); ++i) {
        const auto op = isa::lookup(prog[i].opcode, prog[i].src, prog[i].off, prog[i].imm);
        const std::size_t width = op == Op::Lddw ? 2 : 1;
        if (prog[i] == nop) continue;
        // Keep stack stores: without them a later load reads uninitialised stack, which the verifier allows for
        // privileged users but whose value no two runs need agree on.
        if (op && (isa::info(*op).shape == isa::Shape::St || isa::info(*op).shape == isa::Shape::Stx) &&
            prog[i].dst == R10)
            continue;
        std::vector<RawInsn> trial = prog;
        for (std::size_t k = 0; k < width; ++k) trial[i + k] = nop;
        const Verdict v = compare(trial, input);
        if (v.accepted && v.problem) prog = std::move(trial);
        i += width - 1;
    }
    return prog;
}

/// `prog` without its `goto +0` slots (left by reduce()), with jump and call offsets adjusted.
std::vector<RawInsn> without_nops(const std::vector<RawInsn>& prog) {
    const RawInsn nop = ja(0);
    std::vector<std::int32_t> new_index(prog.size() + 1);
    std::int32_t kept = 0;
    for (std::size_t i = 0; i < prog.size(); ++i) {
        new_index[i] = kept;
        if (!(prog[i] == nop)) ++kept;
    }
    new_index[prog.size()] = kept;
    std::vector<RawInsn> out;
    for (std::size_t i = 0; i < prog.size(); ++i) {
        if (prog[i] == nop) continue;
        RawInsn r = prog[i];
        const bool tail =
            i > 0 && isa::lookup(prog[i - 1].opcode, prog[i - 1].src, prog[i - 1].off, prog[i - 1].imm) == Op::Lddw;
        const auto op = isa::lookup(r.opcode, r.src, r.off, r.imm);
        if (!tail && op && isa::has_target(*op)) {
            const isa::Shape shape = isa::info(*op).shape;
            const bool in_imm = shape == isa::Shape::Gotol || shape == isa::Shape::CallLocal;
            const std::int64_t target = static_cast<std::int64_t>(i) + 1 + (in_imm ? r.imm : r.off);
            if (target >= 0 && target <= static_cast<std::int64_t>(prog.size())) {
                const std::int32_t rel = new_index[static_cast<std::size_t>(target)] - new_index[i] - 1;
                if (in_imm)
                    r.imm = rel;
                else
                    r.off = static_cast<std::int16_t>(rel);
            }
        }
        out.push_back(r);
    }
    return out;
}

bool kernel_available(std::string* why) {
    static std::string reason;
    static const bool ok = kernel::available(&reason);
    *why = reason;
    return ok;
}

/// True if the kernel knows the cpu v4 instructions (Linux 6.6+): sdiv, smod, movsx, bswap, ldsx, gotol.
bool kernel_has_cpu_v4() {
    static const bool ok = [] {
        const std::vector<RawInsn> probe = program({mov64_imm(R0, 6), alu64_imm(Alu::SDiv, R0, -2), exit_insn()});
        return kernel::load(probe, kernel::ProgType::SocketFilter).has_value();
    }();
    return ok;
}

bool uses_cpu_v4(std::span<const RawInsn> prog) {
    for (const RawInsn& r : prog) {
        const auto op = isa::lookup(r.opcode, r.src, r.off, r.imm);
        if (!op) continue;
        const isa::OpInfo& row = isa::info(*op);
        if ((row.disc == isa::Disc::Off && row.disc_value != 0 && row.shape != isa::Shape::Ja) ||
            row.shape == isa::Shape::LdxSx || row.shape == isa::Shape::Gotol ||
            (row.shape == isa::Shape::Endian && isa::op_class(row.opcode) == isa::kClassAlu64))
            return true;
    }
    return false;
}

TEST(KernelDiff, RandomPrograms) {
    std::string why;
    if (!kernel_available(&why)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why;
    if (!kernel_has_cpu_v4())
        std::cout << "[ KernelDiff ] this kernel lacks cpu v4 instructions: not generating them\n";

    const std::vector<std::uint8_t> input = test_input();
    constexpr std::uint64_t kPrograms = 5000;
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t accepted = 0, rejected = 0, agreed = 0;
    std::vector<std::string> rejections, problems;
    for (std::uint64_t seed = 0; seed < kPrograms; ++seed) {
        GenOptions options;
        options.body_items = 8 + static_cast<std::uint32_t>(seed % 57);
        options.fold_epilogue = seed % 8 != 0;  // a few return their r0 unmixed
        options.cpu_v4 = kernel_has_cpu_v4();
        const std::vector<RawInsn> low = generate_program(seed, options);
        const std::vector<RawInsn> high = with_high_half(low);
        for (const auto* variant : {&low, &high}) {
            const Verdict v = compare(*variant, input);
            if (!v.accepted) {
                ++rejected;
                if (rejections.size() < 3) {
                    std::string log;
                    (void)kernel::load(*variant, kernel::ProgType::SocketFilter, &log);
                    rejections.push_back(fmt::format("seed {}{}:\n{}verifier log tail:\n{}", seed,
                                                     variant == &high ? " (high half)" : "", dump(*variant),
                                                     log.size() > 2000 ? log.substr(log.size() - 2000) : log));
                }
                continue;
            }
            ++accepted;
            if (!v.problem) {
                ++agreed;
                continue;
            }
            if (problems.size() < 8) {
                const std::vector<RawInsn> reduced = without_nops(reduce(*variant, input));
                const Verdict rv = compare(reduced, input);
                problems.push_back(fmt::format("seed {}{}: {}\nreduced program ({}):\n{}", seed,
                                               variant == &high ? " (high half)" : "", *v.problem,
                                               rv.problem.value_or("?"), dump(reduced)));
            } else {
                problems.emplace_back();
            }
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string summary = fmt::format(
        "{} programs x 2 variants: kernel accepted {}, rejected {}; xbpf agreed on {}, disagreed on {} "
        "({:.1f} s)",
        kPrograms, accepted, rejected, agreed, problems.size(), secs);
    std::cout << "[ KernelDiff ] " << summary << "\n";
    RecordProperty("accepted", static_cast<int>(accepted));
    RecordProperty("rejected", static_cast<int>(rejected));
    RecordProperty("disagreed", static_cast<int>(problems.size()));
    for (const std::string& r : rejections) ADD_FAILURE() << "the kernel rejected a generated program: " << r;
    for (const std::string& p : problems)
        if (!p.empty()) ADD_FAILURE() << "xbpf disagrees with the kernel: " << p;
    EXPECT_EQ(rejected, 0u) << "the generator should only make programs the verifier accepts";
    EXPECT_TRUE(problems.empty()) << summary;
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-written edge cases, each with the full 64-bit r0 derived by hand (RFC 9669); the kernel decides if the
// derivation and xbpf disagree with it.

struct EdgeCase {
    const char* name;
    std::vector<RawInsn> prog;
    std::uint64_t expected;
    /// The variant returning r0 >> 32, when with_high_half() cannot make it (the last exit is not main's).
    std::vector<RawInsn> high = {};
};

// main: r6..r9 = 6..9; *(r10-8) = 0x1111; r0 = callee(100); r0 += r6 + r7 + r8 + r9 + *(r10-8)
// callee(r1): r6..r9 = 1000; *(r10-8) = 0x2222; return r1 * 2 + *(r10-8)
// `high` shifts main's result right by 32 before its exit.
std::vector<RawInsn> local_call(bool high) {
    std::vector<RawInsn> p = program({
        mov64_imm(R6, 6),
        mov64_imm(R7, 7),
        mov64_imm(R8, 8),
        mov64_imm(R9, 9),
        mov64_imm(R1, 100),
        st_mem(Size::DW, R10, -8, 0x1111),
        call_local(high ? 8 : 7),  // -> the callee
        alu64_reg(Alu::Add, R0, R6),
        alu64_reg(Alu::Add, R0, R7),
        alu64_reg(Alu::Add, R0, R8),
        alu64_reg(Alu::Add, R0, R9),
        ldx_mem(Size::DW, R1, R10, -8),
        alu64_reg(Alu::Add, R0, R1),
    });
    if (high) p.push_back(alu64_imm(Alu::Rsh, R0, 32));
    append(p, exit_insn());
    for (const Slots& s :
         {Slots(mov64_imm(R6, 1000)), Slots(mov64_imm(R7, 1000)), Slots(mov64_imm(R8, 1000)),
          Slots(mov64_imm(R9, 1000)), Slots(st_mem(Size::DW, R10, -8, 0x2222)), Slots(mov64_reg(R0, R1)),
          Slots(alu64_imm(Alu::Mul, R0, 2)), Slots(ldx_mem(Size::DW, R2, R10, -8)), Slots(alu64_reg(Alu::Add, R0, R2)),
          Slots(exit_insn())})
        append(p, s);
    return p;
}

std::vector<EdgeCase> edge_cases() {
    // r0 = a; r1 = b; r0 op= r1; exit
    const auto bin = [](RawInsn insn, std::uint64_t a, std::uint64_t b) {
        return program({ld_imm64(R0, a), ld_imm64(R1, b), insn, exit_insn()});
    };
    // r0 = a; op on r0; exit
    const auto un = [](RawInsn insn, std::uint64_t a) { return program({ld_imm64(R0, a), insn, exit_insn()}); };
    // r0 = 1; r1 = a; r2 = b; if r1 op r2 goto +1; r0 = 0; exit
    const auto jmp = [](RawInsn insn, std::uint64_t a, std::uint64_t b) {
        return program({mov64_imm(R0, 1), ld_imm64(R1, a), ld_imm64(R2, b), insn, mov64_imm(R0, 0), exit_insn()});
    };
    constexpr std::uint64_t kMin64 = 0x8000000000000000;
    return {
        {"div64 by zero", bin(alu64_reg(Alu::Div, R0, R1), 5, 0), 0},
        {"mod64 by zero", bin(alu64_reg(Alu::Mod, R0, R1), 0xffffffff00000007, 0), 0xffffffff00000007},
        {"div32 by zero", bin(alu32_reg(Alu::Div, R0, R1), 0xdeadbeef00000007, 0), 0},
        {"mod32 by zero zero-extends", bin(alu32_reg(Alu::Mod, R0, R1), 0xdeadbeef00000007, 0), 7},
        {"div32 by 1<<32", bin(alu32_reg(Alu::Div, R0, R1), 99, 0x100000000), 0},
        {"mod32 by 1<<32", bin(alu32_reg(Alu::Mod, R0, R1), 0xdeadbeef00000063, 0x100000000), 0x63},
        {"div64 imm -1", un(alu64_imm(Alu::Div, R0, -1), 0xffffffffffffffff), 1},
        {"mod64 imm -1", un(alu64_imm(Alu::Mod, R0, -1), 100), 100},
        {"div32 imm -1", un(alu32_imm(Alu::Div, R0, -1), 0xffffffff), 1},
        {"sdiv64 INT_MIN/-1 reg", bin(alu64_reg(Alu::SDiv, R0, R1), kMin64, 0xffffffffffffffff), kMin64},
        {"sdiv64 INT_MIN/-1 imm", un(alu64_imm(Alu::SDiv, R0, -1), kMin64), kMin64},
        {"smod64 INT_MIN%-1 reg", bin(alu64_reg(Alu::SMod, R0, R1), kMin64, 0xffffffffffffffff), 0},
        {"smod64 INT_MIN%-1 imm", un(alu64_imm(Alu::SMod, R0, -1), kMin64), 0},
        {"sdiv32 INT_MIN/-1 reg", bin(alu32_reg(Alu::SDiv, R0, R1), 0x80000000, 0xffffffff), 0x80000000},
        {"sdiv32 INT_MIN/-1 imm", un(alu32_imm(Alu::SDiv, R0, -1), 0xffffffff80000000), 0x80000000},
        {"smod32 INT_MIN%-1 reg", bin(alu32_reg(Alu::SMod, R0, R1), 0x80000000, 0x12345678ffffffff), 0},
        {"smod32 INT_MIN%-1 imm", un(alu32_imm(Alu::SMod, R0, -1), 0x80000000), 0},
        {"sdiv64 by zero", bin(alu64_reg(Alu::SDiv, R0, R1), 0xfffffffffffffffb, 0), 0},
        {"smod64 by zero", bin(alu64_reg(Alu::SMod, R0, R1), 0xfffffffffffffffb, 0), 0xfffffffffffffffb},
        {"sdiv32 by zero", bin(alu32_reg(Alu::SDiv, R0, R1), 0xfffffff9, 0), 0},
        {"smod32 by zero zero-extends", bin(alu32_reg(Alu::SMod, R0, R1), 0xaaaaaaaafffffffb, 0), 0xfffffffb},
        {"sdiv64 -7/2", un(alu64_imm(Alu::SDiv, R0, 2), 0xfffffffffffffff9), 0xfffffffffffffffd},
        {"smod64 -7%2", un(alu64_imm(Alu::SMod, R0, 2), 0xfffffffffffffff9), 0xffffffffffffffff},
        {"smod64 7%-2", un(alu64_imm(Alu::SMod, R0, -2), 7), 1},
        {"sdiv32 -7/2", un(alu32_imm(Alu::SDiv, R0, 2), 0x12345678fffffff9), 0xfffffffd},
        {"smod32 -13%3", un(alu32_imm(Alu::SMod, R0, 3), 0xfffffff3), 0xffffffff},
        {"lsh64 by 65 (reg)", bin(alu64_reg(Alu::Lsh, R0, R1), 1, 65), 2},
        {"rsh64 by 64 (reg)", bin(alu64_reg(Alu::Rsh, R0, R1), 0x10, 64), 0x10},
        {"arsh64 by 65 (reg)", bin(alu64_reg(Alu::Arsh, R0, R1), kMin64, 65), 0xc000000000000000},
        {"lsh32 by 33 (reg)", bin(alu32_reg(Alu::Lsh, R0, R1), 1, 33), 2},
        {"rsh32 by 35 (reg)", bin(alu32_reg(Alu::Rsh, R0, R1), 0xffffffff80000000, 35), 0x10000000},
        {"arsh32 by 33 (reg)", bin(alu32_reg(Alu::Arsh, R0, R1), 0x80000000, 33), 0xc0000000},
        {"arsh32 by 31", un(alu32_imm(Alu::Arsh, R0, 31), 0x80000000), 0xffffffff},
        {"mov32 -1", un(mov32_imm(R0, -1), 0x1234567812345678), 0xffffffff},
        {"mov64 INT_MIN imm", un(mov64_imm(R0, INT_MIN), 0), 0xffffffff80000000},
        {"add32 wraps", un(alu32_imm(Alu::Add, R0, 1), 0x00000000ffffffff), 0},
        {"mul32 truncates", un(alu32_imm(Alu::Mul, R0, 3), 0xfffffffffffffffd), 0xfffffff7},
        {"neg32 INT_MIN", un(neg32(R0), 0x80000000), 0x80000000},
        {"neg64", un(neg64(R0), 5), 0xfffffffffffffffb},
        {"movsx8 to 64", bin(movsx64(R0, R1, 8), 0, 0x12345680), 0xffffffffffffff80},
        {"movsx16 to 64", bin(movsx64(R0, R1, 16), 0, 0xabcd8001), 0xffffffffffff8001},
        {"movsx32 to 64", bin(movsx64(R0, R1, 32), 0, 0x180000000), 0xffffffff80000000},
        {"movsx8 to 32", bin(movsx32(R0, R1, 8), 0x5555555555555555, 0x80), 0xffffff80},
        {"movsx16 to 32", bin(movsx32(R0, R1, 16), 0x5555555555555555, 0x8000), 0xffff8000},
        {"bswap16", un(bswap(R0, 16), 0x0123456789abcdef), 0xefcd},
        {"bswap32", un(bswap(R0, 32), 0x0123456789abcdef), 0xefcdab89},
        {"bswap64", un(bswap(R0, 64), 0x0123456789abcdef), 0xefcdab8967452301},
        {"be16", un(be(R0, 16), 0x0123456789abcdef), 0xefcd},
        {"be32", un(be(R0, 32), 0x0123456789abcdef), 0xefcdab89},
        {"be64", un(be(R0, 64), 0x0123456789abcdef), 0xefcdab8967452301},
        {"le16", un(le(R0, 16), 0x0123456789abcdef), 0xcdef},
        {"le32", un(le(R0, 32), 0x0123456789abcdef), 0x89abcdef},
        {"le64", un(le(R0, 64), 0x0123456789abcdef), 0x0123456789abcdef},
        {"jeq32 ignores the upper half", jmp(jmp32_reg(Jmp::Jeq, R1, R2, 1), 0x100000007, 0x200000007), 1},
        {"jeq64 does not", jmp(jmp_reg(Jmp::Jeq, R1, R2, 1), 0x100000007, 0x200000007), 0},
        {"jsgt32 INT32_MIN > 1", jmp(jmp32_imm(Jmp::Jsgt, R1, 1, 1), 0x7fffffff80000000, 0), 0},
        {"jsgt32 1 > -1", jmp(jmp32_imm(Jmp::Jsgt, R1, -1, 1), 0xffffffff00000001, 0), 1},
        {"jgt32 unsigned", jmp(jmp32_imm(Jmp::Jgt, R1, 1, 1), 0x80000000, 0), 1},
        {"jlt32 upper ignored", jmp(jmp32_reg(Jmp::Jlt, R1, R2, 1), 0xffffffff00000001, 2), 1},
        {"jset32 low half zero", jmp(jmp32_imm(Jmp::Jset, R1, -1, 1), 0xffffffff00000000, 0), 0},
        {"jsle32 reg", jmp(jmp32_reg(Jmp::Jsle, R1, R2, 1), 0x80000000, 0x7fffffff80000000), 1},
        {"jsgt64 INT_MAX > INT_MIN", jmp(jmp_reg(Jmp::Jsgt, R1, R2, 1), 0x7fffffffffffffff, kMin64), 1},
        {"jgt64 INT_MAX > INT_MIN unsigned", jmp(jmp_reg(Jmp::Jgt, R1, R2, 1), 0x7fffffffffffffff, kMin64), 0},
        {"jeq64 imm sign-extended", jmp(jmp_imm(Jmp::Jeq, R1, -1, 1), 0xffffffffffffffff, 0), 1},
        {"fetch_add32 zero-extends",
         program({st_mem(Size::DW, R10, -8, -1), ld_imm64(R0, 0xdeadbeef00000001),
                  atomic_op(Size::W, Atomic::FetchAdd, R10, R0, -8), exit_insn()}),
         0xffffffff},
        {"fetch_add32 leaves the neighbour",
         program({st_mem(Size::DW, R10, -8, -1), mov64_imm(R1, 1), atomic_op(Size::W, Atomic::FetchAdd, R10, R1, -8),
                  ldx_mem(Size::DW, R0, R10, -8), exit_insn()}),
         0xffffffff00000000},
        {"cmpxchg32 zero-extends r0",
         program({st_mem(Size::W, R10, -4, -1), mov64_imm(R0, 0), mov64_imm(R1, 5),
                  atomic_op(Size::W, Atomic::Cmpxchg, R10, R1, -4), exit_insn()}),
         0xffffffff},
        {"cmpxchg32 compares the low half",
         program({st_mem(Size::W, R10, -4, 7), ld_imm64(R0, 0xffffffff00000007), mov64_imm(R1, 5),
                  atomic_op(Size::W, Atomic::Cmpxchg, R10, R1, -4), ldx_mem(Size::W, R0, R10, -4), exit_insn()}),
         5},
        {"cmpxchg64 failure",
         program({st_mem(Size::DW, R10, -8, 10), mov64_imm(R0, 11), mov64_imm(R1, 5),
                  atomic_op(Size::DW, Atomic::Cmpxchg, R10, R1, -8), exit_insn()}),
         10},
        {"xchg64",
         program({st_mem(Size::DW, R10, -8, -3), mov64_imm(R1, 5), atomic_op(Size::DW, Atomic::Xchg, R10, R1, -8),
                  mov64_reg(R0, R1), exit_insn()}),
         0xfffffffffffffffd},
        {"ldxsb from the stack",
         program({st_mem(Size::B, R10, -1, 0x80), ldx_memsx(Size::B, R0, R10, -1), exit_insn()}), 0xffffffffffffff80},
        {"ldxsw from the stack",
         program({st_mem(Size::W, R10, -8, INT_MIN), ldx_memsx(Size::W, R0, R10, -8), exit_insn()}),
         0xffffffff80000000},
        {"bpf-to-bpf call: fresh frame, r6-r9 preserved", local_call(false), 200 + 0x2222 + 30 + 0x1111,
         local_call(true)},
        {"stdw imm sign-extends", program({st_mem(Size::DW, R10, -8, -2), ldx_mem(Size::DW, R0, R10, -8), exit_insn()}),
         0xfffffffffffffffe},
    };
}

// Edge cases whose expectation depends on the test input (LD_ABS / LD_IND): checked against the kernel only.
std::vector<EdgeCase> packet_cases() {
    // Packet loads need the context in r6.
    const auto pkt = [](std::initializer_list<Slots> body) {
        std::vector<RawInsn> p = program({mov64_reg(R6, R1), mov64_imm(R0, 0x55)});
        for (const Slots& s : body) append(p, s);
        append(p, exit_insn());
        return p;
    };
    return {
        {"ldabsb 0", pkt({ld_abs(Size::B, 0)}), 0},
        {"ldabsh 1", pkt({ld_abs(Size::H, 1)}), 0},
        {"ldabsw 2", pkt({ld_abs(Size::W, 2)}), 0},
        {"ldabsw last word", pkt({ld_abs(Size::W, 46)}), 0},
        {"ldabsw out of bounds", pkt({ld_abs(Size::W, 47), mov64_imm(R0, 77)}), 0},
        {"ldabsb out of bounds", pkt({ld_abs(Size::B, 50), mov64_imm(R0, 77)}), 0},
        {"ldindh", pkt({mov64_imm(R7, 5), ld_ind(Size::H, R7, 3)}), 0},
        {"ldindw negative total", pkt({mov64_imm(R7, -1), ld_ind(Size::W, R7, 0), mov64_imm(R0, 77)}), 0},
        {"ldindb -1 + 1", pkt({mov64_imm(R7, -1), ld_ind(Size::B, R7, 1)}), 0},
        {"ldindb offset 1<<32", pkt({ld_imm64(R7, 0x100000000), ld_ind(Size::B, R7, 0), mov64_imm(R0, 77)}), 0},
    };
}

TEST(KernelDiff, HandWrittenEdgeCases) {
    std::string why;
    if (!kernel_available(&why)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why;
    const std::vector<std::uint8_t> input = test_input();
    for (const bool with_packet : {false, true}) {
        for (const EdgeCase& c : with_packet ? packet_cases() : edge_cases()) {
            SCOPED_TRACE(c.name);
            if (!kernel_has_cpu_v4() && uses_cpu_v4(c.prog)) continue;
            const std::vector<RawInsn> high = c.high.empty() ? with_high_half(c.prog) : c.high;
            std::string log;
            auto fd_low = kernel::load(c.prog, kernel::ProgType::SocketFilter, &log);
            ASSERT_TRUE(fd_low) << "kernel rejected it: " << fd_low.error().message << "\n" << dump(c.prog);
            auto fd_high = kernel::load(high, kernel::ProgType::SocketFilter);
            ASSERT_TRUE(fd_high) << fd_high.error().message;
            auto k_low = kernel::test_run(*fd_low, input);
            auto k_high = kernel::test_run(*fd_high, input);
            ASSERT_TRUE(k_low && k_high);
            const std::uint64_t kernel_r0 = static_cast<std::uint64_t>(k_high->retval) << 32 | k_low->retval;
            if (!with_packet) {
                EXPECT_EQ(kernel_r0, c.expected) << "the kernel disagrees with the hand-derived value (kernel wins)";
            }
            const auto x = run_xbpf(c.prog, input);
            ASSERT_TRUE(x) << x.error().to_string();
            EXPECT_EQ(*x, kernel_r0) << "xbpf disagrees with the kernel\n" << dump(c.prog);
        }
    }
}

}  // namespace
}  // namespace xbpf::test
