lddw %r2, 0xffffffffffff7fff
movsx1632 %r0, %r2
exit
