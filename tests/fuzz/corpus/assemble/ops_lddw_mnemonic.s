       0:	lddw %r0, 0x5566778811223344
       2:	lddw %r1, map_fd 287454020
       4:	lddw %r2, map_value 287454020, 1432778632
       6:	lddw %r3, btf_id 287454020
       8:	lddw %r4, func +5
      10:	lddw %r5, map_idx 287454020
      12:	lddw %r6, map_idx_value 287454020, 1432778632
      14:	exit
      15:	exit
      16:	exit
      17:	exit
      18:	exit
      19:	exit
      20:	exit
