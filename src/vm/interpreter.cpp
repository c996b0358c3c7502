// The interpreter: direct-threaded dispatch (computed goto) over ThreadedInsn, one handler per isa::Op.
//
// Semantics follow RFC 9669 and the Linux kernel (kernel/bpf/core.c):
//  - 32-bit ALU results are zero-extended; shifts use the count masked to 31 or 63 bits;
//  - unsigned/signed division by zero gives 0; modulo by zero leaves the dividend (32-bit forms zero-extend);
//  - signed division of INT_MIN by -1 gives INT_MIN, signed modulo gives 0 (no trap);
//  - the legacy LD_ABS/LD_IND loads read the packet big-endian and end the program with r0 = 0 when out of bounds.
// Checked mode bounds every load and store by the active stack frames and the regions the program was given,
// requires natural alignment for atomics, checks helper arguments against the helpers' prototypes
// (helper_args.hpp), bounds the instruction count, and reports violations naming the instruction. Unchecked mode trusts
// the program (a verifier accepted it); only the call depth stays checked, since it protects the interpreter's own
// frame array.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "vm/engine.hpp"
#include "vm/helper_args.hpp"

namespace xbpf::vm {
namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using s8 = std::int8_t;
using s16 = std::int16_t;
using s32 = std::int32_t;
using s64 = std::int64_t;

template <class T>
inline T load_mem(u64 addr) {
    T v;
    std::memcpy(&v, reinterpret_cast<const void*>(addr), sizeof(T));
    return v;
}

template <class T>
inline void store_mem(u64 addr, T v) {
    std::memcpy(reinterpret_cast<void*>(addr), &v, sizeof(T));
}

inline u64 sdiv64(u64 a, u64 b) {
    if (b == 0) return 0;
    if (static_cast<s64>(b) == -1) return 0 - a;  // INT64_MIN / -1 wraps to INT64_MIN
    return static_cast<u64>(static_cast<s64>(a) / static_cast<s64>(b));
}
inline u64 smod64(u64 a, u64 b) {
    if (b == 0) return a;
    if (static_cast<s64>(b) == -1) return 0;
    return static_cast<u64>(static_cast<s64>(a) % static_cast<s64>(b));
}
inline u32 sdiv32(u32 a, u32 b) {
    if (b == 0) return 0;
    if (static_cast<s32>(b) == -1) return 0 - a;
    return static_cast<u32>(static_cast<s32>(a) / static_cast<s32>(b));
}
inline u32 smod32(u32 a, u32 b) {
    if (b == 0) return a;
    if (static_cast<s32>(b) == -1) return 0;
    return static_cast<u32>(static_cast<s32>(a) % static_cast<s32>(b));
}

constexpr std::size_t kStackBytes = isa::kStackSize * isa::kMaxCallDepth;

void grant_checked(helpers::Context* self, const void* p, std::size_t n, bool writable) {
    Engine::from(self)->grant(p, n, writable);
}

void grant_unchecked(helpers::Context*, const void*, std::size_t, bool) {}

// helpers::Context::owns: the whole stack block, the regions the run was given, its program's global data and
// what helpers granted (checked mode records grants; unchecked runs keep none, so there only the static memory
// counts). Used by bpf_probe_read_kernel* and the printf helpers, never by the interpreter's own access checks.
bool engine_owns(const helpers::Context* self, u64 addr, std::size_t n) {
    const Engine* e = static_cast<const Engine*>(self->engine);
    const auto any_contains = [&](const std::vector<MemoryRegion>& regions) {
        return std::ranges::any_of(regions, [&](const MemoryRegion& r) { return r.contains(addr, n); });
    };
    const MemoryRegion stack{e->stack_top - kStackBytes, kStackBytes, true, "stack"};
    return stack.contains(addr, n) || any_contains(e->input->regions) || any_contains(e->cur->data_regions) ||
           any_contains(e->granted);
}

// Unchecked instantiations never reach the checked-mode fault labels.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-label"

// Runs the running program (e->cur) from `start` on frame e->depth with r1..r5 = args until that frame exits, and
// returns r0; or (when labels_out is set) only publishes this instantiation's label table. Re-entered by
// engine_call for callbacks (on a deeper frame).
template <bool kChecked>
Result<u64> exec(Engine* e, const ThreadedInsn* start, const u64* args, const void* const** labels_out) {
    static const void* const kLabels[] = {
#define X(name, opcode, disc, disc_value, shape, width, text, mnemonic) &&L_##name,
#include "isa/opcode_table.def"
#undef X
    };
    static_assert(sizeof(kLabels) / sizeof(kLabels[0]) == isa::kNumOps);
    if (labels_out) {
        *labels_out = kLabels;
        return 0;
    }

    const std::size_t base_depth = e->depth;
    std::size_t depth = base_depth;
    const u64 stack_top = e->stack_top;
    const RunInput* const input = e->input;
    Frame* const frames = e->frames;

    u64 reg[isa::kNumRegisters] = {};
    for (std::size_t i = 0; i < 5; ++i) reg[1 + i] = args[i];
    reg[isa::kFramePointer] = stack_top - base_depth * isa::kStackSize;

    const Program::Impl* cur = e->cur;
    const ThreadedInsn* base = (kChecked ? cur->code_checked : cur->code_unchecked).data();
    const ThreadedInsn* pc = start;
    const HelperFn* helpers = cur->helper_fns.data();

    u64 budget = kChecked ? e->budget : 0;

    // Fault details for checked mode.
    u64 fault_addr = 0;
    u64 fault_size = 0;
    bool fault_write = false;

    // Checked-mode access test (Engine::access_ok, shared with native code) with the loop's own depth.
    const auto access_ok = [&](u64 addr, u64 size, bool write) -> bool {
        return e->access_ok(addr, size, write, depth);
    };

#define DST reg[pc->dst]
#define SRC reg[pc->src]
#define IMM64 static_cast<u64>(static_cast<s64>(pc->imm))
#define IMM32 static_cast<u32>(pc->imm)
#define DISPATCH                                    \
    do {                                            \
        if constexpr (kChecked) {                   \
            if (budget == 0) goto budget_exhausted; \
            --budget;                               \
        }                                           \
        goto * pc->handler;                         \
    } while (0)
#define NEXT      \
    do {          \
        ++pc;     \
        DISPATCH; \
    } while (0)
#define JUMP_IF(cond)                   \
    do {                                \
        pc += (cond) ? pc->off + 1 : 1; \
        DISPATCH;                       \
    } while (0)
#define CHECK_ACCESS(addr, size, write)                \
    do {                                               \
        if constexpr (kChecked) {                      \
            if (!access_ok((addr), (size), (write))) { \
                fault_addr = (addr);                   \
                fault_size = (size);                   \
                fault_write = (write);                 \
                goto memory_fault;                     \
            }                                          \
        }                                              \
    } while (0)

    DISPATCH;

    // ---- ALU64 ----
L_Add64Imm:
    DST += IMM64;
    NEXT;
L_Add64Reg:
    DST += SRC;
    NEXT;
L_Sub64Imm:
    DST -= IMM64;
    NEXT;
L_Sub64Reg:
    DST -= SRC;
    NEXT;
L_Mul64Imm:
    DST *= IMM64;
    NEXT;
L_Mul64Reg:
    DST *= SRC;
    NEXT;
L_Div64Imm:
    DST = IMM64 ? DST / IMM64 : 0;
    NEXT;
L_Div64Reg:
    DST = SRC ? DST / SRC : 0;
    NEXT;
L_SDiv64Imm:
    DST = sdiv64(DST, IMM64);
    NEXT;
L_SDiv64Reg:
    DST = sdiv64(DST, SRC);
    NEXT;
L_Or64Imm:
    DST |= IMM64;
    NEXT;
L_Or64Reg:
    DST |= SRC;
    NEXT;
L_And64Imm:
    DST &= IMM64;
    NEXT;
L_And64Reg:
    DST &= SRC;
    NEXT;
L_Lsh64Imm:
    DST <<= (IMM64 & 63);
    NEXT;
L_Lsh64Reg:
    DST <<= (SRC & 63);
    NEXT;
L_Rsh64Imm:
    DST >>= (IMM64 & 63);
    NEXT;
L_Rsh64Reg:
    DST >>= (SRC & 63);
    NEXT;
L_Neg64:
    DST = 0 - DST;
    NEXT;
L_Mod64Imm:
    DST = IMM64 ? DST % IMM64 : DST;
    NEXT;
L_Mod64Reg:
    DST = SRC ? DST % SRC : DST;
    NEXT;
L_SMod64Imm:
    DST = smod64(DST, IMM64);
    NEXT;
L_SMod64Reg:
    DST = smod64(DST, SRC);
    NEXT;
L_Xor64Imm:
    DST ^= IMM64;
    NEXT;
L_Xor64Reg:
    DST ^= SRC;
    NEXT;
L_Mov64Imm:
    DST = IMM64;
    NEXT;
L_Mov64Reg:
    DST = SRC;
    NEXT;
L_MovSx8To64:
    DST = static_cast<u64>(static_cast<s64>(static_cast<s8>(SRC)));
    NEXT;
L_MovSx16To64:
    DST = static_cast<u64>(static_cast<s64>(static_cast<s16>(SRC)));
    NEXT;
L_MovSx32To64:
    DST = static_cast<u64>(static_cast<s64>(static_cast<s32>(SRC)));
    NEXT;
L_Arsh64Imm:
    DST = static_cast<u64>(static_cast<s64>(DST) >> (IMM64 & 63));
    NEXT;
L_Arsh64Reg:
    DST = static_cast<u64>(static_cast<s64>(DST) >> (SRC & 63));
    NEXT;
L_Bswap16:
    DST = __builtin_bswap16(static_cast<u16>(DST));
    NEXT;
L_Bswap32:
    DST = __builtin_bswap32(static_cast<u32>(DST));
    NEXT;
L_Bswap64:
    DST = __builtin_bswap64(DST);
    NEXT;

    // ---- ALU (32-bit, zero-extended) ----
L_Add32Imm:
    DST = static_cast<u32>(static_cast<u32>(DST) + IMM32);
    NEXT;
L_Add32Reg:
    DST = static_cast<u32>(static_cast<u32>(DST) + static_cast<u32>(SRC));
    NEXT;
L_Sub32Imm:
    DST = static_cast<u32>(static_cast<u32>(DST) - IMM32);
    NEXT;
L_Sub32Reg:
    DST = static_cast<u32>(static_cast<u32>(DST) - static_cast<u32>(SRC));
    NEXT;
L_Mul32Imm:
    DST = static_cast<u32>(static_cast<u32>(DST) * IMM32);
    NEXT;
L_Mul32Reg:
    DST = static_cast<u32>(static_cast<u32>(DST) * static_cast<u32>(SRC));
    NEXT;
L_Div32Imm:
    DST = IMM32 ? static_cast<u32>(DST) / IMM32 : 0;
    NEXT;
L_Div32Reg:
    DST = static_cast<u32>(SRC) ? static_cast<u32>(DST) / static_cast<u32>(SRC) : 0;
    NEXT;
L_SDiv32Imm:
    DST = sdiv32(static_cast<u32>(DST), IMM32);
    NEXT;
L_SDiv32Reg:
    DST = sdiv32(static_cast<u32>(DST), static_cast<u32>(SRC));
    NEXT;
L_Or32Imm:
    DST = static_cast<u32>(DST) | IMM32;
    NEXT;
L_Or32Reg:
    DST = static_cast<u32>(DST) | static_cast<u32>(SRC);
    NEXT;
L_And32Imm:
    DST = static_cast<u32>(DST) & IMM32;
    NEXT;
L_And32Reg:
    DST = static_cast<u32>(DST) & static_cast<u32>(SRC);
    NEXT;
L_Lsh32Imm:
    DST = static_cast<u32>(static_cast<u32>(DST) << (IMM32 & 31));
    NEXT;
L_Lsh32Reg:
    DST = static_cast<u32>(static_cast<u32>(DST) << (SRC & 31));
    NEXT;
L_Rsh32Imm:
    DST = static_cast<u32>(DST) >> (IMM32 & 31);
    NEXT;
L_Rsh32Reg:
    DST = static_cast<u32>(DST) >> (SRC & 31);
    NEXT;
L_Neg32:
    DST = static_cast<u32>(0u - static_cast<u32>(DST));
    NEXT;
L_Mod32Imm:
    DST = IMM32 ? static_cast<u32>(DST) % IMM32 : static_cast<u32>(DST);
    NEXT;
L_Mod32Reg:
    DST = static_cast<u32>(SRC) ? static_cast<u32>(DST) % static_cast<u32>(SRC) : static_cast<u32>(DST);
    NEXT;
L_SMod32Imm:
    DST = smod32(static_cast<u32>(DST), IMM32);
    NEXT;
L_SMod32Reg:
    DST = smod32(static_cast<u32>(DST), static_cast<u32>(SRC));
    NEXT;
L_Xor32Imm:
    DST = static_cast<u32>(DST) ^ IMM32;
    NEXT;
L_Xor32Reg:
    DST = static_cast<u32>(DST) ^ static_cast<u32>(SRC);
    NEXT;
L_Mov32Imm:
    DST = IMM32;
    NEXT;
L_Mov32Reg:
    DST = static_cast<u32>(SRC);
    NEXT;
L_MovSx8To32:
    DST = static_cast<u32>(static_cast<s32>(static_cast<s8>(SRC)));
    NEXT;
L_MovSx16To32:
    DST = static_cast<u32>(static_cast<s32>(static_cast<s16>(SRC)));
    NEXT;
L_Arsh32Imm:
    DST = static_cast<u32>(static_cast<s32>(static_cast<u32>(DST)) >> (IMM32 & 31));
    NEXT;
L_Arsh32Reg:
    DST = static_cast<u32>(static_cast<s32>(static_cast<u32>(DST)) >> (SRC & 31));
    NEXT;
L_Le16:
    DST = static_cast<u16>(DST);
    NEXT;
L_Le32:
    DST = static_cast<u32>(DST);
    NEXT;
L_Le64:
    NEXT;
L_Be16:
    DST = __builtin_bswap16(static_cast<u16>(DST));
    NEXT;
L_Be32:
    DST = __builtin_bswap32(static_cast<u32>(DST));
    NEXT;
L_Be64:
    DST = __builtin_bswap64(DST);
    NEXT;

    // ---- JMP ----
L_Ja:
    JUMP_IF(true);
L_Jeq64Imm:
    JUMP_IF(DST == IMM64);
L_Jeq64Reg:
    JUMP_IF(DST == SRC);
L_Jgt64Imm:
    JUMP_IF(DST > IMM64);
L_Jgt64Reg:
    JUMP_IF(DST > SRC);
L_Jge64Imm:
    JUMP_IF(DST >= IMM64);
L_Jge64Reg:
    JUMP_IF(DST >= SRC);
L_Jset64Imm:
    JUMP_IF(DST & IMM64);
L_Jset64Reg:
    JUMP_IF(DST & SRC);
L_Jne64Imm:
    JUMP_IF(DST != IMM64);
L_Jne64Reg:
    JUMP_IF(DST != SRC);
L_Jsgt64Imm:
    JUMP_IF(static_cast<s64>(DST) > static_cast<s64>(IMM64));
L_Jsgt64Reg:
    JUMP_IF(static_cast<s64>(DST) > static_cast<s64>(SRC));
L_Jsge64Imm:
    JUMP_IF(static_cast<s64>(DST) >= static_cast<s64>(IMM64));
L_Jsge64Reg:
    JUMP_IF(static_cast<s64>(DST) >= static_cast<s64>(SRC));
L_Jlt64Imm:
    JUMP_IF(DST < IMM64);
L_Jlt64Reg:
    JUMP_IF(DST < SRC);
L_Jle64Imm:
    JUMP_IF(DST <= IMM64);
L_Jle64Reg:
    JUMP_IF(DST <= SRC);
L_Jslt64Imm:
    JUMP_IF(static_cast<s64>(DST) < static_cast<s64>(IMM64));
L_Jslt64Reg:
    JUMP_IF(static_cast<s64>(DST) < static_cast<s64>(SRC));
L_Jsle64Imm:
    JUMP_IF(static_cast<s64>(DST) <= static_cast<s64>(IMM64));
L_Jsle64Reg:
    JUMP_IF(static_cast<s64>(DST) <= static_cast<s64>(SRC));

    // ---- JMP32 ----
L_Gotol:
    pc += pc->imm + 1;
    DISPATCH;
#define D32 static_cast<u32>(DST)
#define S32 static_cast<u32>(SRC)
L_Jeq32Imm:
    JUMP_IF(D32 == IMM32);
L_Jeq32Reg:
    JUMP_IF(D32 == S32);
L_Jgt32Imm:
    JUMP_IF(D32 > IMM32);
L_Jgt32Reg:
    JUMP_IF(D32 > S32);
L_Jge32Imm:
    JUMP_IF(D32 >= IMM32);
L_Jge32Reg:
    JUMP_IF(D32 >= S32);
L_Jset32Imm:
    JUMP_IF(D32 & IMM32);
L_Jset32Reg:
    JUMP_IF(D32 & S32);
L_Jne32Imm:
    JUMP_IF(D32 != IMM32);
L_Jne32Reg:
    JUMP_IF(D32 != S32);
L_Jsgt32Imm:
    JUMP_IF(static_cast<s32>(D32) > pc->imm);
L_Jsgt32Reg:
    JUMP_IF(static_cast<s32>(D32) > static_cast<s32>(S32));
L_Jsge32Imm:
    JUMP_IF(static_cast<s32>(D32) >= pc->imm);
L_Jsge32Reg:
    JUMP_IF(static_cast<s32>(D32) >= static_cast<s32>(S32));
L_Jlt32Imm:
    JUMP_IF(D32 < IMM32);
L_Jlt32Reg:
    JUMP_IF(D32 < S32);
L_Jle32Imm:
    JUMP_IF(D32 <= IMM32);
L_Jle32Reg:
    JUMP_IF(D32 <= S32);
L_Jslt32Imm:
    JUMP_IF(static_cast<s32>(D32) < pc->imm);
L_Jslt32Reg:
    JUMP_IF(static_cast<s32>(D32) < static_cast<s32>(S32));
L_Jsle32Imm:
    JUMP_IF(static_cast<s32>(D32) <= pc->imm);
L_Jsle32Reg:
    JUMP_IF(static_cast<s32>(D32) <= static_cast<s32>(S32));
#undef D32
#undef S32

    // ---- calls and exit ----
L_Call:
    e->depth = depth;
    if constexpr (kChecked) {
        e->budget = budget;
        // Helpers trust their arguments (the verifier proves them): a checked run proves them here.
        if (auto bad = check_helper_args(*e, static_cast<std::size_t>(pc->imm), &reg[1],
                                         static_cast<std::size_t>(pc - base))) [[unlikely]]
            return std::unexpected(std::move(*bad));
    }
    reg[0] = helpers[pc->imm](reg[1], reg[2], reg[3], reg[4], reg[5], &e->ctx);
    if constexpr (kChecked) budget = e->budget;
    if (e->ctx.aborted) [[unlikely]]
        goto callback_failed;
    if (e->tail_target) [[unlikely]] {
        // bpf_tail_call succeeded: the target replaces the running program on this frame, from its entry, with
        // r1 = ctx and a fresh frame (the kernel reuses the caller's stack frame).
        cur = e->tail_target;
        e->cur = cur;
        e->tail_target = nullptr;
        base = (kChecked ? cur->code_checked : cur->code_unchecked).data();
        helpers = cur->helper_fns.data();
        const u64 ctx = e->tail_ctx;
        for (u64& r : reg) r = 0;
        reg[1] = ctx;
        reg[isa::kFramePointer] = stack_top - depth * isa::kStackSize;
        if constexpr (kChecked) {
            std::memset(reinterpret_cast<void*>(reg[isa::kFramePointer] - isa::kStackSize), 0, isa::kStackSize);
            for (const MemoryRegion& r : cur->data_regions)
                e->grant(reinterpret_cast<const void*>(r.start), r.size, r.writable, "global data");
        }
        pc = base;
        DISPATCH;
    }
    NEXT;
L_CallLocal : {
    const ThreadedInsn* target = pc + pc->imm + 1;
    if (depth + 1 >= isa::kMaxCallDepth) goto call_too_deep;
    Frame& f = frames[depth++];
    f.ret = pc + 1;
    f.impl = cur;
    f.saved[0] = reg[6];
    f.saved[1] = reg[7];
    f.saved[2] = reg[8];
    f.saved[3] = reg[9];
    f.saved[4] = reg[isa::kFramePointer];
    reg[isa::kFramePointer] -= isa::kStackSize;
    pc = target;
    DISPATCH;
}
L_CallKfunc:  // rejected by Program::load
    goto bad_code;
L_Callx : {
    const u64 t = DST;
    if (t >= cur->insns.size() || !cur->is_function_start[t]) {
        fault_addr = t;
        goto bad_callx;
    }
    if (depth + 1 >= isa::kMaxCallDepth) goto call_too_deep;
    Frame& f = frames[depth++];
    f.ret = pc + 1;
    f.impl = cur;
    f.saved[0] = reg[6];
    f.saved[1] = reg[7];
    f.saved[2] = reg[8];
    f.saved[3] = reg[9];
    f.saved[4] = reg[isa::kFramePointer];
    reg[isa::kFramePointer] -= isa::kStackSize;
    pc = base + t;
    DISPATCH;
}
L_Exit:
    if (depth == base_depth) goto done;
    {
        const Frame& f = frames[--depth];
        reg[6] = f.saved[0];
        reg[7] = f.saved[1];
        reg[8] = f.saved[2];
        reg[9] = f.saved[3];
        reg[isa::kFramePointer] = f.saved[4];
        pc = f.ret;
        if (f.impl != cur) [[unlikely]] {  // returning from a tail-called program into its caller's program
            cur = f.impl;
            e->cur = cur;
            base = (kChecked ? cur->code_checked : cur->code_unchecked).data();
            helpers = cur->helper_fns.data();
        }
    }
    DISPATCH;

    // ---- 64-bit immediate and legacy packet loads ----
L_Lddw:
    DST = static_cast<u32>(pc->imm) | (static_cast<u64>(static_cast<u32>(pc[1].imm)) << 32);
    pc += 2;
    DISPATCH;
#define PACKET_LOAD(T, offset_expr, swap)                   \
    do {                                                    \
        const u64 o = (offset_expr);                        \
        const auto& pkt = input->packet;                    \
        if (o > pkt.size() || pkt.size() - o < sizeof(T)) { \
            reg[0] = 0;                                     \
            goto done;                                      \
        }                                                   \
        T v;                                                \
        std::memcpy(&v, pkt.data() + o, sizeof(T));         \
        reg[0] = swap(v);                                   \
        NEXT;                                               \
    } while (0)
#define NOSWAP(v) (v)
L_LdAbsB:
    PACKET_LOAD(u8, static_cast<u32>(pc->imm), NOSWAP);
L_LdAbsH:
    PACKET_LOAD(u16, static_cast<u32>(pc->imm), __builtin_bswap16);
L_LdAbsW:
    PACKET_LOAD(u32, static_cast<u32>(pc->imm), __builtin_bswap32);
L_LdIndB:
    PACKET_LOAD(u8, static_cast<u32>(static_cast<u32>(SRC) + IMM32), NOSWAP);
L_LdIndH:
    PACKET_LOAD(u16, static_cast<u32>(static_cast<u32>(SRC) + IMM32), __builtin_bswap16);
L_LdIndW:
    PACKET_LOAD(u32, static_cast<u32>(static_cast<u32>(SRC) + IMM32), __builtin_bswap32);
#undef NOSWAP
#undef PACKET_LOAD

    // ---- loads and stores ----
#define LOAD(T, ext)                                              \
    do {                                                          \
        const u64 a = SRC + static_cast<s64>(pc->off);            \
        CHECK_ACCESS(a, sizeof(T), false);                        \
        DST = static_cast<u64>(static_cast<ext>(load_mem<T>(a))); \
        NEXT;                                                     \
    } while (0)
L_LdxB:
    LOAD(u8, u64);
L_LdxH:
    LOAD(u16, u64);
L_LdxW:
    LOAD(u32, u64);
L_LdxDW:
    LOAD(u64, u64);
L_LdxSB:
    LOAD(s8, s64);
L_LdxSH:
    LOAD(s16, s64);
L_LdxSW:
    LOAD(s32, s64);
#undef LOAD
#define STORE(T, value)                                \
    do {                                               \
        const u64 a = DST + static_cast<s64>(pc->off); \
        CHECK_ACCESS(a, sizeof(T), true);              \
        store_mem<T>(a, static_cast<T>(value));        \
        NEXT;                                          \
    } while (0)
L_StB:
    STORE(u8, pc->imm);
L_StH:
    STORE(u16, pc->imm);
L_StW:
    STORE(u32, pc->imm);
L_StDW:
    STORE(u64, IMM64);
L_StxB:
    STORE(u8, SRC);
L_StxH:
    STORE(u16, SRC);
L_StxW:
    STORE(u32, SRC);
L_StxDW:
    STORE(u64, SRC);
#undef STORE

    // ---- atomics: sequentially consistent read-modify-write (the kernel uses full barriers) ----
#define ATOMIC_ADDR(T)                             \
    const u64 a = DST + static_cast<s64>(pc->off); \
    CHECK_ACCESS(a, sizeof(T), true);              \
    if constexpr (kChecked) {                      \
        if (a % sizeof(T) != 0) {                  \
            fault_addr = a;                        \
            fault_size = sizeof(T);                \
            goto misaligned_atomic;                \
        }                                          \
    }                                              \
    T* p = reinterpret_cast<T*>(a)
#define ATOMIC_OP(T, builtin, fetch)                                     \
    do {                                                                 \
        ATOMIC_ADDR(T);                                                  \
        const T old = builtin(p, static_cast<T>(SRC), __ATOMIC_SEQ_CST); \
        if (fetch) SRC = old;                                            \
        NEXT;                                                            \
    } while (0)
L_AtomicAdd32:
    ATOMIC_OP(u32, __atomic_fetch_add, false);
L_AtomicOr32:
    ATOMIC_OP(u32, __atomic_fetch_or, false);
L_AtomicAnd32:
    ATOMIC_OP(u32, __atomic_fetch_and, false);
L_AtomicXor32:
    ATOMIC_OP(u32, __atomic_fetch_xor, false);
L_AtomicFetchAdd32:
    ATOMIC_OP(u32, __atomic_fetch_add, true);
L_AtomicFetchOr32:
    ATOMIC_OP(u32, __atomic_fetch_or, true);
L_AtomicFetchAnd32:
    ATOMIC_OP(u32, __atomic_fetch_and, true);
L_AtomicFetchXor32:
    ATOMIC_OP(u32, __atomic_fetch_xor, true);
L_AtomicXchg32:
    ATOMIC_OP(u32, __atomic_exchange_n, true);
L_AtomicAdd64:
    ATOMIC_OP(u64, __atomic_fetch_add, false);
L_AtomicOr64:
    ATOMIC_OP(u64, __atomic_fetch_or, false);
L_AtomicAnd64:
    ATOMIC_OP(u64, __atomic_fetch_and, false);
L_AtomicXor64:
    ATOMIC_OP(u64, __atomic_fetch_xor, false);
L_AtomicFetchAdd64:
    ATOMIC_OP(u64, __atomic_fetch_add, true);
L_AtomicFetchOr64:
    ATOMIC_OP(u64, __atomic_fetch_or, true);
L_AtomicFetchAnd64:
    ATOMIC_OP(u64, __atomic_fetch_and, true);
L_AtomicFetchXor64:
    ATOMIC_OP(u64, __atomic_fetch_xor, true);
L_AtomicXchg64:
    ATOMIC_OP(u64, __atomic_exchange_n, true);
L_AtomicCmpxchg32 : {
    ATOMIC_ADDR(u32);
    u32 expected = static_cast<u32>(reg[0]);
    __atomic_compare_exchange_n(p, &expected, static_cast<u32>(SRC), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    reg[0] = expected;  // the old value, zero-extended, whether or not it matched
    NEXT;
}
L_AtomicCmpxchg64 : {
    ATOMIC_ADDR(u64);
    u64 expected = reg[0];
    __atomic_compare_exchange_n(p, &expected, SRC, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    reg[0] = expected;
    NEXT;
}
#undef ATOMIC_OP
#undef ATOMIC_ADDR

done:
    if constexpr (kChecked) e->budget = budget;
    return reg[0];

    // ---- faults ----
memory_fault : {
    const std::size_t idx = static_cast<std::size_t>(pc - base);
    return make_error(ErrorCode::kRuntime,
                      fmt::format("invalid {} of {} byte{} at {:#x}: outside the stack frame and the program's "
                                  "memory regions",
                                  fault_write ? "write" : "read", fault_size, fault_size == 1 ? "" : "s", fault_addr),
                      at_insn(idx));
}
misaligned_atomic:
    return make_error(ErrorCode::kRuntime,
                      fmt::format("misaligned atomic access of {} bytes at {:#x}", fault_size, fault_addr),
                      at_insn(static_cast<std::size_t>(pc - base)));
budget_exhausted:
    e->budget = 0;
    return make_error(ErrorCode::kRuntime,
                      fmt::format("instruction budget of {} exhausted (infinite loop?)", e->initial_budget),
                      at_insn(static_cast<std::size_t>(pc - base)));
callback_failed:
    if (!e->error->where.insn) e->error->where.insn = static_cast<std::size_t>(pc - base);
    return std::unexpected(*e->error);
call_too_deep:
    return make_error(ErrorCode::kRuntime, fmt::format("call depth exceeds {} frames", isa::kMaxCallDepth),
                      at_insn(static_cast<std::size_t>(pc - base)));
bad_callx:
    return make_error(ErrorCode::kRuntime, fmt::format("callx to {:#x}, which is not a function", fault_addr),
                      at_insn(static_cast<std::size_t>(pc - base)));
bad_code:
    return make_error(ErrorCode::kUnsupported, "instruction not executable by the interpreter",
                      at_insn(static_cast<std::size_t>(pc - base)));

#undef DST
#undef SRC
#undef IMM64
#undef IMM32
#undef DISPATCH
#undef NEXT
#undef JUMP_IF
#undef CHECK_ACCESS
}

#pragma GCC diagnostic pop

}  // namespace

// Checked mode: is [addr, addr + size) inside memory granted during the run? The region hit last is tried first,
// then the others newest first (a program mostly touches what a helper handed it last).
bool Engine::granted_ok(u64 addr, u64 size, bool write) {
    const std::vector<MemoryRegion>& g = granted;
    if (last_hit < g.size() && g[last_hit].contains(addr, size)) return !write || g[last_hit].writable;
    // The region starting closest below addr (regions rarely overlap; when they do, the scan below decides).
    if (auto it = granted_by_start.upper_bound(addr); it != granted_by_start.begin()) {
        --it;
        if (g[it->second].contains(addr, size) && (!write || g[it->second].writable)) {
            last_hit = it->second;
            return true;
        }
    }
    for (std::size_t i = g.size(); i-- > 0;)
        if (g[i].contains(addr, size)) {
            last_hit = i;
            return !write || g[i].writable;
        }
    return false;
}

void Engine::grant(const void* p, std::size_t n, bool writable, const char* name) {
    const u64 start = reinterpret_cast<u64>(p);
    if (last_hit < granted.size() && granted[last_hit].start == start && granted[last_hit].size >= n &&
        (granted[last_hit].writable || !writable))
        return;  // the common repeat: the value the program just used
    if (auto it = granted_by_start.find(start); it != granted_by_start.end()) {
        MemoryRegion& r = granted[it->second];
        if (r.size >= n && (r.writable || !writable)) return;
        if (r.size <= n && (writable || !r.writable)) {  // the new region covers the old one: widen it
            r.size = n;
            r.writable = writable;
            return;
        }
    }
    granted_by_start[start] = granted.size();
    granted.push_back(MemoryRegion{start, n, writable, name});
}

void Engine::revoke_to(std::size_t mark) {
    if (mark >= granted.size()) return;
    for (std::size_t i = mark; i < granted.size(); ++i) {
        auto it = granted_by_start.find(granted[i].start);
        if (it != granted_by_start.end() && it->second == i) granted_by_start.erase(it);
    }
    granted.resize(mark);
    last_hit = 0;
}

u64 engine_call(helpers::Context* self, u64 fn, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5) {
    Engine* e = Engine::from(self);
    if (self->aborted) return 0;
    const Program::Impl* impl = e->cur;
    if (fn >= impl->insns.size() || !impl->is_function_start[fn]) {
        e->error =
            make_error(ErrorCode::kRuntime, fmt::format("callback address {:#x} is not a function of the program", fn))
                .error();
        self->aborted = true;
        return 0;
    }
    if (e->depth + 1 >= isa::kMaxCallDepth) {
        e->error =
            make_error(ErrorCode::kRuntime, fmt::format("callback: call depth exceeds {} frames", isa::kMaxCallDepth))
                .error();
        self->aborted = true;
        return 0;
    }
    const std::size_t saved_depth = e->depth;
    ++e->depth;
    const u64 args[5] = {a1, a2, a3, a4, a5};
    const NativeCode* native = e->native_for(impl);
    auto r = native       ? native->run(e, fn, args)
             : e->checked ? exec<true>(e, impl->code_checked.data() + fn, args, nullptr)
                          : exec<false>(e, impl->code_unchecked.data() + fn, args, nullptr);
    e->depth = saved_depth;
    e->cur = impl;
    if (!r) {
        if (!self->aborted) {
            e->error = r.error();
            self->aborted = true;
        }
        return 0;
    }
    return *r;
}

const void* const* interpreter_labels(bool checked) {
    const void* const* labels = nullptr;
    if (checked)
        (void)exec<true>(nullptr, nullptr, nullptr, &labels);
    else
        (void)exec<false>(nullptr, nullptr, nullptr, &labels);
    return labels;
}

Result<u64> interpret_function(Engine* e, std::size_t fn, const u64* args) {
    return e->checked ? exec<true>(e, e->cur->code_checked.data() + fn, args, nullptr)
                      : exec<false>(e, e->cur->code_unchecked.data() + fn, args, nullptr);
}

namespace {

Result<RunResult> run_program(const Program& program, const RunInput& input, const RunOptions& options,
                              bool allow_native) {
    alignas(16) u8 stack[kStackBytes];
    if (options.checked || options.zero_stack) std::memset(stack, 0, sizeof(stack));
    Engine e;
    e.checked = options.checked;
    e.cur = &program.impl();
    e.input = &input;
    e.stack_top = reinterpret_cast<u64>(stack) + kStackBytes;
    e.budget = options.checked ? options.insn_budget : 0;
    e.initial_budget = e.budget;
    e.use_native = allow_native;
    e.ctx.user = input.user;
    e.ctx.env = input.env ? input.env : &helpers::default_environment();
    e.ctx.ctx = input.args[0];
    e.ctx.prog_type = input.prog_type ? input.prog_type : program.impl().prog_type;
    e.ctx.packet = input.packet_buffer;
    e.ctx.grant = options.checked ? grant_checked : grant_unchecked;
    e.ctx.call = engine_call;
    e.ctx.owns = engine_owns;
    e.ctx.engine = &e;
    if (options.checked)
        for (const MemoryRegion& r : program.impl().data_regions)
            e.grant(reinterpret_cast<const void*>(r.start), r.size, r.writable, "global data");
    const NativeCode* native = e.native_for(e.cur);
    auto r = native            ? native->run(&e, 0, input.args.data())
             : options.checked ? exec<true>(&e, program.impl().code_checked.data(), input.args.data(), nullptr)
                               : exec<false>(&e, program.impl().code_unchecked.data(), input.args.data(), nullptr);
    if (!r) return std::unexpected(r.error());
    return RunResult{*r, options.checked ? e.initial_budget - e.budget : 0, native != nullptr};
}

}  // namespace

Result<RunResult> interpret(const Program& program, const RunInput& input, const RunOptions& options) {
    return run_program(program, input, options, false);
}

Result<RunResult> run(const Program& program, const RunInput& input, const RunOptions& options) {
    return run_program(program, input, options, options.engine != EngineKind::Interp);
}

}  // namespace xbpf::vm
