a: b: c:
r0 = 1 ; label chain
goto a
exit
