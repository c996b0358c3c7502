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
