# Fibonacci number 90 with a bpf-to-bpf call, in the uBPF / bpf_conformance mnemonic syntax.
    mov %r1, 90
    call local fib
    exit
fib:                        # r0 = fib(r1), iteratively
    mov %r0, 0
    mov %r2, 1
    jeq %r1, 0, done
again:
    mov %r3, %r0
    add %r3, %r2
    mov %r0, %r2
    mov %r2, %r3
    sub %r1, 1
    jne %r1, 0, again
done:
    exit
