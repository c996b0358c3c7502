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
      73:	lock add32 [%r10-16], %r2
      74:	lock or32 [%r10-16], %r2
      75:	lock and32 [%r10-16], %r2
      76:	lock xor32 [%r10-16], %r2
      77:	lock fetch_add32 [%r10-16], %r2
      78:	lock fetch_or32 [%r10-16], %r2
      79:	lock fetch_and32 [%r10-16], %r2
      80:	lock fetch_xor32 [%r10-16], %r2
      81:	lock xchg32 [%r10-16], %r2
      82:	lock cmpxchg32 [%r10-16], %r2
      83:	lock add [%r10-16], %r2
      84:	lock or [%r10-16], %r2
      85:	lock and [%r10-16], %r2
      86:	lock xor [%r10-16], %r2
      87:	lock fetch_add [%r10-16], %r2
      88:	lock fetch_or [%r10-16], %r2
      89:	lock fetch_and [%r10-16], %r2
      90:	lock fetch_xor [%r10-16], %r2
      91:	lock xchg [%r10-16], %r2
      92:	lock cmpxchg [%r10-16], %r2
      93:	exit
      94:	call 1
      95:	call local +1
      96:	exit
      97:	call kfunc 12345
      98:	callx %r1
      99:	exit
     100:	ja +0
     101:	jeq %r2, 0x5, +0
     102:	jeq %r2, %r3, +0
     103:	jgt %r2, 0x5, +0
     104:	jgt %r2, %r3, +0
     105:	jge %r2, 0x5, +0
     106:	jge %r2, %r3, +0
     107:	jset %r2, 0x5, +0
     108:	jset %r2, %r3, +0
     109:	jne %r2, 0x5, +0
     110:	jne %r2, %r3, +0
     111:	jsgt %r2, 0x5, +0
     112:	jsgt %r2, %r3, +0
     113:	jsge %r2, 0x5, +0
     114:	jsge %r2, %r3, +0
     115:	jlt %r2, 0x5, +0
     116:	jlt %r2, %r3, +0
     117:	jle %r2, 0x5, +0
     118:	jle %r2, %r3, +0
     119:	jslt %r2, 0x5, +0
     120:	jslt %r2, %r3, +0
     121:	jsle %r2, 0x5, +0
     122:	jsle %r2, %r3, +0
     123:	ja32 +0
     124:	jeq32 %r2, 0x5, +0
     125:	jeq32 %r2, %r3, +0
     126:	jgt32 %r2, 0x5, +0
     127:	jgt32 %r2, %r3, +0
     128:	jge32 %r2, 0x5, +0
     129:	jge32 %r2, %r3, +0
     130:	jset32 %r2, 0x5, +0
     131:	jset32 %r2, %r3, +0
     132:	jne32 %r2, 0x5, +0
     133:	jne32 %r2, %r3, +0
     134:	jsgt32 %r2, 0x5, +0
     135:	jsgt32 %r2, %r3, +0
     136:	jsge32 %r2, 0x5, +0
     137:	jsge32 %r2, %r3, +0
     138:	jlt32 %r2, 0x5, +0
     139:	jlt32 %r2, %r3, +0
     140:	jle32 %r2, 0x5, +0
     141:	jle32 %r2, %r3, +0
     142:	jslt32 %r2, 0x5, +0
     143:	jslt32 %r2, %r3, +0
     144:	jsle32 %r2, 0x5, +0
     145:	jsle32 %r2, %r3, +0
     146:	exit
     147:	lddw %r0, 0x5566778811223344
     149:	lddw %r1, map_fd 287454020
     151:	lddw %r2, map_value 287454020, 1432778632
     153:	lddw %r3, btf_id 287454020
     155:	lddw %r4, func +5
     157:	lddw %r5, map_idx 287454020
     159:	lddw %r6, map_idx_value 287454020, 1432778632
     161:	exit
     162:	exit
     163:	exit
     164:	exit
     165:	exit
     166:	exit
     167:	exit
     168:	ldxb %r0, [%r1+8]
     169:	ldxh %r0, [%r1+8]
     170:	ldxw %r0, [%r1+8]
     171:	ldxdw %r0, [%r1+8]
     172:	ldxsb %r0, [%r1+8]
     173:	ldxsh %r0, [%r1+8]
     174:	ldxsw %r0, [%r1+8]
     175:	stb [%r10-16], 0x1234
     176:	sth [%r10-16], 0x1234
     177:	stw [%r10-16], 0x1234
     178:	stdw [%r10-16], 0x1234
     179:	stxb [%r10-8], %r1
     180:	stxh [%r10-8], %r1
     181:	stxw [%r10-8], %r1
     182:	stxdw [%r10-8], %r1
     183:	exit
     184:	ldabsb 0x2
     185:	ldabsh 0x2
     186:	ldabsw 0x2
     187:	ldindb %r2, 0x1
     188:	ldindh %r2, 0x1
     189:	ldindw %r2, 0x1
     190:	exit
