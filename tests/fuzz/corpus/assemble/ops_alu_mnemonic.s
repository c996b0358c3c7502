       0:	add %r3, -0x7
       1:	add %r3, %r4
       2:	sub %r3, -0x7
       3:	sub %r3, %r4
       4:	mul %r3, -0x7
       5:	mul %r3, %r4
       6:	div %r3, -0x7
       7:	div %r3, %r4
       8:	sdiv %r3, -0x7
       9:	sdiv %r3, %r4
      10:	or %r3, -0x7
      11:	or %r3, %r4
      12:	and %r3, -0x7
      13:	and %r3, %r4
      14:	lsh %r3, -0x7
      15:	lsh %r3, %r4
      16:	rsh %r3, -0x7
      17:	rsh %r3, %r4
      18:	neg %r5
      19:	mod %r3, -0x7
      20:	mod %r3, %r4
      21:	smod %r3, -0x7
      22:	smod %r3, %r4
      23:	xor %r3, -0x7
      24:	xor %r3, %r4
      25:	mov %r3, -0x7
      26:	mov %r3, %r4
      27:	movsx864 %r2, %r6
      28:	movsx1664 %r2, %r6
      29:	movsx3264 %r2, %r6
      30:	arsh %r3, -0x7
      31:	arsh %r3, %r4
      32:	bswap16 %r1
      33:	bswap32 %r1
      34:	bswap64 %r1
      35:	add32 %r3, -0x7
      36:	add32 %r3, %r4
      37:	sub32 %r3, -0x7
      38:	sub32 %r3, %r4
      39:	mul32 %r3, -0x7
      40:	mul32 %r3, %r4
      41:	div32 %r3, -0x7
      42:	div32 %r3, %r4
      43:	sdiv32 %r3, -0x7
      44:	sdiv32 %r3, %r4
      45:	or32 %r3, -0x7
      46:	or32 %r3, %r4
      47:	and32 %r3, -0x7
      48:	and32 %r3, %r4
      49:	lsh32 %r3, -0x7
      50:	lsh32 %r3, %r4
      51:	rsh32 %r3, -0x7
      52:	rsh32 %r3, %r4
      53:	neg32 %r5
      54:	mod32 %r3, -0x7
      55:	mod32 %r3, %r4
      56:	smod32 %r3, -0x7
      57:	smod32 %r3, %r4
      58:	xor32 %r3, -0x7
      59:	xor32 %r3, %r4
      60:	mov32 %r3, -0x7
      61:	mov32 %r3, %r4
      62:	movsx832 %r2, %r6
      63:	movsx1632 %r2, %r6
      64:	arsh32 %r3, -0x7
      65:	arsh32 %r3, %r4
      66:	le16 %r1
      67:	le32 %r1
      68:	le64 %r1
      69:	be16 %r1
      70:	be32 %r1
      71:	be64 %r1
      72:	exit
