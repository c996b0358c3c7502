; Internet checksum (RFC 1071) of the memory buffer, in the LLVM pseudo-C syntax that llvm-objdump prints.
; Convention of `xbpf run`: r1 = memory buffer, r2 = its length in bytes.
    r0 = 0                  ; running sum
    r3 = r1
    r3 += r2                ; r3 = end of buffer
loop:
    r4 = r1
    r4 += 2
    if r4 > r3 goto tail    ; fewer than two bytes left
    r5 = *(u16 *)(r1 + 0)
    r5 = be16 r5            ; network byte order
    r0 += r5
    r1 += 2
    goto loop
tail:
    if r1 >= r3 goto fold
    r5 = *(u8 *)(r1 + 0)    ; odd trailing byte, padded with zero
    r5 <<= 8
    r0 += r5
fold:                       ; two folds bring a sum of 16-bit words (below 2^32) into 16 bits
    r4 = r0
    r4 >>= 16
    r0 &= 0xffff
    r0 += r4
    r4 = r0
    r4 >>= 16
    r0 &= 0xffff
    r0 += r4
done:
    r0 ^= 0xffff            ; one's complement
    exit
