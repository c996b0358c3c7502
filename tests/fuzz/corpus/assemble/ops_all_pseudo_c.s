       0:	r3 += -7
       1:	r3 += r4
       2:	r3 -= -7
       3:	r3 -= r4
       4:	r3 *= -7
       5:	r3 *= r4
       6:	r3 /= -7
       7:	r3 /= r4
       8:	r3 s/= -7
       9:	r3 s/= r4
      10:	r3 |= -7
      11:	r3 |= r4
      12:	r3 &= -7
      13:	r3 &= r4
      14:	r3 <<= -7
      15:	r3 <<= r4
      16:	r3 >>= -7
      17:	r3 >>= r4
      18:	r5 = -r5
      19:	r3 %= -7
      20:	r3 %= r4
      21:	r3 s%= -7
      22:	r3 s%= r4
      23:	r3 ^= -7
      24:	r3 ^= r4
      25:	r3 = -7
      26:	r3 = r4
      27:	r2 = (s8)r6
      28:	r2 = (s16)r6
      29:	r2 = (s32)r6
      30:	r3 s>>= -7
      31:	r3 s>>= r4
      32:	r1 = bswap16 r1
      33:	r1 = bswap32 r1
      34:	r1 = bswap64 r1
      35:	w3 += -7
      36:	w3 += w4
      37:	w3 -= -7
      38:	w3 -= w4
      39:	w3 *= -7
      40:	w3 *= w4
      41:	w3 /= -7
      42:	w3 /= w4
      43:	w3 s/= -7
      44:	w3 s/= w4
      45:	w3 |= -7
      46:	w3 |= w4
      47:	w3 &= -7
      48:	w3 &= w4
      49:	w3 <<= -7
      50:	w3 <<= w4
      51:	w3 >>= -7
      52:	w3 >>= w4
      53:	w5 = -w5
      54:	w3 %= -7
      55:	w3 %= w4
      56:	w3 s%= -7
      57:	w3 s%= w4
      58:	w3 ^= -7
      59:	w3 ^= w4
      60:	w3 = -7
      61:	w3 = w4
      62:	w2 = (s8)w6
      63:	w2 = (s16)w6
      64:	w3 s>>= -7
      65:	w3 s>>= w4
      66:	r1 = le16 r1
      67:	r1 = le32 r1
      68:	r1 = le64 r1
      69:	r1 = be16 r1
      70:	r1 = be32 r1
      71:	r1 = be64 r1
      72:	exit
      73:	lock *(u32 *)(r10 - 16) += r2
      74:	lock *(u32 *)(r10 - 16) |= w2
      75:	lock *(u32 *)(r10 - 16) &= w2
      76:	lock *(u32 *)(r10 - 16) ^= w2
      77:	w2 = atomic_fetch_add((u32 *)(r10 - 16), w2)
      78:	w2 = atomic_fetch_or((u32 *)(r10 - 16), w2)
      79:	w2 = atomic_fetch_and((u32 *)(r10 - 16), w2)
      80:	w2 = atomic_fetch_xor((u32 *)(r10 - 16), w2)
      81:	w2 = xchg32_32(r10 - 16, w2)
      82:	w0 = cmpxchg32_32(r10 - 16, w0, w2)
      83:	lock *(u64 *)(r10 - 16) += r2
      84:	lock *(u64 *)(r10 - 16) |= r2
      85:	lock *(u64 *)(r10 - 16) &= r2
      86:	lock *(u64 *)(r10 - 16) ^= r2
      87:	r2 = atomic_fetch_add((u64 *)(r10 - 16), r2)
      88:	r2 = atomic_fetch_or((u64 *)(r10 - 16), r2)
      89:	r2 = atomic_fetch_and((u64 *)(r10 - 16), r2)
      90:	r2 = atomic_fetch_xor((u64 *)(r10 - 16), r2)
      91:	r2 = xchg_64(r10 - 16, r2)
      92:	r0 = cmpxchg_64(r10 - 16, r0, r2)
      93:	exit
      94:	call 1
      95:	call 1
      96:	exit
      97:	call 12345
      98:	callx r1
      99:	exit
     100:	goto +0
     101:	if r2 == 5 goto +0
     102:	if r2 == r3 goto +0
     103:	if r2 > 5 goto +0
     104:	if r2 > r3 goto +0
     105:	if r2 >= 5 goto +0
     106:	if r2 >= r3 goto +0
     107:	if r2 & 5 goto +0
     108:	if r2 & r3 goto +0
     109:	if r2 != 5 goto +0
     110:	if r2 != r3 goto +0
     111:	if r2 s> 5 goto +0
     112:	if r2 s> r3 goto +0
     113:	if r2 s>= 5 goto +0
     114:	if r2 s>= r3 goto +0
     115:	if r2 < 5 goto +0
     116:	if r2 < r3 goto +0
     117:	if r2 <= 5 goto +0
     118:	if r2 <= r3 goto +0
     119:	if r2 s< 5 goto +0
     120:	if r2 s< r3 goto +0
     121:	if r2 s<= 5 goto +0
     122:	if r2 s<= r3 goto +0
     123:	gotol +0
     124:	if w2 == 5 goto +0
     125:	if w2 == w3 goto +0
     126:	if w2 > 5 goto +0
     127:	if w2 > w3 goto +0
     128:	if w2 >= 5 goto +0
     129:	if w2 >= w3 goto +0
     130:	if w2 & 5 goto +0
     131:	if w2 & w3 goto +0
     132:	if w2 != 5 goto +0
     133:	if w2 != w3 goto +0
     134:	if w2 s> 5 goto +0
     135:	if w2 s> w3 goto +0
     136:	if w2 s>= 5 goto +0
     137:	if w2 s>= w3 goto +0
     138:	if w2 < 5 goto +0
     139:	if w2 < w3 goto +0
     140:	if w2 <= 5 goto +0
     141:	if w2 <= w3 goto +0
     142:	if w2 s< 5 goto +0
     143:	if w2 s< w3 goto +0
     144:	if w2 s<= 5 goto +0
     145:	if w2 s<= w3 goto +0
     146:	exit
     147:	r0 = 6153737367135073092 ll
     149:	ld_pseudo	r1, 1, 287454020
     151:	ld_pseudo	r2, 2, 287454020
     153:	ld_pseudo	r3, 3, 287454020
     155:	ld_pseudo	r4, 4, 5
     157:	ld_pseudo	r5, 5, 287454020
     159:	ld_pseudo	r6, 6, 287454020
     161:	exit
     162:	exit
     163:	exit
     164:	exit
     165:	exit
     166:	exit
     167:	exit
     168:	r0 = *(u8 *)(r1 + 8)
     169:	r0 = *(u16 *)(r1 + 8)
     170:	r0 = *(u32 *)(r1 + 8)
     171:	r0 = *(u64 *)(r1 + 8)
     172:	r0 = *(s8 *)(r1 + 8)
     173:	r0 = *(s16 *)(r1 + 8)
     174:	r0 = *(s32 *)(r1 + 8)
     175:	*(u8 *)(r10 - 16) = 4660
     176:	*(u16 *)(r10 - 16) = 4660
     177:	*(u32 *)(r10 - 16) = 4660
     178:	*(u64 *)(r10 - 16) = 4660
     179:	*(u8 *)(r10 - 8) = r1
     180:	*(u16 *)(r10 - 8) = r1
     181:	*(u32 *)(r10 - 8) = r1
     182:	*(u64 *)(r10 - 8) = r1
     183:	exit
     184:	r0 = *(u8 *)skb[2]
     185:	r0 = *(u16 *)skb[2]
     186:	r0 = *(u32 *)skb[2]
     187:	r0 = *(u8 *)skb[r2 + 1]
     188:	r0 = *(u16 *)skb[r2 + 1]
     189:	r0 = *(u32 *)skb[r2 + 1]
     190:	exit
