#!/usr/bin/env bash
# End-to-end tests of `xbpf prog dump jited OBJECT`: machine code from the JIT, disassembled with Zydis, annotated
# with the BPF instructions and source lines; the listing must agree with llvm-mc/objdump-style conventions.
# usage: jit_dump_test.sh XBPF SOURCE_DIR BUILD_DIR
set -u
xbpf=$1
build=$3
objs=$build/tests/programs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

if [ ! -f "$objs/xdp_parser.bpf.o" ]; then
  echo "tests/programs were not built (clang missing?): skipping"
  echo "0 passed, 0 failed"
  exit 0
fi

# The header, the function label (the program's code starts there: the entry trampoline is shared), a source line,
# a BPF instruction and its AT&T code.
expect_ok "dump jited: header" '^xdp_parse:  [0-9]+ bytes jited from 65 insns, verified$' \
  "$xbpf" prog dump jited "$objs/xdp_parser.bpf.o"
expect_ok "dump jited: the function label, then its prologue at 0" 'xdp_parse: +0:	push   %rbx' \
  bash -c "\"$xbpf\" prog dump jited \"$objs/xdp_parser.bpf.o\" | sed -n 2,3p | tr '\n' ' '"
expect_ok "dump jited: source line from BTF" '^;     void \*data_end = \(void \*\)\(long\)ctx->data_end;$' \
  "$xbpf" prog dump jited "$objs/xdp_parser.bpf.o"
expect_ok "dump jited: BPF instruction then its x86 load" \
  '; 1: r6 = \*\(u32 \*\)\(r1 \+ 4\)  [ 0-9a-f]+:	mov    0x4\(%rdi\),%ebx' \
  bash -c "\"$xbpf\" prog dump jited \"$objs/xdp_parser.bpf.o\" | tr '\n' ' '"
expect_ok "dump jited: --opcodes prints the bytes" '^	8b 5f 04$' \
  "$xbpf" prog dump jited --opcodes "$objs/xdp_parser.bpf.o"
# Sub-programs get their own label; every BPF function of the object is there.
"$xbpf" prog dump jited "$objs/calls.bpf.o" >"$tmp/calls.txt"
for f in calls chain1 chain2 chain3 mix global_scale accumulate; do
  check "dump jited: label of function $f" grep -qx "$f:" "$tmp/calls.txt"
done
# --no-verify gives checked code (every access goes through the run-time check).
expect_ok "dump jited --no-verify: checked" 'checked \(not verified' \
  "$xbpf" prog dump jited --no-verify "$objs/xdp_parser.bpf.o"
# JSON as bpftool -j: pc, operation, operands; BPF instruction indices and source on the first line of each.
expect_ok "dump jited -j" '"label":"xdp_parse","pc":"0x0","operation":"push","operands":\["%rbx"\]' \
  "$xbpf" prog dump jited -j "$objs/xdp_parser.bpf.o"
expect_ok "dump jited -j: bpf_insns and src" '"bpf_insns":\[1\],"src":"    void \*data_end' \
  "$xbpf" prog dump jited -j "$objs/xdp_parser.bpf.o"
# The machine code round-trips through the assembler in the listing's own syntax: every line decodes (Zydis would
# print "(bad)" otherwise) and the listing covers the code exactly.
"$xbpf" prog dump jited --opcodes "$objs/xdp_parser.bpf.o" >"$tmp/dump.txt"
bytes=$(grep -c $'^\t[0-9a-f][0-9a-f]' "$tmp/dump.txt")
check "dump jited: one byte line per instruction" [ "$bytes" -gt 50 ]
total=$(grep -E $'^\t[0-9a-f]{2}( [0-9a-f]{2})*$' "$tmp/dump.txt" | wc -w)
size=$(sed -n 's/^xdp_parse:  \([0-9]*\) bytes jited.*/\1/p' "$tmp/dump.txt")
check "dump jited: the listing covers all $size bytes" [ "$total" = "$size" ]
# Errors: one line, non-zero exit.
expect_fail "dump jited: unknown program" "no program named 'nope'" \
  "$xbpf" prog dump jited --program nope "$objs/xdp_parser.bpf.o"
expect_fail "dump jited: missing file" "nothing\.o" "$xbpf" prog dump jited "$tmp/nothing.o"
expect_fail "dump: needs jited" "subcommand is required" "$xbpf" prog dump "$objs/xdp_parser.bpf.o"
finish
