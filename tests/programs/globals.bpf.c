// Global data: .data, .rodata (const volatile configuration), .bss, string literals (.rodata.str1.1), and a custom
// .data.* section. Each becomes a single-entry array map that programs reach through map-value pseudo loads.
#include "common.h"

int counter = 42;                                  // .data
__u64 big_table[4] = {1, 2, 3, 4};                 // .data
const volatile __u32 threshold = 7;                // .rodata
const volatile char greeting[8] = "hello";         // .rodata
__u64 total;                                       // .bss
__u32 scratch[16];                                 // .bss
static int hidden = 5;                             // .data (static: STT_SECTION relocation)
int custom_value SEC(".data.custom") = 0x1234;     // .data.custom

SEC("socket")
int use_globals(struct __sk_buff *skb) {
    counter += 1;
    total += skb->len;
    scratch[skb->len & 15] = threshold;
    hidden += big_table[2];
    custom_value ^= greeting[1];
    bpf_printk("len %d counter %d", skb->len, counter);
    char buf[16];
    const char *message = "a string literal";  // .rodata.str1.1
    bpf_probe_read_kernel_str(buf, sizeof(buf), message);
    return counter + hidden + buf[0];
}

char LICENSE[] SEC("license") = "GPL";
