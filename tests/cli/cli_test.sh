#!/usr/bin/env bash
# End-to-end tests of the xbpf command: real output on good input, one clear error line and a non-zero exit on bad.
# usage: cli_test.sh XBPF SOURCE_DIR
set -u
xbpf=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# ---- good input ----
expect_ok "run checksum example" '^Return value: 47201 \(0xb861\)' \
  "$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin"
expect_ok "run mnemonic example with a local call" '^Return value: 2880067194370816120 ' "$xbpf" run "$src/examples/fib.s"
expect_ok "run --repeat" 'duration \(average\): [0-9]+ns' \
  "$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin" --repeat 1000

json=$("$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin" -j 2>&1)
if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["retval"]==47201 and j["duration_ns"]>=0 and j["verified"]' "$json"; then
  ok "run -j prints JSON with retval and duration_ns"
else bad "run -j prints JSON with retval and duration_ns" "$json"; fi
json=$("$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin" -j --no-verify 2>&1)
if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["retval"]==47201 and j["insns"]==97 and not j["verified"]' "$json"; then
  ok "run -j --no-verify counts the instructions of the checked run"
else bad "run -j --no-verify counts the instructions of the checked run" "$json"; fi

"$xbpf" asm "$src/examples/checksum.s" -o "$tmp/a.bin" && "$xbpf" disasm "$tmp/a.bin" >"$tmp/a.txt" &&
  "$xbpf" asm "$tmp/a.txt" -o "$tmp/b.bin"
if cmp -s "$tmp/a.bin" "$tmp/b.bin"; then ok "asm(disasm(x)) == x (pseudo-C)"; else bad "asm(disasm(x)) == x (pseudo-C)"; fi
"$xbpf" disasm --mnemonic "$tmp/a.bin" >"$tmp/m.txt" && "$xbpf" asm "$tmp/m.txt" -o "$tmp/c.bin"
if cmp -s "$tmp/a.bin" "$tmp/c.bin"; then ok "asm(disasm --mnemonic(x)) == x"; else bad "asm(disasm --mnemonic(x)) == x"; fi
expect_ok "run raw bytes" '^Return value: 47201 ' "$xbpf" run "$tmp/a.bin" --mem "$src/examples/ipv4_header.bin"
expect_ok "asm prints hex slots" '^b7 00 00 00 00 00 00 00$' "$xbpf" asm "$src/examples/checksum.s"
expect_ok "disasm layout" '^      24:	95 00 00 00 00 00 00 00	exit$' "$xbpf" disasm "$tmp/a.bin"

expect_ok "conformance-plugin: r0 in hex" '^2a$' \
  bash -c "echo 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00' | '$xbpf' conformance-plugin"
# r0 = *(u32 *)(r1 + 0) with memory 11 22 33 44
expect_ok "conformance-plugin: memory argument" '^44332211$' \
  bash -c "echo '61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00' | '$xbpf' conformance-plugin --engine interp '11 22 33 44'"
expect_fail "conformance-plugin: out-of-bounds read is an error" 'invalid read of 4 bytes' \
  bash -c "echo '61 10 04 00 00 00 00 00 95 00 00 00 00 00 00 00' | '$xbpf' conformance-plugin '11 22 33 44'"

# ---- engines: the JIT by default for verified programs, --engine interp|jit ----
json=$("$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin" -j 2>&1)
if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["retval"]==47201 and j["engine"]=="jit"' "$json"; then
  ok "run: a verified program runs in the JIT by default"
else bad "run: a verified program runs in the JIT by default" "$json"; fi
json=$("$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin" -j --engine interp 2>&1)
if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["retval"]==47201 and j["engine"]=="interp"' "$json"; then
  ok "run --engine interp"
else bad "run --engine interp" "$json"; fi
json=$("$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin" -j --no-verify --engine jit 2>&1)
if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["retval"]==47201 and j["engine"]=="jit" and j["insns"]==97' "$json"; then
  ok "run --no-verify --engine jit: checked JIT code counts the same instructions"
else bad "run --no-verify --engine jit: checked JIT code counts the same instructions" "$json"; fi
expect_ok "run fib in the JIT (local calls)" '^Return value: 2880067194370816120 ' \
  "$xbpf" run "$src/examples/fib.s" --engine jit
expect_ok "conformance-plugin --engine jit: memory argument" '^44332211$' \
  bash -c "echo '61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00' | '$xbpf' conformance-plugin --engine jit '11 22 33 44'"
expect_fail "conformance-plugin --engine jit: out-of-bounds read is an error" 'insn 0: invalid read of 4 bytes' \
  bash -c "echo '61 10 04 00 00 00 00 00 95 00 00 00 00 00 00 00' | '$xbpf' conformance-plugin --engine jit '11 22 33 44'"

# ---- bad input: one clear line on stderr, non-zero exit ----
expect_fail "missing file" 'nonexistent\.s: cannot open' "$xbpf" run "$tmp/nonexistent.s"
printf '\x95\x00\x00\x00\x00\x00\x00\x00\x95' >"$tmp/odd.bin"
expect_fail "truncated raw program" 'not a multiple of 8' "$xbpf" run "$tmp/odd.bin"
printf '\xff\x00\x00\x00\x00\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00' >"$tmp/badop.bin"
expect_fail "unknown opcode names the instruction" 'insn 0: unknown opcode 0xff' "$xbpf" run "$tmp/badop.bin"
printf '\x05\x00\x05\x00\x00\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00' >"$tmp/badjump.bin"
expect_fail "jump outside the program" 'insn 0: jump out of range' "$xbpf" run "$tmp/badjump.bin"
expect_ok "disasm still lists a program that would not load" 'goto \+5' "$xbpf" disasm "$tmp/badjump.bin"
printf 'r0 = 1\nr11 = 2\nexit\n' >"$tmp/badreg.s"
expect_fail "assembly error names file, line and column" 'badreg\.s:2:1: .*r11' "$xbpf" asm "$tmp/badreg.s"
printf 'r0 = 0\nloop:\ngoto loop\nexit\n' >"$tmp/loop.s"
expect_fail "infinite loop stops at the budget (unverified)" 'insn 1: instruction budget of 1000 exhausted' \
  "$xbpf" run "$tmp/loop.s" --budget 1000 --no-verify
expect_fail "infinite loop stops at the budget in checked JIT code" 'insn 1: instruction budget of 1000 exhausted' \
  "$xbpf" run "$tmp/loop.s" --budget 1000 --no-verify --engine jit
expect_fail "run verifies first: unreachable code" 'insn 2: unreachable insn 2 \(rejected by the verifier' \
  "$xbpf" run "$tmp/loop.s"
printf 'r0 = 0\nloop:\nr0 += 1\ngoto loop\n' >"$tmp/loop2.s"
expect_fail "run verifies first: a loop the verifier cannot bound" 'insn 1: loop at insn 1 is not proven to terminate' \
  "$xbpf" run "$tmp/loop2.s"
check "verify says why: the counter wraps" bash -c "\"$xbpf\" verify \"$tmp/loop2.s\" | grep -q 'cannot prove it ends: r0 may wrap around'"
expect_ok "verified runs say so" 'verified$' "$xbpf" run "$src/examples/fib.s"
expect_ok "unverified runs are checked" 'instructions: 547 \(checked\)$' "$xbpf" run "$src/examples/fib.s" --no-verify

# xbpf verify
expect_ok "verify an assembly program" 'fib\.s: accepted \(processed [0-9]+ insns' "$xbpf" verify "$src/examples/fib.s"
expect_ok "verify a raw memory program with its size" 'accepted' "$xbpf" verify "$src/examples/checksum.s" --mem-size 20
printf 'r0 = *(u32 *)(r1 + 0)\nexit\n' >"$tmp/oob.s"
expect_reject "verify rejects an access past the memory" 'insn 0: invalid access to memory, mem_size=0 off=0 size=4' \
  "$xbpf" verify "$tmp/oob.s"
printf 'r0 = r2\nexit\n' >"$tmp/uninit.s"
expect_reject "verify names an uninitialised register" 'insn 0: R2 !read_ok' "$xbpf" verify "$tmp/uninit.s" --type xdp
expect_fail "verify: unknown program type" "unknown program type 'nope'" "$xbpf" verify "$src/examples/fib.s" --type nope
json=$("$xbpf" verify "$tmp/oob.s" -j 2>&1)
if echo "$json" | grep -q '"accepted": false' && echo "$json" | grep -q '"insn": 0'; then
  ok "verify -j gives the verdict and the finding"
else bad "verify -j gives the verdict and the finding" "$json"; fi
expect_fail "bad flag" 'unknown-flag|not expected|extra' "$xbpf" run "$src/examples/fib.s" --unknown-flag
expect_fail "bad engine" 'engine' "$xbpf" run "$src/examples/fib.s" --engine nope
expect_fail "unknown command" "unknown command 'frobnicate'" "$xbpf" frobnicate
printf '\x7fELF\x02\x01\x01\x00' >"$tmp/x.o"
expect_fail "a truncated ELF object gives the parser's error" 'too short for an ELF header' "$xbpf" run "$tmp/x.o"
expect_fail "missing --mem file" 'nope\.bin: cannot open' "$xbpf" run "$src/examples/fib.s" --mem "$tmp/nope.bin"

finish
