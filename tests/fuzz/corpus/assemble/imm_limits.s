r0 = 0xffffffffffffffff ll
r1 = -0x8000000000000000 ll
r2 = 4294967295
r3 = -2147483648
exit
