; lddw pseudo sources in the RFC 9669 section 5.4 spelling, and kernel verifier log forms.
    r1 = map_by_fd(5)
    r2 = map_by_idx(0)
    r3 = map_val(map_by_fd(5)) + 8
    r4 = map_val(map_by_idx(1)) - 4
    r5 = var_addr(77)
    r6 = code_addr(fn)
    r7 = code_addr(3)
    call pc+3
    call bpf_map_lookup_elem#1
    call helper 5
    call fn
    exit
fn:
    r0 = 0
    exit
