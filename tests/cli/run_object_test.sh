#!/usr/bin/env bash
# End-to-end tests of `xbpf run OBJECT`: clang-built objects from tests/programs run as BPF_PROG_TEST_RUN runs them.
# usage: run_object_test.sh XBPF SOURCE_DIR BUILD_DIR
set -u
xbpf=$1
src=$2
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

# Packets: Ethernet (zero addresses) + IPv4 (ihl 5) + UDP, 64 bytes.
udp_frame() {  # udp_frame DPORT_HEX_HI DPORT_HEX_LO FILE
  {
    printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00'
    printf '\x45\x00\x00\x00\x00\x00\x00\x00\x40\x11\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02'
    printf "\\x00\\x35\\x$1\\x$2\\x00\\x08\\x00\\x00"
    head -c 22 /dev/zero
  } >"$3"
}
udp_frame 00 09 "$tmp/udp9.bin"
udp_frame 00 35 "$tmp/udp53.bin"

expect_ok "xdp parser drops udp to port 9" '^retval: 1$' "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp9.bin"
expect_ok "xdp parser passes udp to port 53" '^retval: 2$' \
  "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp53.bin"
expect_ok "duration and data_out size are printed" '^data_out: 64 bytes$' \
  "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp53.bin" --repeat 100
expect_ok "duration line" '^duration: [0-9]+ ns$' "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp53.bin"
expect_ok "--dump-maps shows the counted protocol" '^key: 11 00 00 00  value: 01 00 00 00 00 00 00 00$' \
  "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp9.bin" --dump-maps
expect_ok "--dump-maps counts the elements" '^Found 1 element$' \
  "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp9.bin" --dump-maps

json=$("$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp9.bin" -j --dump-maps 2>&1)
if python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["retval"] == 1, j
assert isinstance(j["duration_ns"], int)
assert j["data_out"] == open(sys.argv[2], "rb").read().hex(), j["data_out"]
m = [m for m in j["maps"] if m["name"] == "proto_count"][0]
assert m["entries"] == [{"key": ["0x11", "0x00", "0x00", "0x00"], "value": ["0x01"] + ["0x00"] * 7}], m
' "$json" "$tmp/udp9.bin" 2>"$tmp/py"; then ok "-j prints retval, duration_ns, data_out and maps"
else bad "-j prints retval, duration_ns, data_out and maps" "$json" "$(cat "$tmp/py")"; fi

"$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/udp9.bin" --data-out "$tmp/out.bin" >/dev/null 2>&1
if cmp -s "$tmp/out.bin" "$tmp/udp9.bin"; then ok "--data-out writes the packet after the run"
else bad "--data-out writes the packet after the run"; fi

# Sub-programs and a bpf_loop callback: sum 0..9 = 45, plus triple(45).
expect_ok "bpf_loop callback and sub-programs" '^retval: 180$' \
  "$xbpf" run "$objs/subprogs.bpf.o" --program entry_loop --data-in "$tmp/udp53.bin"
# Socket filter: skb->len is the packet after the Ethernet header (50); 50*50 + 3*50 + 7*50.
expect_ok "socket filter sees len without the Ethernet header" '^retval: 3000$' \
  "$xbpf" run "$objs/subprogs.bpf.o" --program entry_one --data-in "$tmp/udp53.bin"
expect_fail "several programs need --program, listing them" 'choose one with --program: entry_one, entry_two, entry_loop' \
  "$xbpf" run "$objs/subprogs.bpf.o" --data-in "$tmp/udp53.bin"
expect_fail "unknown --program lists the programs" "no program 'nope' \\(programs: entry_one" \
  "$xbpf" run "$objs/subprogs.bpf.o" --program nope

# Tail calls: ingress_ifindex (ctx_in struct xdp_md) chooses the slot (ifindex & 3); slot 2 is stage_two
# (XDP_DROP). The ifindex must name an existing device, as in the kernel: take one of the host's.
python3 -c '
import socket, struct, sys
open(sys.argv[2], "wb").write(struct.pack("<6I", 0, 64, 0, 1, 0, 0))
for index, _ in socket.if_nameindex():
    if index & 3 == 2:
        open(sys.argv[1], "wb").write(struct.pack("<6I", 0, 64, 0, index, 0, 0))
        break
' "$tmp/ctx2.bin" "$tmp/ctx1.bin"
if [ -f "$tmp/ctx2.bin" ]; then
  expect_ok "tail call to the program in slot 2" '^retval: 1$' \
    "$xbpf" run "$objs/tailcall.bpf.o" --program dispatcher --data-in "$tmp/udp53.bin" --ctx-in "$tmp/ctx2.bin"
fi
expect_ok "tail call to an empty slot falls through" '^retval: 0$' \
  "$xbpf" run "$objs/tailcall.bpf.o" --program dispatcher --data-in "$tmp/udp53.bin" --ctx-in "$tmp/ctx1.bin"
expect_ok "ctx_out is reported with ctx_in" '^ctx_out: 24 bytes$' \
  "$xbpf" run "$objs/tailcall.bpf.o" --program dispatcher --data-in "$tmp/udp53.bin" --ctx-in "$tmp/ctx1.bin"

# Errors: one line, non-zero exit.
head -c 13 "$tmp/udp9.bin" >"$tmp/short.bin"
expect_fail "a packet shorter than an Ethernet header is EINVAL" 'EINVAL' \
  "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/short.bin"
printf '\x7fELF\x02\x01\x01\x00' >"$tmp/x.o"
expect_fail "a truncated ELF object is a parse error" 'x\.o: .*too short' "$xbpf" run "$tmp/x.o"
expect_fail "kernel symbols are refused" "program 'use_externs': .*__ksym" "$xbpf" run "$objs/externs.bpf.o"
expect_fail "missing --data-in file" 'nope\.bin: cannot open' \
  "$xbpf" run "$objs/xdp_parser.bpf.o" --data-in "$tmp/nope.bin"

# The assembly and raw-bytes path is unchanged.
expect_ok "assembly still runs as before" '^Return value: 47201 \(0xb861\)' \
  "$xbpf" run "$src/examples/checksum.s" --mem "$src/examples/ipv4_header.bin"

finish
