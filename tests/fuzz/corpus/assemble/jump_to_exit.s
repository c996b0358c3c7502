loop:
    r1 += 1
    if r1 < 10 goto loop
    goto exit
    exit
