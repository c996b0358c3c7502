// Atomic read-modify-write: add/or/and/xor with and without fetch, xchg and cmpxchg, 64- and 32-bit. -mcpu=v1/v2
// only have atomic add without a used result (XADD); the rest needs -mcpu=v3.
#include "golden_common.h"

u64 counter64;
u32 counter32;

SEC("tc") int atomic_add(u64* ctx) {
    __sync_fetch_and_add(&counter64, ctx[0]);
    __sync_fetch_and_add(&counter32, (u32)ctx[1]);
    __sync_fetch_and_add((u64*)ctx[2], 1);
    __sync_fetch_and_add((u32*)(ctx[3] + 64), 5);
    return 0;
}

#if GOLDEN_CPU >= 3
SEC("tc") int atomic_nofetch(u64* ctx) {
    __sync_fetch_and_or(&counter64, ctx[0]);
    __sync_fetch_and_and(&counter64, ctx[1]);
    __sync_fetch_and_xor(&counter64, ctx[2]);
    __sync_fetch_and_or(&counter32, (u32)ctx[0]);
    __sync_fetch_and_and(&counter32, (u32)ctx[1]);
    __sync_fetch_and_xor(&counter32, (u32)ctx[2]);
    return 0;
}

SEC("tc") int atomic_fetch64(u64* ctx) {
    u64 r = __sync_fetch_and_add(&counter64, ctx[0]);
    r += __sync_fetch_and_or(&counter64, ctx[1]);
    r += __sync_fetch_and_and(&counter64, ctx[2]);
    r += __sync_fetch_and_xor(&counter64, ctx[3]);
    r += __sync_fetch_and_sub(&counter64, ctx[4]);
    r += __sync_lock_test_and_set(&counter64, ctx[5]);
    r += __sync_val_compare_and_swap(&counter64, ctx[6], ctx[7]);
    return (int)r;
}

SEC("tc") int atomic_fetch32(u32* ctx) {
    u32 r = __sync_fetch_and_add(&counter32, ctx[0]);
    r += __sync_fetch_and_or(&counter32, ctx[1]);
    r += __sync_fetch_and_and(&counter32, ctx[2]);
    r += __sync_fetch_and_xor(&counter32, ctx[3]);
    r += __sync_fetch_and_sub(&counter32, ctx[4]);
    r += __sync_lock_test_and_set(&counter32, ctx[5]);
    r += __sync_val_compare_and_swap(&counter32, ctx[6], ctx[7]);
    return (int)r;
}

SEC("tc") int atomic_builtins(u64* ctx) {
    u64* p = (u64*)ctx[0];
    u32* q = (u32*)ctx[1];
    u64 r = __atomic_fetch_add(p + 1, 3, __ATOMIC_RELAXED);
    r += __atomic_exchange_n(p - 1, r, __ATOMIC_SEQ_CST);
    u32 expected = 5;
    __atomic_compare_exchange_n(q + 2, &expected, 9, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    r += expected;
    r += __atomic_exchange_n(q, 1, __ATOMIC_SEQ_CST);
    return (int)r;
}
#endif
