lddw %r0, 0x7000000000000000
arsh %r0, 4
exit
