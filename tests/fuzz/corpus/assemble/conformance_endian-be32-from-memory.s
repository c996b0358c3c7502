ldxw %r0, [%r1+0]
be32 %r0
exit
