// Sub-programs: static noinline functions in .text, a global function in .text, a static function placed in the
// program's own section (a call without relocation), a global program called as a function, and a callback passed
// by address to bpf_loop (lddw with pseudo source "func"). entry_one is both a program and, for entry_two, a
// sub-program called through a relocation against its global symbol.
#include "common.h"

static __noinline int triple(int x) { return x * 3; }

static __noinline int square_plus_triple(int x) { return x * x + triple(x); }

__noinline int global_inc(int x) { return x + 1; }

static __noinline __attribute__((section("socket"))) int in_section_helper(int x) { return x * 7; }

static int loop_body(__u32 index, void *ctx) {
    int *sum = ctx;
    *sum += index;
    return 0;
}

SEC("socket")
__noinline int entry_one(struct __sk_buff *skb) {
    int x = skb->len;
    return square_plus_triple(x) + in_section_helper(x);
}

SEC("socket")
int entry_two(struct __sk_buff *skb) {
    return global_inc(skb->len) + entry_one(skb);
}

SEC("xdp")
int entry_loop(struct xdp_md *ctx) {
    int sum = 0;
    bpf_loop(10, loop_body, &sum, 0);
    return sum + triple(sum);
}

char LICENSE[] SEC("license") = "GPL";
