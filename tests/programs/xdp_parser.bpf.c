// A packet parser (xdp): Ethernet, optional VLAN, IPv4/IPv6, TCP/UDP; counts packets per IP protocol in a BTF hash
// map and drops UDP packets to port 9 (discard).
#include "common.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct ethhdr {
    unsigned char h_dest[6];
    unsigned char h_source[6];
    __be16 h_proto;
};

struct vlanhdr {
    __be16 tci;
    __be16 proto;
};

struct iphdr {
    __u8 ihl : 4, version : 4;
    __u8 tos;
    __be16 tot_len;
    __be16 id;
    __be16 frag_off;
    __u8 ttl;
    __u8 protocol;
    __sum16 check;
    __be32 saddr;
    __be32 daddr;
};

struct ipv6hdr {
    __u8 priority : 4, version : 4;
    __u8 flow_lbl[3];
    __be16 payload_len;
    __u8 nexthdr;
    __u8 hop_limit;
    __u8 saddr[16];
    __u8 daddr[16];
};

struct udphdr {
    __be16 source;
    __be16 dest;
    __be16 len;
    __sum16 check;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} proto_count SEC(".maps");

SEC("xdp")
int xdp_parse(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) return XDP_DROP;

    __u16 proto = eth->h_proto;
    void *cursor = eth + 1;
    if (proto == bpf_htons(ETH_P_8021Q)) {
        struct vlanhdr *vlan = cursor;
        if ((void *)(vlan + 1) > data_end) return XDP_DROP;
        proto = vlan->proto;
        cursor = vlan + 1;
    }

    __u32 ip_proto;
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = cursor;
        if ((void *)(ip + 1) > data_end) return XDP_DROP;
        if (ip->ihl < 5) return XDP_DROP;
        ip_proto = ip->protocol;
        cursor = (void *)ip + ip->ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = cursor;
        if ((void *)(ip6 + 1) > data_end) return XDP_DROP;
        ip_proto = ip6->nexthdr;
        cursor = ip6 + 1;
    } else {
        return XDP_PASS;
    }

    __u64 one = 1;
    __u64 *count = bpf_map_lookup_elem(&proto_count, &ip_proto);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&proto_count, &ip_proto, &one, BPF_NOEXIST);

    if (ip_proto == IPPROTO_UDP) {
        struct udphdr *udp = cursor;
        if ((void *)(udp + 1) > data_end) return XDP_DROP;
        if (udp->dest == bpf_htons(9)) return XDP_DROP;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
