#!/usr/bin/env bash
# `make demo`: assemble an example program, show its disassembly, and run it.
set -euo pipefail
xbpf=${1:-build/xbpf}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ -t 1 ]; then bold=$'\033[1m'; plain=$'\033[0m'; else bold=''; plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

echo "xbpf demo: the Internet checksum (RFC 1071) of an IPv4 header whose checksum field is zero."
step "$xbpf" asm "$here/checksum.s" -o "$out/checksum.bin"
echo "($(stat -c %s "$out/checksum.bin") bytes, $(( $(stat -c %s "$out/checksum.bin") / 8 )) instructions)"
step "$xbpf" disasm "$out/checksum.bin"
step "$xbpf" run "$out/checksum.bin" --mem "$here/ipv4_header.bin" --repeat 100000
echo "(0xb861 is the header's real checksum: 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7)"
step "$xbpf" run "$out/checksum.bin" --mem "$here/ipv4_header.bin" -j

echo
echo "The same ISA in the uBPF/bpf_conformance mnemonic syntax, with a bpf-to-bpf call:"
step "$xbpf" disasm --mnemonic "$here/fib.s"
step "$xbpf" run "$here/fib.s"

# A C program compiled with clang -O2 -g -target bpf at build time (tests/programs/xdp_parser.bpf.c): parse a UDP
# packet in XDP, count it by IP protocol in a hash map, run it as the kernel's BPF_PROG_TEST_RUN would.
object="$(dirname "$xbpf")/tests/programs/xdp_parser.bpf.o"
if [ -f "$object" ]; then
  echo
  echo "A clang-compiled XDP program (tests/programs/xdp_parser.bpf.c) on a UDP packet (examples/udp_packet.bin):"
  step "$xbpf" prog show "$object"
  step "$xbpf" disasm -g "$object" --program xdp_parse | sed -n 1,14p
  echo "       ..."
  step "$xbpf" run "$object" --data-in "$here/udp_packet.bin" --repeat 1000 --dump-maps
  echo "(2 is XDP_PASS; key 0x11 = 17 = UDP, counted 1000 times)"
fi
