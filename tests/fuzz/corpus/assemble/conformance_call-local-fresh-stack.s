stdw [%r10-8], 0x1111
call local callee
ldxdw %r3, [%r10-8]
jne %r3, 0x1111, fail
exit
fail:
mov %r0, -1
exit
callee:
stdw [%r10-8], 0x2222
ldxdw %r0, [%r10-8]
exit
