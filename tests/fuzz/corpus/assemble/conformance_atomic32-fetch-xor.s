lddw %r3, 0xf0f0f0f0
stxdw [%r10-8], %r3
lddw %r2, 0xff
lock fetch xor32 [%r10-8], %r2
lddw %r4, 0xf0f0f0f0
jne %r2, %r4, fail
ldxw %r0, [%r10-8]
exit
fail:
mov %r0, -1
exit
