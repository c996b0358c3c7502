#include "switch_baseline.hpp"

#include <cstring>

namespace xbpf::bench {
namespace {

using u32 = std::uint32_t;
using u64 = std::uint64_t;
using s32 = std::int32_t;
using s64 = std::int64_t;

struct Bounds {
    u64 mem, mem_end, stack, stack_end;
};

// Out of line on purpose, like the per-access check function of the design being modelled.
[[gnu::noinline]] bool bounds_ok(const Bounds& b, u64 addr, u64 size) {
    return (addr >= b.mem && addr + size <= b.mem_end) || (addr >= b.stack && addr + size <= b.stack_end);
}

}  // namespace

std::optional<std::uint64_t> run_switch_baseline(std::span<const isa::RawInsn> program, std::span<std::uint8_t> mem) {
    alignas(16) std::uint8_t stack[512];
    u64 reg[11] = {};
    reg[1] = reinterpret_cast<u64>(mem.data());
    reg[2] = mem.size();
    reg[10] = reinterpret_cast<u64>(stack) + sizeof(stack);
    const Bounds b{reg[1], reg[1] + mem.size(), reinterpret_cast<u64>(stack), reg[10]};
    const std::size_t n = program.size();
    std::size_t pc = 0;

#define D reg[in.dst]
#define S reg[in.src]
#define I static_cast<u64>(static_cast<s64>(in.imm))
#define I32 static_cast<u32>(in.imm)
#define ALU64(code, expr_imm, expr_reg) \
    case code: D = expr_imm; break;     \
    case code + 8:                      \
        D = expr_reg;                   \
        break;
#define ALU32(code, op)                                                   \
    case code: D = static_cast<u32>(static_cast<u32>(D) op I32); break;   \
    case code + 8:                                                        \
        D = static_cast<u32>(static_cast<u32>(D) op static_cast<u32>(S)); \
        break;
#define JMP(code, cond_imm, cond_reg) \
    case code:                        \
        if (cond_imm) pc += in.off;   \
        break;                        \
    case code + 8:                    \
        if (cond_reg) pc += in.off;   \
        break;
#define MEM(T, addr_expr, action)                   \
    {                                               \
        const u64 a = (addr_expr);                  \
        if (!bounds_ok(b, a, sizeof(T))) return {}; \
        T v;                                        \
        action;                                     \
    }                                               \
    break;

    for (;;) {
        if (pc >= n) return {};
        const isa::RawInsn in = program[pc++];
        switch (in.opcode) {
            ALU64(0x07, D + I, D + S)
            ALU64(0x17, D - I, D - S)
            ALU64(0x27, D * I, D * S)
            ALU64(0x37, I ? D / I : 0, S ? D / S : 0)
            ALU64(0x47, D | I, D | S)
            ALU64(0x57, D & I, D & S)
            ALU64(0x67, D << (I & 63), D << (S & 63))
            ALU64(0x77, D >> (I & 63), D >> (S & 63))
            ALU64(0x97, I ? D % I : D, S ? D % S : D)
            ALU64(0xa7, D ^ I, D ^ S)
            ALU64(0xb7, I, S)
            ALU64(0xc7, static_cast<u64>(static_cast<s64>(D) >> (I & 63)),
                  static_cast<u64>(static_cast<s64>(D) >> (S & 63)))
            case 0x87:
                D = 0 - D;
                break;
                ALU32(0x04, +)
                ALU32(0x14, -)
                ALU32(0x24, *)
                ALU32(0x44, |)
                ALU32(0x54, &)
                ALU32(0xa4, ^)
            case 0x34: D = I32 ? static_cast<u32>(D) / I32 : 0; break;
            case 0x3c: D = static_cast<u32>(S) ? static_cast<u32>(D) / static_cast<u32>(S) : 0; break;
            case 0x94: D = I32 ? static_cast<u32>(D) % I32 : static_cast<u32>(D); break;
            case 0x9c: D = static_cast<u32>(S) ? static_cast<u32>(D) % static_cast<u32>(S) : static_cast<u32>(D); break;
            case 0x64: D = static_cast<u32>(static_cast<u32>(D) << (I32 & 31)); break;
            case 0x6c: D = static_cast<u32>(static_cast<u32>(D) << (S & 31)); break;
            case 0x74: D = static_cast<u32>(D) >> (I32 & 31); break;
            case 0x7c: D = static_cast<u32>(D) >> (S & 31); break;
            case 0xc4: D = static_cast<u32>(static_cast<s32>(static_cast<u32>(D)) >> (I32 & 31)); break;
            case 0xcc: D = static_cast<u32>(static_cast<s32>(static_cast<u32>(D)) >> (S & 31)); break;
            case 0x84: D = static_cast<u32>(0u - static_cast<u32>(D)); break;
            case 0xb4: D = I32; break;
            case 0xbc: D = static_cast<u32>(S); break;
            case 0xdc:
                D = in.imm == 16   ? __builtin_bswap16(static_cast<std::uint16_t>(D))
                    : in.imm == 32 ? __builtin_bswap32(static_cast<u32>(D))
                                   : __builtin_bswap64(D);
                break;
            case 0x05:
                pc += in.off;
                break;
                JMP(0x15, D == I, D == S)
                JMP(0x25, D > I, D > S)
                JMP(0x35, D >= I, D >= S)
                JMP(0x45, D & I, D & S)
                JMP(0x55, D != I, D != S)
                JMP(0x65, static_cast<s64>(D) > static_cast<s64>(I), static_cast<s64>(D) > static_cast<s64>(S))
                JMP(0x75, static_cast<s64>(D) >= static_cast<s64>(I), static_cast<s64>(D) >= static_cast<s64>(S))
                JMP(0xa5, D < I, D < S)
                JMP(0xb5, D <= I, D <= S)
                JMP(0xc5, static_cast<s64>(D) < static_cast<s64>(I), static_cast<s64>(D) < static_cast<s64>(S))
                JMP(0xd5, static_cast<s64>(D) <= static_cast<s64>(I), static_cast<s64>(D) <= static_cast<s64>(S))
#define D32 static_cast<u32>(D)
#define S32 static_cast<u32>(S)
                JMP(0x16, D32 == I32, D32 == S32)
                JMP(0x26, D32 > I32, D32 > S32)
                JMP(0x36, D32 >= I32, D32 >= S32)
                JMP(0x46, D32 & I32, D32 & S32)
                JMP(0x56, D32 != I32, D32 != S32)
                JMP(0x66, static_cast<s32>(D32) > in.imm, static_cast<s32>(D32) > static_cast<s32>(S32))
                JMP(0x76, static_cast<s32>(D32) >= in.imm, static_cast<s32>(D32) >= static_cast<s32>(S32))
                JMP(0xa6, D32 < I32, D32 < S32)
                JMP(0xb6, D32 <= I32, D32 <= S32)
                JMP(0xc6, static_cast<s32>(D32) < in.imm, static_cast<s32>(D32) < static_cast<s32>(S32))
                JMP(0xd6, static_cast<s32>(D32) <= in.imm, static_cast<s32>(D32) <= static_cast<s32>(S32))
#undef D32
#undef S32
            case 0x18:
                if (pc >= n) return {};
                D = static_cast<u32>(in.imm) | (static_cast<u64>(static_cast<u32>(program[pc].imm)) << 32);
                ++pc;
                break;
            case 0x71: MEM(std::uint8_t, S + in.off, (std::memcpy(&v, reinterpret_cast<void*>(a), 1), D = v))
            case 0x69: MEM(std::uint16_t, S + in.off, (std::memcpy(&v, reinterpret_cast<void*>(a), 2), D = v))
            case 0x61: MEM(u32, S + in.off, (std::memcpy(&v, reinterpret_cast<void*>(a), 4), D = v))
            case 0x79: MEM(u64, S + in.off, (std::memcpy(&v, reinterpret_cast<void*>(a), 8), D = v))
            case 0x72:
                MEM(std::uint8_t, D + in.off,
                    (v = static_cast<std::uint8_t>(in.imm), std::memcpy(reinterpret_cast<void*>(a), &v, 1)))
            case 0x6a:
                MEM(std::uint16_t, D + in.off,
                    (v = static_cast<std::uint16_t>(in.imm), std::memcpy(reinterpret_cast<void*>(a), &v, 2)))
            case 0x62:
                MEM(u32, D + in.off, (v = static_cast<u32>(in.imm), std::memcpy(reinterpret_cast<void*>(a), &v, 4)))
            case 0x7a: MEM(u64, D + in.off, (v = I, std::memcpy(reinterpret_cast<void*>(a), &v, 8)))
            case 0x73:
                MEM(std::uint8_t, D + in.off,
                    (v = static_cast<std::uint8_t>(S), std::memcpy(reinterpret_cast<void*>(a), &v, 1)))
            case 0x6b:
                MEM(std::uint16_t, D + in.off,
                    (v = static_cast<std::uint16_t>(S), std::memcpy(reinterpret_cast<void*>(a), &v, 2)))
            case 0x63: MEM(u32, D + in.off, (v = static_cast<u32>(S), std::memcpy(reinterpret_cast<void*>(a), &v, 4)))
            case 0x7b: MEM(u64, D + in.off, (v = S, std::memcpy(reinterpret_cast<void*>(a), &v, 8)))
            case 0x95: return reg[0];
            default: return {};
        }
    }
#undef D
#undef S
#undef I
#undef I32
#undef ALU64
#undef ALU32
#undef JMP
#undef MEM
}

}  // namespace xbpf::bench
