/* Compute kernels shared by the BPF build (compute.bpf.c, clang -target bpf) and the native build (native.c,
 * host compiler): the same C source, so every engine runs the same algorithm.
 *
 * Contract for every kernel `NAME_kernel(seed)`:
 *  - pure function of `seed`; returns a 32-bit result that all engines must agree on;
 *  - no globals, no constant tables (nothing may land in .rodata/.data), no calls: everything is inlined;
 *  - every loop has a constant bound, so the Linux verifier (which walks every iteration) accepts it
 *    within its limits: 1M processed instructions and 8192 pending branches along one path;
 *  - at most 512 bytes of stack;
 *  - roughly 3k-35k BPF instructions executed per run.
 * Add a kernel by writing NAME_kernel here and adding X(NAME) to XBPF_COMPUTE_KERNELS; the build extracts its
 * sections and the benchmarks pick it up.
 */
#ifndef XBPF_BENCH_COMPUTE_KERNELS_H
#define XBPF_BENCH_COMPUTE_KERNELS_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

typedef unsigned char xb_u8;
typedef unsigned int xb_u32;
typedef unsigned long long xb_u64;

/* Every kernel, in table order. */
#define XBPF_COMPUTE_KERNELS(X) \
    X(primes)                   \
    X(crc32)                    \
    X(memcpy)                   \
    X(switch)                   \
    X(ilog2)                    \
    X(xorshift)                 \
    X(collatz)                  \
    X(strcmp)

/* Marsaglia's xorshift64 step (J. Stat. Softw. 8(14), 2003, triple 13/7/17). */
static __always_inline xb_u64 xb_xorshift64(xb_u64 x) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* Count primes among 128 odd numbers starting in [1001, 3047], by trial division with odd divisors.
 * Exercises: 32-bit modulo by a register, a data-dependent early exit from the inner loop. */
static __always_inline xb_u32 primes_kernel(xb_u32 seed) {
    xb_u32 lo = 1001 + (seed & 1023) * 2;
    xb_u32 count = 0;
    for (xb_u32 k = 0; k < 128; k++) {
        xb_u32 n = lo + 2 * k;
        xb_u32 is_prime = 1;
        for (xb_u32 d = 3; d < 64; d += 2) { /* sqrt(3301) < 58 */
            if (d * d > n) break;
            if (n % d == 0) {
                is_prime = 0;
                break;
            }
        }
        count += is_prime;
    }
    return count * 1000003u ^ lo;
}

/* Bitwise (table-free) CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of 256 pseudo-random bytes
 * generated into a stack buffer by an LCG. Exercises: byte stores and loads on the stack, shifts, masks. */
static __always_inline xb_u32 crc32_kernel(xb_u32 seed) {
    xb_u8 buf[256];
    xb_u32 x = seed | 1;
    for (xb_u32 i = 0; i < 256; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (xb_u8)(x >> 16);
    }
    xb_u32 crc = 0xffffffffu;
    for (xb_u32 i = 0; i < 256; i++) {
        crc ^= buf[i];
        /* A multiply, not the usual `POLY & -(crc & 1)`: Linux >= 6.18 forks its verifier state on an AND with
         * a value in [-1, 0] (maybe_fork_scalars), which multiplies out to 2^2048 paths here. */
        for (xb_u32 b = 0; b < 8; b++) crc = (crc >> 1) ^ ((crc & 1u) * 0xEDB88320u);
    }
    return ~crc;
}

/* Two 192-byte stack buffers copied back and forth with memcpy, rotated by one word each time.
 * Exercises: long runs of 64-bit stack loads and stores (what clang expands memcpy to). */
static __always_inline xb_u32 memcpy_kernel(xb_u32 seed) {
    xb_u64 a[24];
    xb_u64 b[24];
    xb_u64 x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (xb_u32 i = 0; i < 24; i++) {
        x = xb_xorshift64(x);
        a[i] = x;
    }
    for (xb_u32 r = 0; r < 64; r++) {
        __builtin_memcpy(b, &a[1], 23 * sizeof(xb_u64));
        b[23] = a[0] + r;
        __builtin_memcpy(a, &b[1], 23 * sizeof(xb_u64));
        a[23] = b[0] ^ r;
    }
    xb_u64 acc = 0;
    for (xb_u32 i = 0; i < 24; i++) acc = acc * 31 + a[i];
    return (xb_u32)(acc ^ (acc >> 32));
}

/* A tiny bytecode interpreter: 64 pseudo-random one-byte instructions on the stack, dispatched with a switch
 * for 1024 steps (opcode in the low 3 bits, argument in the high 5). Exercises: dense data-dependent branching,
 * variable-offset stack loads. */
static __always_inline xb_u32 switch_kernel(xb_u32 seed) {
    xb_u8 code[64];
    xb_u64 x = seed ^ 0x5bd1e9955bd1e995ull;
    for (xb_u32 i = 0; i < 64; i++) {
        x = xb_xorshift64(x);
        code[i] = (xb_u8)(x >> 24);
    }
    xb_u32 acc = seed;
    xb_u32 r1 = 1;
    xb_u32 r2 = 2;
    xb_u32 pc = seed & 63;
    for (xb_u32 step = 0; step < 1024; step++) {
        xb_u32 insn = code[pc];
        xb_u32 arg = insn >> 3;
        switch (insn & 7) {
            case 0: acc += arg; break;
            case 1:
                acc ^= r1;
                r1 = r1 * 3 + arg;
                break;
            case 2: acc = (acc << 1) | (acc >> 31); break;
            case 3: r2 += acc; break;
            case 4: acc -= r2 >> 3; break;
            case 5: pc += arg; break;
            case 6: acc *= 2654435761u; break;
            default:
                r1 ^= acc >> 5;
                r2 -= arg;
                break;
        }
        pc = (pc + 1) & 63;
    }
    return acc ^ r1 ^ r2;
}

/* Floor of log2 by binary search (six compares), for 512 xorshift values of varying magnitude.
 * Exercises: 64-bit shifts and short forward branches. */
static __always_inline xb_u32 xb_ilog2_u64(xb_u64 v) {
    xb_u32 r = 0;
    if (v >> 32) {
        v >>= 32;
        r += 32;
    }
    if (v >> 16) {
        v >>= 16;
        r += 16;
    }
    if (v >> 8) {
        v >>= 8;
        r += 8;
    }
    if (v >> 4) {
        v >>= 4;
        r += 4;
    }
    if (v >> 2) {
        v >>= 2;
        r += 2;
    }
    if (v >> 1) r += 1;
    return r;
}

static __always_inline xb_u32 ilog2_kernel(xb_u32 seed) {
    xb_u64 x = (xb_u64)seed << 32 | (seed ^ 0xA5A5A5A5u) | 1;
    xb_u32 sum = 0;
    for (xb_u32 i = 0; i < 512; i++) {
        x = xb_xorshift64(x);
        sum += xb_ilog2_u64(x >> (i & 63)) * (i | 1);
    }
    return sum;
}

/* 2048 steps of xorshift64 with a multiplicative output mix (xorshift64*). Exercises: straight-line 64-bit ALU
 * work in a tight loop. */
static __always_inline xb_u32 xorshift_kernel(xb_u32 seed) {
    xb_u64 x = seed + 0x9E3779B97F4A7C15ull;
    xb_u64 acc = 0;
    for (xb_u32 i = 0; i < 2048; i++) {
        x = xb_xorshift64(x);
        acc += x * 0x2545F4914F6CDD1Dull;
    }
    return (xb_u32)(acc >> 32) ^ (xb_u32)acc;
}

/* 1536 Collatz steps in the shortcut form (n odd: (3n+1)/2, n even: n/2); on reaching 1, start again from the
 * next value of an LCG (Knuth's MMIX constants). Returns how many chains finished, mixed with the current value.
 * Exercises: an unpredictable loop-carried branch, 64-bit multiply-add.
 * Written so the Linux verifier can never decide `n == 1` (n's range always contains 1): if it could, it would
 * mark n precise, stop pruning states and give up at 1M instructions. Hence the branch-free odd/even step and
 * start values of the form x | 1. */
static __always_inline xb_u32 collatz_kernel(xb_u32 seed) {
    xb_u64 lcg = seed;
    xb_u64 n = (seed & 0xffff) | 1;
    xb_u32 done = 0;
    for (xb_u32 i = 0; i < 1536; i++) {
        if (n == 1) {
            done++;
            lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
            n = ((lcg >> 33) & 0xffff) | 1;
        } else {
            xb_u64 odd = n & 1;
            n = (n >> 1) + odd * (n + 1);
        }
    }
    return done * 65536u + (xb_u32)n;
}

/* strcmp of two 96-byte NUL-terminated strings that differ in one byte, 16 times with the difference at a
 * different seed-dependent position each time. Exercises: byte loads, two early-exit tests per byte,
 * variable-offset stack stores. */
static __always_inline xb_u32 strcmp_kernel(xb_u32 seed) {
    xb_u8 a[96];
    xb_u8 b[96];
    xb_u64 x = seed | 0x100000000ull;
    for (xb_u32 i = 0; i < 95; i++) {
        x = xb_xorshift64(x);
        a[i] = (xb_u8)('a' + (x >> 40) % 26);
        b[i] = a[i];
    }
    a[95] = 0;
    b[95] = 0;
    xb_u32 acc = 0;
    for (xb_u32 k = 0; k < 16; k++) {
        x = xb_xorshift64(x);
        xb_u32 pos = (xb_u32)((x >> 16) & 63) + (xb_u32)((x >> 24) & 31); /* 0..94, bounds the verifier sees */
        b[pos] ^= 1;
        int diff = 0;
        for (xb_u32 i = 0; i < 96; i++) {
            xb_u32 ca = a[i];
            xb_u32 cb = b[i];
            if (ca != cb) {
                diff = (int)ca - (int)cb;
                break;
            }
            if (ca == 0) break;
        }
        b[pos] ^= 1;
        acc = acc * 31 + (xb_u32)diff + pos;
    }
    return acc;
}

#endif
