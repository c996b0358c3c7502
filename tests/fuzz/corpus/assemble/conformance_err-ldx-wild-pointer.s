mov %r3, %r1
add %r3, 0x100000
ldxb %r0, [%r3+0]
exit
