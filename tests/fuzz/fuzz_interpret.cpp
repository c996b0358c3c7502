// Fuzz target: unverified programs in the interpreter's checked mode. "Programs accepted never crash the host": checked
// mode is what runs programs no verifier has seen, so any input must end in a result or a clean error.
//
// Input layout:
//   byte 0          memory size M (0..255; less if the input ends first)
//   byte 1          bit 0: 0 = vm::run_raw(mem) (r1 = mem, r2 = M, packet = mem);
//                          1 = vm::interpret with a writable "mem" region and a read-only 16-byte "ctx" region
//                              (r1 = ctx, r2 = 16, r3 = mem, r4 = M, packet = mem)
//   bytes 2..2+M    memory contents (a heap buffer of exactly M bytes, so ASan sees any access past it)
//   the rest        the program (truncated to whole 8-byte slots)
// Helpers 1, 5, 7 and 14 exist (pure stand-ins for map_lookup_elem, ktime_get_ns, get_prandom_u32,
// get_current_pid_tgid), so helper calls execute; other ids are load errors.
//
// Properties (ASan and UBSan catch any out-of-bounds host access, overflow or misaligned access by the interpreter):
//  1. Program::load succeeds or fails with kInvalidInstruction, kNotFound or kUnsupported naming a slot inside the
//     program (an empty program is the one error without a slot).
//  2. A checked run with a budget of kBudget instructions returns a result that counts between 1 and kBudget
//     instructions, or fails with kRuntime naming the slot of an executable instruction (not a lddw's second half).
//  3. The read-only region is unchanged after the run.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "vm/vm.hpp"

namespace {

using namespace xbpf;

constexpr std::uint64_t kBudget = 10'000;
constexpr std::size_t kCtxSize = 16;

std::uint64_t helper_zero(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunState*) {
    return 0;
}
std::uint64_t helper_time(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, vm::RunState*) {
    return 1'000'000'007;
}
std::uint64_t helper_mix(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4, std::uint64_t r5,
                         vm::RunState* state) {
    XBPF_FUZZ_CHECK(state != nullptr && state->env != nullptr && state->grant != nullptr,
                    "helper called without its run state");
    return (r1 * 31 + r2) ^ (r3 << 7) ^ (r4 >> 3) ^ r5;
}

const vm::HelperTable& fuzz_helpers() {
    static const vm::HelperTable table = [] {
        vm::HelperTable t;
        t.add({1, "bpf_map_lookup_elem", helper_zero});
        t.add({5, "bpf_ktime_get_ns", helper_time});
        t.add({7, "bpf_get_prandom_u32", helper_mix});
        t.add({14, "bpf_get_current_pid_tgid", helper_mix});
        return t;
    }();
    return table;
}

void check_load_error(const Error& e, std::size_t slots) {
    XBPF_FUZZ_CHECK(
        e.code == ErrorCode::kInvalidInstruction || e.code == ErrorCode::kNotFound || e.code == ErrorCode::kUnsupported,
        "load error code {}: {}", static_cast<int>(e.code), e.to_string());
    XBPF_FUZZ_CHECK(!e.message.empty(), "load error without a message");
    if (slots == 0) return;
    XBPF_FUZZ_CHECK(e.where.insn.has_value() && *e.where.insn < slots, "load error names no slot in 0..{}: {}",
                    slots - 1, e.to_string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t mem_size = std::min<std::size_t>(data[0], size - 2);
    const bool with_ctx = (data[1] & 1) != 0;
    std::vector<std::uint8_t> mem(data + 2, data + 2 + mem_size);
    const std::span<const std::uint8_t> code(data + 2 + mem_size, size - 2 - mem_size);

    auto slots = isa::from_bytes(code.first(code.size() - code.size() % 8));
    XBPF_FUZZ_CHECK(slots.has_value(), "from_bytes on whole slots");

    auto program = vm::Program::load(*slots, &fuzz_helpers());
    if (!program) {
        check_load_error(program.error(), slots->size());
        return 0;
    }

    vm::RunOptions options;
    options.checked = true;
    options.insn_budget = kBudget;

    Result<vm::RunResult> result;
    if (!with_ctx) {
        result = vm::run_raw(*program, mem, options);
    } else {
        // The context's bytes are the memory's first bytes (zero-padded), so the fuzzer controls both.
        std::vector<std::uint8_t> ctx(kCtxSize, 0);
        std::copy_n(mem.begin(), std::min(mem.size(), kCtxSize), ctx.begin());
        const std::vector<std::uint8_t> ctx_before = ctx;
        vm::RunInput input;
        input.args = {reinterpret_cast<std::uint64_t>(ctx.data()), ctx.size(),
                      reinterpret_cast<std::uint64_t>(mem.data()), mem.size(), 0};
        input.regions.push_back({reinterpret_cast<std::uint64_t>(ctx.data()), ctx.size(), false, "ctx"});
        if (!mem.empty())
            input.regions.push_back({reinterpret_cast<std::uint64_t>(mem.data()), mem.size(), true, "mem"});
        input.packet = mem;
        result = vm::interpret(*program, input, options);
        XBPF_FUZZ_CHECK(ctx == ctx_before, "the read-only ctx region was written");
    }

    if (result) {
        XBPF_FUZZ_CHECK(result->insns >= 1 && result->insns <= kBudget, "{} instructions counted, budget {}",
                        result->insns, kBudget);
        return 0;
    }
    const Error& e = result.error();
    XBPF_FUZZ_CHECK(e.code == ErrorCode::kRuntime, "run error code {}: {}", static_cast<int>(e.code), e.to_string());
    XBPF_FUZZ_CHECK(!e.message.empty(), "run error without a message");
    XBPF_FUZZ_CHECK(e.where.insn.has_value() && *e.where.insn < program->size(), "run error names no slot in 0..{}: {}",
                    program->size() - 1, e.to_string());
    XBPF_FUZZ_CHECK(!program->instructions()[*e.where.insn].is_lddw_tail, "run error names a lddw tail: {}",
                    e.to_string());
    return 0;
}
