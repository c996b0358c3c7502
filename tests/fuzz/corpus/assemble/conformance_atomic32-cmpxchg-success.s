lddw %r3, 0x80000001
stxdw [%r10-8], %r3
lddw %r2, 0x7
lddw %r0, 0xffffffff80000001
lock cmpxchg32 [%r10-8], %r2
lddw %r4, 0x7
jne %r2, %r4, fail
lddw %r4, 0x80000001
jne %r0, %r4, fail
ldxw %r0, [%r10-8]
exit
fail:
mov %r0, -1
exit
