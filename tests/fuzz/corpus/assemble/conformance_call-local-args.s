mov %r1, 1
mov %r2, 2
mov %r3, 3
mov %r4, 4
mov %r5, 5
call local sum
exit
sum:
mov %r0, %r1
add %r0, %r2
add %r0, %r3
add %r0, %r4
add %r0, %r5
exit
