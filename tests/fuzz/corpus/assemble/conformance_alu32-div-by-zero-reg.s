lddw %r0, 0xffffffff00000007
mov %r2, 0
div32 %r0, %r2
exit
