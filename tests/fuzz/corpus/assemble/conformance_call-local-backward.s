ja main
helper:
mov %r0, %r1
mul %r0, 3
exit
main:
mov %r1, 14
call local helper
exit
