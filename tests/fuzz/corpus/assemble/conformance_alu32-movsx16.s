mov %r2, 0x8001
movsx1632 %r0, %r2
exit
