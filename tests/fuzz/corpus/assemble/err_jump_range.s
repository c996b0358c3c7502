if r1 > 0 goto +40000
