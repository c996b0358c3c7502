// An XDP packet parser with statistics: Ethernet, one optional 802.1Q tag, IPv4 (with options) or IPv6, then TCP or
// UDP, every header bounds-checked against data_end. Counts packets per category in an array and bytes per
// destination port in a hash; answers UDP port 53 by swapping the MAC addresses and returning XDP_TX.
#include "packet.h"

enum {
    kTotal = 0,
    kIpv4 = 1,
    kIpv6 = 2,
    kTcp = 3,
    kUdp = 4,
    kVlan = 5,
    kOtherL3 = 6,
    kMalformed = 7,
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} pkt_counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} port_bytes SEC(".maps");

static __always_inline void count(__u32 slot) {
    __u64 *v = bpf_map_lookup_elem(&pkt_counts, &slot);
    if (v) __sync_fetch_and_add(v, 1);
}

static __always_inline void add_bytes(__u32 port, __u64 bytes) {
    __u64 *v = bpf_map_lookup_elem(&port_bytes, &port);
    if (v)
        __sync_fetch_and_add(v, bytes);
    else
        bpf_map_update_elem(&port_bytes, &port, &bytes, BPF_NOEXIST);
}

SEC("xdp")
int xdp_stats(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u64 len = data_end - data;
    count(kTotal);

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) {
        count(kMalformed);
        return XDP_ABORTED;
    }
    __u16 proto = eth->h_proto;
    void *cursor = eth + 1;
    if (proto == bpf_htons(ETH_P_8021Q)) {
        struct vlanhdr *vlan = cursor;
        if ((void *)(vlan + 1) > data_end) {
            count(kMalformed);
            return XDP_DROP;
        }
        count(kVlan);
        proto = vlan->proto;
        cursor = vlan + 1;
    }

    __u8 l4;
    if (proto == bpf_htons(ETH_P_IP)) {
        count(kIpv4);
        struct iphdr *ip = cursor;
        if ((void *)(ip + 1) > data_end || ip->ihl < 5) {
            count(kMalformed);
            return XDP_DROP;
        }
        l4 = ip->protocol;
        cursor = (void *)ip + ip->ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        count(kIpv6);
        struct ipv6hdr *ip6 = cursor;
        if ((void *)(ip6 + 1) > data_end) {
            count(kMalformed);
            return XDP_DROP;
        }
        l4 = ip6->nexthdr;
        cursor = ip6 + 1;
    } else {
        count(kOtherL3);
        return XDP_PASS;
    }

    if (l4 == IPPROTO_TCP) {
        count(kTcp);
        struct tcphdr *tcp = cursor;
        if ((void *)(tcp + 1) > data_end) {
            count(kMalformed);
            return XDP_DROP;
        }
        add_bytes(bpf_ntohs(tcp->dest), len);
    } else if (l4 == IPPROTO_UDP) {
        count(kUdp);
        struct udphdr *udp = cursor;
        if ((void *)(udp + 1) > data_end) {
            count(kMalformed);
            return XDP_DROP;
        }
        add_bytes(bpf_ntohs(udp->dest), len);
        if (udp->dest == bpf_htons(53)) {
            unsigned char tmp[6];
            __builtin_memcpy(tmp, eth->h_dest, 6);
            __builtin_memcpy(eth->h_dest, eth->h_source, 6);
            __builtin_memcpy(eth->h_source, tmp, 6);
            return XDP_TX;
        }
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
