mov %r0, -1
div %r0, 2
exit
