// A packet parser (xdp): Ethernet, optional VLAN, IPv4/IPv6, TCP/UDP; counts packets per IP protocol in a BTF hash
// map and drops UDP packets to port 9 (discard).
#include "packet.h"

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
