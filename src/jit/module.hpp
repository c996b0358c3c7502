// Internal to src/jit: a compiled module (the mapped code and its tables) and the run-time glue the generated code
// calls. The glue functions use the System V ABI and are called with the Engine in the first argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "jit/exec_memory.hpp"
#include "vm/engine.hpp"

namespace xbpf::jit {

/// The mapped code of one program and what the runner needs to enter it.
class Module {
  public:
    ExecMemory memory;
    bool checked = true;
    const vm::Program::Impl* impl = nullptr;
    std::vector<std::uint32_t> insn_offsets;  ///< per slot, plus the end
    /// (first slot, native address) of each BPF function, by slot.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> fn_address;
    /// u64 trampoline(Engine* e, const u64* args, u64 target, u64 frame_top): saves the host's callee-saved
    /// registers, records rsp in e->native_rsp, sets r12 = e, rbp = frame_top, r1..r5 = args, calls target.
    std::uint64_t trampoline = 0;
};

/// Why generated code stopped (rt_fault's `packed` argument: kind | size << 8 | count << 16 | insn << 32).
enum class FaultKind : std::uint8_t {
    Read = 1,    ///< checked load outside the program's memory (value: address)
    Write,       ///< checked store or atomic outside it (value: address)
    Misaligned,  ///< checked atomic not naturally aligned (value: address)
    Budget,      ///< instruction budget exhausted at a block of `count` instructions
    Depth,       ///< local call past the 8-frame limit
    BadCallx,    ///< callx to something that is not a function start (value: the target)
    Callback,    ///< a helper's callback faulted (e->error is set)
};

constexpr std::uint64_t pack_fault(FaultKind kind, std::uint32_t size, std::uint32_t count, std::size_t insn) {
    return static_cast<std::uint64_t>(kind) | static_cast<std::uint64_t>(size & 0xff) << 8 |
           static_cast<std::uint64_t>(count & 0xffff) << 16 | static_cast<std::uint64_t>(insn) << 32;
}

/// Result of rt_packet_load in rax:rdx.
struct PacketValue {
    std::uint64_t value;
    std::uint64_t ok;  ///< 0: out of bounds, the program ends with r0 = 0
};

// ---- glue called by generated code ----
/// Checked access: Engine::access_ok at the engine's depth; `size_write` = size | write << 8.
bool rt_access_ok(vm::Engine* e, std::uint64_t addr, std::uint64_t size_write);
/// Checked code, before a helper call: vm::check_helper_args on r1..r5 (`args`); false after recording the error
/// as e->error (generated code then unwinds to the trampoline).
bool rt_check_helper(vm::Engine* e, std::uint64_t helper_index, std::uint64_t pc, const std::uint64_t* args);
/// Records the fault as e->error (the interpreter's text); generated code then unwinds to the trampoline.
void rt_fault(vm::Engine* e, std::uint64_t packed, std::uint64_t value);
/// After bpf_tail_call set e->tail_target: switches e->cur and prepares the frame. Returns the target's native
/// entry address; or 1 after running a target without native code in the interpreter (r0 in e->tail_ctx); or 0
/// when that run failed (e->error set).
std::uint64_t rt_tail_call(vm::Engine* e);
/// LD_ABS / LD_IND: the big-endian packet value at `offset` of `size` bytes.
PacketValue rt_packet_load(vm::Engine* e, std::uint64_t offset, std::uint64_t size);

}  // namespace xbpf::jit
