// Socket-buffer programs. sock_stats (socket filter) reads __sk_buff fields and, through bpf_skb_load_bytes, the
// IPv4 and TCP headers (a socket filter's data starts at the network header); it keeps TCP port 80 whole and drops
// everything else. tc_rewrite (sched_cls) parses with direct packet access (data starts at the Ethernet header),
// decrements the IPv4 TTL with an incremental checksum update (RFC 1624, eqn. 3), sets skb->mark and drops packets
// whose TTL would expire.
#include "packet.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} skb_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} tc_stats SEC(".maps");

static __always_inline void put(void *map, __u32 key, __u64 value) { bpf_map_update_elem(map, &key, &value, BPF_ANY); }

SEC("socket")
int sock_stats(struct __sk_buff *skb) {
    put(&skb_stats, 0, skb->len);
    put(&skb_stats, 1, skb->protocol);
    put(&skb_stats, 2, skb->mark);
    put(&skb_stats, 3, skb->cb[0]);
    __u8 vihl = 0, proto = 0;
    __u16 dport = 0;
    if (bpf_skb_load_bytes(skb, 0, &vihl, 1)) return 0;
    if ((vihl >> 4) != 4) return 0;
    if (bpf_skb_load_bytes(skb, 9, &proto, 1)) return 0;
    if (proto != IPPROTO_TCP) return 0;
    if (bpf_skb_load_bytes(skb, (vihl & 0xf) * 4 + 2, &dport, 2)) return 0;
    return bpf_ntohs(dport) == 80 ? skb->len : 0;
}

static __always_inline __u16 csum_fold(__u32 sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

SEC("tc")
int tc_rewrite(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) return TC_ACT_OK;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end) return TC_ACT_OK;
    put(&tc_stats, 0, skb->len);
    put(&tc_stats, 1, ip->ttl);
    if (ip->ttl <= 1) return TC_ACT_SHOT;
    __u16 *word = (void *)&ip->ttl;  // ttl and protocol: one 16-bit word of the header
    __u16 old_word = *word;
    ip->ttl -= 1;
    __u16 new_word = *word;
    ip->check = csum_fold((__u16)~ip->check + (__u16)~old_word + new_word);
    skb->mark = 0x77;
    put(&tc_stats, 2, ip->check);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
