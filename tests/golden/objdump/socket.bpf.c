// Legacy packet access in a socket filter: LD_ABS and LD_IND. clang 14 has no __builtin_bpf_load_byte/half/word;
// the LLVM intrinsics llvm.bpf.load.{byte,half,word} are reached through asm labels, as the kernel's
// samples/bpf/bpf_legacy.h does. A constant offset gives LD_ABS, a variable one LD_IND; the skb must be in r6.
#include "golden_common.h"

unsigned long long load_byte(void* skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void* skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void* skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket") int filter_abs(void* skb) {
    if (load_half(skb, 12) != 0x0800) return 0;  // ethertype IPv4
    if (load_byte(skb, 23) != 6) return 0;       // TCP
    if (load_word(skb, 26) == 0x7f000001) return 0;
    return -1;
}

SEC("socket") int filter_ind(void* skb) {
    u64 ihl = (load_byte(skb, 14) & 0xf) << 2;
    u64 port = load_half(skb, 14 + ihl + 2);
    u64 seq = load_word(skb, ihl + 18);
    u64 flags = load_byte(skb, ihl + 27);
    return port == 80 && seq != 0 && (flags & 2) ? -1 : 0;
}
