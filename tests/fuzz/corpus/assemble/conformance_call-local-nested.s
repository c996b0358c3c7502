mov %r1, 1
call local a
exit
a:
add %r1, 10
call local b
add %r0, 1000
exit
b:
add %r1, 100
call local c
exit
c:
mov %r0, %r1
exit
