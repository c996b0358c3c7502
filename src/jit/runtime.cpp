// Run-time glue of generated code (module.hpp) and the runner that enters it (JitCode::run).
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "jit/jit.hpp"
#include "jit/module.hpp"
#include "vm/helper_args.hpp"

namespace xbpf::jit {

using u64 = std::uint64_t;

bool rt_access_ok(vm::Engine* e, u64 addr, u64 size_write) {
    return e->access_ok(addr, size_write & 0xff, (size_write >> 8) != 0, e->depth);
}

bool rt_check_helper(vm::Engine* e, u64 helper_index, u64 pc, const u64* args) {
    auto bad = vm::check_helper_args(*e, static_cast<std::size_t>(helper_index), args, static_cast<std::size_t>(pc));
    if (!bad) return true;
    e->error = std::move(*bad);
    return false;
}

void rt_fault(vm::Engine* e, u64 packed, u64 value) {
    const auto kind = static_cast<FaultKind>(packed & 0xff);
    const u64 size = (packed >> 8) & 0xff;
    const std::size_t insn = static_cast<std::size_t>(packed >> 32);
    switch (kind) {
        case FaultKind::Read:
        case FaultKind::Write:
            e->error =
                make_error(ErrorCode::kRuntime,
                           fmt::format("invalid {} of {} byte{} at {:#x}: outside the stack frame and the "
                                       "program's memory regions",
                                       kind == FaultKind::Write ? "write" : "read", size, size == 1 ? "" : "s", value),
                           at_insn(insn))
                    .error();
            break;
        case FaultKind::Misaligned:
            e->error =
                make_error(ErrorCode::kRuntime,
                           fmt::format("misaligned atomic access of {} bytes at {:#x}", size, value), at_insn(insn))
                    .error();
            break;
        case FaultKind::Budget: {
            // The block at `insn` charged `count` instructions and borrowed: the interpreter stops at the
            // instruction where the budget left before the block runs out (lddw counts once, spans two slots).
            const u64 count = (packed >> 16) & 0xffff;
            u64 left = e->budget + count;
            std::size_t at = insn;
            const auto& insns = e->cur->insns;
            while (left > 0 && at < insns.size()) {
                at += insns[at].op == isa::Op::Lddw ? 2 : 1;
                --left;
            }
            e->budget = 0;
            e->error = make_error(ErrorCode::kRuntime,
                                  fmt::format("instruction budget of {} exhausted (infinite loop?)", e->initial_budget),
                                  at_insn(at))
                           .error();
            break;
        }
        case FaultKind::Depth:
            e->error = make_error(ErrorCode::kRuntime, fmt::format("call depth exceeds {} frames", isa::kMaxCallDepth),
                                  at_insn(insn))
                           .error();
            break;
        case FaultKind::BadCallx:
            e->error = make_error(ErrorCode::kRuntime, fmt::format("callx to {:#x}, which is not a function", value),
                                  at_insn(insn))
                           .error();
            break;
        case FaultKind::Callback:
            if (!e->error) e->error = make_error(ErrorCode::kRuntime, "a callback failed").error();
            if (!e->error->where.insn) e->error->where.insn = insn;
            break;
    }
}

u64 rt_tail_call(vm::Engine* e) {
    const vm::Program::Impl* target = e->tail_target;
    e->tail_target = nullptr;
    e->cur = target;
    const u64 frame_top = e->stack_top - e->depth * isa::kStackSize;
    if (e->checked) {
        // As the interpreter: a fresh frame, and the target's global data granted.
        std::memset(reinterpret_cast<void*>(frame_top - isa::kStackSize), 0, isa::kStackSize);
        for (const vm::MemoryRegion& r : target->data_regions)
            e->grant(reinterpret_cast<const void*>(r.start), r.size, r.writable, "global data");
    }
    if (const auto* native = dynamic_cast<const JitCode*>(e->native_for(target))) return native->function_address(0);
    const u64 args[5] = {e->tail_ctx, 0, 0, 0, 0};
    auto r = vm::interpret_function(e, 0, args);
    if (!r) {
        e->error = r.error();
        return 0;
    }
    e->tail_ctx = *r;
    return 1;
}

PacketValue rt_packet_load(vm::Engine* e, u64 offset, u64 size) {
    const auto& pkt = e->input->packet;
    if (offset > pkt.size() || pkt.size() - offset < size) return {0, 0};
    const std::uint8_t* p = pkt.data() + offset;
    u64 v = 0;
    for (u64 i = 0; i < size; ++i) v = v << 8 | p[i];
    return {v, 1};
}

JitCode::JitCode(std::unique_ptr<Module> m) : m_(std::move(m)) {}
JitCode::~JitCode() = default;

bool JitCode::checked() const { return m_->checked; }

std::span<const std::uint8_t> JitCode::code() const { return {m_->memory.data(), m_->memory.size()}; }

const std::vector<std::uint32_t>& JitCode::insn_offsets() const { return m_->insn_offsets; }

u64 JitCode::function_address(std::size_t fn) const {
    const auto& f = m_->fn_address;
    const auto it = std::ranges::lower_bound(f, fn, {}, [](const auto& e) { return std::size_t{e.first}; });
    return it != f.end() && it->first == fn ? it->second : 0;
}

Result<u64> JitCode::run(vm::Engine* e, std::size_t fn, const u64* args) const {
    const u64 target = function_address(fn);
    if (target == 0)
        return make_error(ErrorCode::kRuntime, fmt::format("jit: slot {} does not start a function", fn), at_insn(fn));
    using Trampoline = u64 (*)(vm::Engine*, const u64*, u64, u64);
    const auto enter = reinterpret_cast<Trampoline>(m_->trampoline);
    const u64 saved_rsp = e->native_rsp;  // an outer trampoline's record (this run is a callback)
    const u64 r0 = enter(e, args, target, e->stack_top - e->depth * isa::kStackSize);
    e->native_rsp = saved_rsp;
    if (e->error) return std::unexpected(*e->error);
    return r0;
}

}  // namespace xbpf::jit
