#!/usr/bin/env bash
# End-to-end tests of `xbpf verify`'s counterexamples: a rejected program of a runnable type (xdp, socket_filter,
# sched_cls/act, raw memory) gets the input that makes the checked interpreter fault at the rejected instruction;
# a rejection no run can show gets none (nothing is claimed).
# usage: verify_test.sh XBPF SOURCE_DIR BUILD_DIR
set -u
xbpf=$1
src=$2
build=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# Raw memory: one byte past 8 bytes of memory, whatever the contents.
printf 'r0 = *(u8 *)(r1 + 8)\nexit\n' >"$tmp/past.s"
expect_reject "verify: counterexample for a read past raw memory" \
  '^  counterexample: 8 bytes of memory \[00 00 00 00 00 00 00 00\] makes instruction 0 read 1 byte outside' \
  "$xbpf" verify "$tmp/past.s" --mem-size 8
expect_reject "verify: the counterexample's run error" '^    run: insn 0: invalid read of 1 byte at 0x' \
  "$xbpf" verify "$tmp/past.s" --mem-size 8

# Only contents with 0x42 at byte 0 reach the bad read.
printf 'r2 = *(u8 *)(r1 + 0)\nr0 = 0\nif r2 != 0x42 goto +1\nr0 = *(u8 *)(r1 + 16)\nexit\n' >"$tmp/guarded.s"
expect_reject "verify: counterexample contents come from the program's constants" \
  'counterexample: 16 bytes of memory \[42 .*\] makes instruction 3 read 1 byte outside' \
  "$xbpf" verify "$tmp/guarded.s" --mem-size 16

# XDP: a packet shorter than the Ethernet header.
printf 'r2 = *(u32 *)(r1 + 0)\nr0 = *(u16 *)(r2 + 12)\nexit\n' >"$tmp/eth.s"
expect_reject "verify: xdp counterexample is a short packet" \
  'counterexample: a 13-byte packet \[[0-9a-f ]+\] makes instruction 1 read 2 bytes outside the packet' \
  "$xbpf" verify "$tmp/eth.s" --type xdp

# A rejection that no run can show (an uninitialised register reads as 0 in the interpreter): nothing printed.
printf 'r0 = r3\nexit\n' >"$tmp/uninit.s"
out=$("$xbpf" verify "$tmp/uninit.s" --mem-size 8 2>&1)
if grep -q 'R3 !read_ok' <<<"$out" && ! grep -q counterexample <<<"$out"; then ok "verify: no counterexample claimed"
else bad "verify: no counterexample claimed" "$out"; fi
out=$("$xbpf" verify "$tmp/past.s" --mem-size 8 --no-counterexample 2>&1)
if grep -q 'invalid access' <<<"$out" && ! grep -q counterexample <<<"$out"; then ok "verify --no-counterexample"
else bad "verify --no-counterexample" "$out"; fi

# -j: error.counterexample with the input in hex.
json=$("$xbpf" verify "$tmp/eth.s" --type xdp -j 2>&1)
if python3 -c '
import json, sys
j = json.loads(sys.argv[1])[0]
c = j["error"]["counterexample"]
assert c["insn"] == 1 and c["size"] == 13 and len(c["data_in"]) == 28 and "ctx_in" in c, c
assert c["summary"].startswith("a 13-byte packet") and c["run_error"].startswith("insn 1:"), c
' "$json"; then ok "verify -j includes the counterexample"
else bad "verify -j includes the counterexample" "$json"; fi

# tests/programs/unsafe.bpf.c: each of the three classic mistakes gets one.
obj="$build/tests/programs/unsafe.bpf.o"
if [ -f "$obj" ]; then
  out=$("$xbpf" verify "$obj" 2>&1)
  for want in 'counterexample: a [0-9]+-byte packet .* makes instruction 7 read 8 bytes at address 0x0: a NULL pointer' \
    'counterexample: a 13-byte packet .* makes instruction 1 read 2 bytes outside the packet' \
    'counterexample: a [0-9]+-byte packet .* makes the program return with a ring buffer record neither submitted nor discarded'; do
    if grep -Eq -- "$want" <<<"$out"; then ok "unsafe.bpf.o: $want"; else bad "unsafe.bpf.o: $want" "$out"; fi
  done
else
  echo "skip unsafe.bpf.o: tests/programs were not built"
fi

finish
