// Global functions (non-static __noinline): the kernel verifies each once, on its own, with arguments typed from
// BTF (integers: any value; `struct __sk_buff *`: the context; a pointer to a sized type: that many bytes, possibly
// NULL), and its callers get an unknown scalar back. xbpf does the same (tests/unit/verifier/global_func_test.cpp).
#include "common.h"

struct pair {
    __u32 a;
    __u32 b;
};

// Pointer argument: may be NULL, so the function checks before reading.
__noinline int pair_sum(const struct pair *p) {
    if (!p) return 0;
    return p->a + p->b;
}

// Context argument.
__noinline int skb_len_of(struct __sk_buff *skb) { return skb->len; }

// Integer argument: any value, whatever the caller passes.
__noinline int clamp_small(int x) { return x > 100 ? 100 : x; }

SEC("socket")
int global_ok(struct __sk_buff *skb) {
    struct pair p = {.a = skb->len, .b = 2};
    return pair_sum(&p) + skb_len_of(skb) + clamp_small(skb->len) + clamp_small(3);
}

// Reads through its pointer without a NULL check: correct for the caller below (which passes its stack), but a
// global function is verified on its own, where the pointer may be NULL. Both verifiers refuse it.
__noinline int first_word(const struct pair *p) { return p->a; }

SEC("socket")
int global_needs_null_check(struct __sk_buff *skb) {
    struct pair p = {.a = skb->len, .b = 0};
    return first_word(&p);
}

char LICENSE[] SEC("license") = "GPL";
