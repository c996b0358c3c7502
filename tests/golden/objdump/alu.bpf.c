// ALU32/64 with immediates and registers, shifts, division, negation, moves, byte swaps and 64-bit constants.
#include "golden_common.h"

volatile u64 sink64;
volatile u32 sink32;
volatile s64 ssink64;
volatile s32 ssink32;

SEC("tc") int alu64(u64* ctx) {
    u64 a = ctx[0], b = ctx[1];
    sink64 = a + b;
    sink64 = a - b;
    sink64 = a * b;
    sink64 = a / b;
    sink64 = a % b;
    sink64 = a | b;
    sink64 = a & b;
    sink64 = a ^ b;
    sink64 = a << b;
    sink64 = a >> b;
    sink64 = (u64)((s64)a >> b);
    sink64 = -a;
    sink64 = a + 7;
    sink64 = a - 100000;
    sink64 = a * 3;
    sink64 = a / 10;
    sink64 = a % 7;
    sink64 = a | 0x80;
    sink64 = a & 0xfff0;
    sink64 = a ^ -1;
    sink64 = a << 13;
    sink64 = a >> 31;
    sink64 = (u64)((s64)a >> 7);
    sink64 = a + 2147483647;
    sink64 = a - (s64)-2147483647 - 1;
    sink64 = a & 0xffffffff;
    sink64 = a * -5;
    return 0;
}

SEC("tc") int alu32(u32* ctx) {
    u32 a = ctx[0], b = ctx[1];
    sink32 = a + b;
    sink32 = a - b;
    sink32 = a * b;
    sink32 = a / b;
    sink32 = a % b;
    sink32 = a | b;
    sink32 = a & b;
    sink32 = a ^ b;
    sink32 = a << (b & 31);
    sink32 = a >> (b & 31);
    sink32 = (u32)((s32)a >> (b & 31));
    sink32 = -a;
    sink32 = a + 9;
    sink32 = a - 65536;
    sink32 = a * 12345;
    sink32 = a / 3;
    sink32 = a % 1000;
    sink32 = a | 0x80000000u;
    sink32 = a & 0xff;
    sink32 = a ^ 0x5a5a5a5a;
    sink32 = a << 3;
    sink32 = a >> 5;
    sink32 = (u32)((s32)a >> 9);
    return 0;
}

SEC("tc") int constants(u64* ctx) {
    sink64 = 0;
    sink64 = 1;
    sink64 = -1;
    sink64 = 0x7fffffff;
    sink64 = 0x80000000;  // needs lddw
    sink64 = 0xffffffff;  // needs lddw
    sink64 = 0x1122334455667788ull;
    sink64 = 0x8000000000000000ull;
    sink64 = 0xfffffffefffffffeull;
    sink64 = -2147483648ll;
    ssink64 = -4294967296ll;
    sink32 = 0xdeadbeef;
    sink32 = 0x80000000u;
    return (int)ctx[0];
}

SEC("tc") int swaps(u64* ctx) {
    u64 v = ctx[0];
    sink64 = __builtin_bswap16((u16)v);
    sink64 = __builtin_bswap32((u32)v);
    sink64 = __builtin_bswap64(v);
    // bpf_htons/bpf_htonl/bpf_ntohs as libbpf's bpf_endian.h define them on a little-endian target.
    sink32 = __builtin_bswap16((u16)ctx[1]);
    sink32 = __builtin_bswap32((u32)ctx[2]);
    return 0;
}

SEC("tc") int extend(s64* ctx) {
    s8 b = (s8)ctx[0];
    s16 h = (s16)ctx[1];
    s32 w = (s32)ctx[2];
    ssink64 = b;
    ssink64 = h;
    ssink64 = w;
    sink64 = (u32)ctx[3];
    ssink32 = (s32)ctx[4] * (s32)ctx[5];
    return 0;
}
