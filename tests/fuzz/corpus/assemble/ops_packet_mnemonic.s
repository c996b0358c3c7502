       0:	ldabsb 0x2
       1:	ldabsh 0x2
       2:	ldabsw 0x2
       3:	ldindb %r2, 0x1
       4:	ldindh %r2, 0x1
       5:	ldindw %r2, 0x1
       6:	exit
