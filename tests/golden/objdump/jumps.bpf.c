// Every conditional jump (64-bit and, from -mcpu=v3, JMP32), signed and unsigned, with immediates and registers;
// unconditional and backward jumps from loops.
#include "golden_common.h"

volatile u64 out;

#define JUMP_CASES(T, a, b)               \
    if ((T)a == (T)b) out += 1;           \
    if ((T)a != (T)b) out += 2;           \
    if ((T)a > (T)b) out += 3;            \
    if ((T)a >= (T)b) out += 4;           \
    if ((T)a < (T)b) out += 5;            \
    if ((T)a <= (T)b) out += 6;           \
    if ((s64)(T)a > (s64)(T)b) out += 7;  \
    if ((s64)(T)a >= (s64)(T)b) out += 8; \
    if ((s64)(T)a < (s64)(T)b) out += 9;  \
    if ((s64)(T)a <= (s64)(T)b) out += 10;

SEC("xdp") int jump64_reg(u64* ctx) {
    u64 a = ctx[0], b = ctx[1];
    JUMP_CASES(u64, a, b)
    if (a & b) out += 11;
    return 0;
}

SEC("xdp") int jump64_imm(u64* ctx) {
    u64 a = ctx[0];
    if (a == 5) out += 1;
    if (a != 77) out += 2;
    if (a > 1000) out += 3;
    if (a >= 4096) out += 4;
    if (a < 7) out += 5;
    if (a <= 0x7fffffff) out += 6;
    if ((s64)a > -5) out += 7;
    if ((s64)a >= -100) out += 8;
    if ((s64)a < -2147483647 - 1) out += 9;
    if ((s64)a <= 0) out += 10;
    if (a & 0x40) out += 11;
    return 0;
}

SEC("xdp") int jump32(u32* ctx) {
    u32 a = ctx[0], b = ctx[1];
    if (a == b) out += 1;
    if (a != b) out += 2;
    if (a > b) out += 3;
    if (a >= b) out += 4;
    if (a < b) out += 5;
    if (a <= b) out += 6;
    if ((s32)a > (s32)b) out += 7;
    if ((s32)a >= (s32)b) out += 8;
    if ((s32)a < (s32)b) out += 9;
    if ((s32)a <= (s32)b) out += 10;
    if (a == 3) out += 11;
    if (a != 0xffffffff) out += 12;
    if (a > 9) out += 13;
    if (a >= 10) out += 14;
    if (a < 0x80000000u) out += 15;
    if (a <= 1) out += 16;
    if ((s32)a > -1) out += 17;
    if ((s32)a >= -7) out += 18;
    if ((s32)a < 100) out += 19;
    if ((s32)a <= -100) out += 20;
    return 0;
}

SEC("xdp") int loops(u64* ctx) {
    u64 n = ctx[0], sum = 0;
#pragma clang loop unroll(disable)
    for (u64 i = 0; i < 64 && i < n; i++) sum += ctx[i & 7] * i;
    u32 m = (u32)ctx[1];
#pragma clang loop unroll(disable)
    while (m > 3) {
        m = (m & 1) ? 3 * m + 1 : m / 2;
        sum ^= m;
    }
    return (int)sum;
}

SEC("xdp") int select(u64* ctx) {
    s64 a = (s64)ctx[0], b = (s64)ctx[1];
    s64 r = a < b ? a : b;
    r += a > 0 ? 10 : 20;
    if (a == -1 || b == -1) goto out;
    r *= 3;
out:
    return (int)r;
}

// Loop back edges keep the loop's own condition, so they reach compare forms (jne, jge/jgt on w registers) that
// if-statements canonicalize away. (clang turns `x >= C` into `x > C - 1`: the imm forms of >=, <= never appear.)
// clang-format off
#define DO_WHILE(name, T, cond)                    \
    SEC("xdp") int name(T* ctx) {                  \
        T a = ctx[0], b = ctx[1];                  \
        u64 n = 0;                                 \
        _Pragma("clang loop unroll(disable)") do { \
            a = (T)(a * 3 + 1);                    \
            out = a;                               \
            n++;                                   \
        } while (cond);                            \
        return (int)n;                             \
    }
// clang-format on

DO_WHILE(until_ne64, u64, a != b)
DO_WHILE(until_ne32, u32, a != b)
DO_WHILE(until_ge32, u32, a >= b)
DO_WHILE(until_gt32, u32, a > b)
DO_WHILE(until_sge32, s32, a >= b)
DO_WHILE(until_sgt32, s32, a > b)
DO_WHILE(until_sgt32_imm, s32, a >= -77)
DO_WHILE(until_slt32_imm, s32, a < 77)
DO_WHILE(until_ge64_imm, u64, a >= 1000)
