// Every form assembler.hpp documents for the pseudo-C syntax.
prog:
    r0 = 1
    w1 += w2
    r1 s>>= 3
    r0 = -r0
    r2 = be16 r2
    r2 = le32 r2
    r3 = bswap64 r3
    r1 = (s8)r2
    w1 = (s16)w2
    r1 s/= r2
    w1 s%= 5
    if r1 s> 5 goto +2
    if w1 & 0x10 goto LBB0_2
    goto LBB0_2
    gotol +1
LBB0_2:
    *(u32 *)(r10 - 4) = r1
    *(u64 *)(r10 - 16) = 100
    r2 = *(u16 *)(r1 + 12)
    r2 = *(s8 *)(r1 + 3)
    lock *(u64 *)(r1 + 0) += r2
    lock *(u32 *)(r1 + 0) |= w2
    r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)
    w2 = atomic_fetch_xor((u32 *)(r1 + 4), w2)
    r2 = xchg_64(r1 + 8, r2)
    w2 = xchg32_32(r1 + 0, w2)
    r0 = cmpxchg_64(r1 + 0, r0, r2)
    w0 = cmpxchg32_32(r1 + 0, w0, w2)
    r1 = 0x1122334455667788 ll
    r0 = *(u8 *)skb[12]
    r0 = *(u16 *)skb[r3]
    call 1
    call bpf_map_lookup_elem
    call sub
    callx r1
    exit
sub:
    r0 = 0
    exit
