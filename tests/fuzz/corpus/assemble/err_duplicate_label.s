x:
x:
exit
