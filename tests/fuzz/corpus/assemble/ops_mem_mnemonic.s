       0:	ldxb %r0, [%r1+8]
       1:	ldxh %r0, [%r1+8]
       2:	ldxw %r0, [%r1+8]
       3:	ldxdw %r0, [%r1+8]
       4:	ldxsb %r0, [%r1+8]
       5:	ldxsh %r0, [%r1+8]
       6:	ldxsw %r0, [%r1+8]
       7:	stb [%r10-16], 0x1234
       8:	sth [%r10-16], 0x1234
       9:	stw [%r10-16], 0x1234
      10:	stdw [%r10-16], 0x1234
      11:	stxb [%r10-8], %r1
      12:	stxh [%r10-8], %r1
      13:	stxw [%r10-8], %r1
      14:	stxdw [%r10-8], %r1
      15:	exit
