// Internal: the interpreter's per-run state, shared by the interpreter loop and the helpers the VM implements
// itself (bpf_tail_call, bpf_loop, bpf_for_each_map_elem in vm_helpers.cpp). Only src/vm includes this.
//
// One Engine lives for one vm::interpret call. Its stack block holds kMaxCallDepth frames of 512 bytes; `depth`
// is the index of the active frame (0 = the entry program), shared by local calls and by callbacks that helpers
// start through helpers::Context::call, so the kernel's 8-frame limit covers both.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "isa/opcodes.hpp"
#include "vm/program_impl.hpp"

namespace xbpf::vm {

/// A caller's frame saved by a local call (r6..r9, r10 and where to return, in which program).
struct Frame {
    const ThreadedInsn* ret;
    const Program::Impl* impl;  // the caller's program (a tail call may have replaced the callee's)
    std::uint64_t saved[5];     // r6..r9, r10
};

struct Engine {
    helpers::Context ctx;  ///< what helpers see; ctx.engine points back here
    bool checked = true;
    const Program::Impl* cur = nullptr;  ///< the program running now (changes on tail calls)
    const RunInput* input = nullptr;
    std::uint64_t stack_top = 0;  ///< one past the stack block; frame d spans [top - (d+1)*512, top - d*512)
    std::size_t depth = 0;        ///< active frame; synced with the loop's copy around helper calls
    std::uint64_t budget = 0;     ///< instructions left (checked mode); synced around helper calls
    std::uint64_t initial_budget = 0;
    Frame frames[isa::kMaxCallDepth];

    /// Memory granted during the run (helper results, global data of tail-call targets); checked mode only.
    std::vector<MemoryRegion> granted;
    std::map<std::uint64_t, std::size_t> granted_by_start;  ///< start -> index in granted (dedup, lookup by address)
    std::size_t last_hit = 0;                               ///< index of the last region an access hit

    /// bpf_tail_call: the program to switch to once the helper returns, and its context.
    const Program::Impl* tail_target = nullptr;
    std::uint64_t tail_ctx = 0;
    std::uint32_t tail_calls = 0;  ///< tail calls taken this run (MAX_TAIL_CALL_CNT = 33)

    /// The error of a callback that faulted (ctx.aborted is set with it); native code also records its own
    /// faults here before it unwinds.
    std::optional<Error> error;

    /// Native code may run (vm::run chose it): callbacks and tail calls enter a program's NativeCode when its mode
    /// matches `checked`.
    bool use_native = false;
    /// Native code: the host stack pointer recorded by the innermost entry trampoline, restored by its abort path.
    std::uint64_t native_rsp = 0;

    /// The native code to run `impl` with in this run, or null (interpreter).
    [[nodiscard]] const NativeCode* native_for(const Program::Impl* impl) const {
        return use_native && impl->native && impl->native->checked() == checked ? impl->native.get() : nullptr;
    }

    /// Checked mode: may the program access [addr, addr + size) (write: store) with `depth` frames active? Inside
    /// the active stack frames, a region of the run's input (the first containing it decides), or granted memory.
    /// Shared by the interpreter and native code.
    [[nodiscard]] bool access_ok(std::uint64_t addr, std::uint64_t size, bool write, std::size_t active_depth) {
        // The active frames, from the engine's own depth: r10 is a register the program may overwrite.
        const std::uint64_t frame_bottom = stack_top - (active_depth + 1) * isa::kStackSize;
        if (addr >= frame_bottom && size <= stack_top - frame_bottom &&
            addr - frame_bottom <= stack_top - frame_bottom - size)
            return true;
        for (const MemoryRegion& r : input->regions)
            if (r.contains(addr, size)) return !write || r.writable;
        return granted_ok(addr, size, write);
    }
    /// Is [addr, addr + size) inside memory granted during the run (and writable, for a write)?
    bool granted_ok(std::uint64_t addr, std::uint64_t size, bool write);

    static Engine* from(helpers::Context* c) { return static_cast<Engine*>(c->engine); }

    /// Adds [p, p + n) to the granted regions unless an equal or larger region with the same start (and at least
    /// the same rights) is there already.
    void grant(const void* p, std::size_t n, bool writable, const char* name = "helper memory");
    /// Drops the regions granted after the first `mark` (memory whose lifetime ended, e.g. a callback's key).
    void revoke_to(std::size_t mark);
};

/// The kernel's MAX_TAIL_CALL_CNT.
inline constexpr std::uint32_t kMaxTailCalls = 33;

/// The helper bound to libbpf's CO-RE poison call (object::kCorePoisonHelper): reaching it ends the run with an
/// error saying a CO-RE relocation could not be resolved.
std::uint64_t core_poisoned(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                            helpers::Context* self);

/// Runs the function at slot `fn` of e->cur in the interpreter on frame e->depth with r1..r5 = args, until that
/// frame exits (native code uses it for tail calls into programs without native code).
Result<std::uint64_t> interpret_function(Engine* e, std::size_t fn, const std::uint64_t* args);

/// Runs the function at slot `fn` of the running program on a new frame with r1..r5 = args (Context::call).
std::uint64_t engine_call(helpers::Context* self, std::uint64_t fn, std::uint64_t a1, std::uint64_t a2,
                          std::uint64_t a3, std::uint64_t a4, std::uint64_t a5);

}  // namespace xbpf::vm
