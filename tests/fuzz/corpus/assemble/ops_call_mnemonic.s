       0:	call 1
       1:	call local +1
       2:	exit
       3:	call kfunc 12345
       4:	callx %r1
       5:	exit
