# Every form assembler.hpp documents for the uBPF / bpf_conformance mnemonic syntax.
    mov32 %r0, 0
    mov r1, 0x7fffffff
    jeq r1, 0, +3
    jsgt32 %r1, %r2, +1
    ldxw r0, [r1+4]
    ldxsb %r0, [%r1-2]
    stxdw [%r10-8], %r1
    stw [%r10-8], 0x5
    lddw r0, 0x1122334455667788
    lddw %r1, map_fd 5
    lddw %r1, map_value 5, 8
    lddw %r1, btf_id 7
    lddw %r1, func +3
    lddw %r1, map_idx 0
    lddw %r1, map_idx_value 0, 8
    call local fn
    call kfunc 17
    call kfunc 17, 2
    call 5
    lock fetch_add [r1+0], r2
    lock add32 [%r1+0], %r2
    lock xchg [%r1+0], %r2
    lock cmpxchg32 [%r1+0], %r2
    ldabsh 0xc
    ldindb %r3, 0x0
    le16 %r0
    neg %r1
    movsx864 %r1, %r2
    ja32 +1
    ja +0
    jne %r1, 0, exit
fn:
    mov %r0, -0x1
    exit
