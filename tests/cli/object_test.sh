#!/usr/bin/env bash
# End-to-end tests of the object commands: xbpf prog show, xbpf map dump/show, xbpf disasm of ELF objects and
# xbpf asm --elf. Expectations are derived from the .bpf.c sources (names, types, source lines) and from
# llvm-objdump (instruction counts, listings), not from xbpf's own output.
# usage: object_test.sh XBPF SOURCE_DIR BUILD_DIR
set -u
xbpf=$1
src=$2
build=$3
objs=$build/tests/programs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# json_check NAME PYTHON_ASSERTION CMD...: the command's stdout is JSON (bound to j) and the assertion holds
json_check() {
  local name=$1 assertion=$2; shift 2
  local out
  out=$("$@" 2>&1)
  if python3 -c "import json,sys; j=json.loads(sys.argv[1]); assert $assertion" "$out" 2>"$tmp/py"; then ok "$name"
  else bad "$name" "output: ${out:0:2000}" "$(cat "$tmp/py")"; fi
}

# Slots of section SEC in OBJ as llvm-objdump -d counts them (last index + 1, lddw counting two).
llvm_slots() {
  llvm-objdump -d --section="$2" "$1" | awk -F: '/^ *[0-9]+:/ { n = $1 + 0 } /^ *[0-9]+:\t18 / { n += 1 } END { print n + 1 }'
}

if [ ! -f "$objs/xdp_parser.bpf.o" ]; then
  echo "tests/programs were not built (clang missing?): skipping"
  echo "0 passed, 0 failed"
  exit 0
fi
have_llvm=0
command -v llvm-objdump >/dev/null && have_llvm=1

# ---- prog show ----
expect_ok "prog show: bpftool-like first line" '^0: xdp  name xdp_parse  section xdp  gpl$' \
  "$xbpf" prog show "$objs/xdp_parser.bpf.o"
expect_ok "prog show: maps used by name" $'^\tmaps proto_count$' "$xbpf" prog show "$objs/xdp_parser.bpf.o"
expect_ok "prog show: sub-programs counted and named" \
  $'^\txlated 240B  insns 30  funcs 6 \\(global_inc,entry_one,square_plus_triple,in_section_helper,triple\\)$' \
  "$xbpf" prog show "$objs/subprogs.bpf.o"
expect_ok "prog show: attach target from the section name" $'^\tattach_target ' \
  "$xbpf" prog show "$objs/multi_prog.bpf.o"
expect_ok "prog show: line info present" $'^\tbtf  line_info [1-9][0-9]*  func_info 1' \
  "$xbpf" prog show "$objs/xdp_parser.bpf.o"
if [ $have_llvm -eq 1 ]; then
  n=$(llvm_slots "$objs/xdp_parser.bpf.o" xdp)
  expect_ok "prog show: insns = llvm-objdump's slot count ($n)" $'^\txlated [0-9]+B  insns '"$n"'  funcs 1$' \
    "$xbpf" prog show "$objs/xdp_parser.bpf.o"
  n=$(llvm_slots "$objs/globals.bpf.o" socket)
  json_check "prog show -j: insns = llvm-objdump's slot count ($n)" "j[0]['insns'] == $n" \
    "$xbpf" prog show -j "$objs/globals.bpf.o"
fi
json_check "prog show -j: array with stable keys" \
  "[p['name'] for p in j] == ['entry_one','entry_two','entry_loop'] and j[2]['type'] == 'xdp' and j[0]['type'] == 'socket_filter' and j[1]['insns'] == 30 and [f['name'] for f in j[2]['functions']] == ['entry_loop','loop_body','triple'] and j[0]['gpl_compatible'] and j[0]['line_info'] > 0 and set(j[0]) >= {'index','name','section','type','attach_target','insns','functions','maps','license','gpl_compatible','line_info'}" \
  "$xbpf" prog show -j "$objs/subprogs.bpf.o"
json_check "prog show -j: global data maps used" \
  "j[0]['maps'] == ['globals.data','globals.bss','globals.rodata','.data.custom','.rodata.str1.1']" \
  "$xbpf" prog show -j "$objs/globals.bpf.o"
json_check "prog show -j: Dual BSD/GPL is GPL-compatible" "j[0]['license'] == 'Dual BSD/GPL' and j[0]['gpl_compatible']" \
  "$xbpf" prog show -j "$objs/xdp_parser.bpf.o"

# ---- map dump / map show ----
# Every map the source declares in .maps, with its type, in declaration order of the object's BTF-defined maps.
declared=$(python3 - "$src/tests/programs/maps.bpf.c" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
out = []
for m in re.finditer(r'\nstruct (?:\w+ )?\{(.*?)\n\} ([^;]*);', text, re.S):
    body, names = m.group(1), m.group(2)
    t = re.search(r'__uint\(type, BPF_MAP_TYPE_(\w+)\)', body.split('__array')[0]).group(1).lower()
    for name in re.findall(r'(\w+) SEC\("\.maps"\)', names):
        out.append(f"{name}={t}")
print(" ".join(sorted(out)))
PY
)
got=$("$xbpf" map dump -j "$objs/maps.bpf.o" | python3 -c 'import json,sys; print(" ".join(sorted(m["name"]+"="+m["type"] for m in json.load(sys.stdin) if m["origin"]=="btf")))')
if [ -n "$declared" ] && [ "$declared" = "$got" ]; then ok "map dump: names and types are the .bpf.c's ($(wc -w <<<"$declared") maps)"
else bad "map dump: names and types are the .bpf.c's" "declared: $declared" "got:      $got"; fi
expect_ok "map dump: bpftool-like first line" '^7: lpm_trie  name routes  flags 0x1$' "$xbpf" map dump "$objs/maps.bpf.o"
expect_ok "map dump: sizes" $'^\tkey 16B  value 16B  max_entries 1024$' "$xbpf" map dump "$objs/maps.bpf.o"
expect_ok "map dump: map-in-map slots" '^key: 01 00 00 00  value: inner_b$' "$xbpf" map dump "$objs/maps.bpf.o"
expect_ok "map dump: prog_array slots" '^key: 02 00 00 00  value: stage_two$' "$xbpf" map dump "$objs/tailcall.bpf.o"
expect_ok "map dump: legacy origin" $'^\torigin legacy  section maps$' "$xbpf" map dump "$objs/legacy_map.bpf.o"
# custom_value = 0x1234 in .data.custom: bpftool's single-line hex entry
expect_ok "map dump: global data as hex (bpftool layout)" '^key: 00 00 00 00  value: 34 12 00 00$' \
  "$xbpf" map dump "$objs/globals.bpf.o"
expect_ok "map dump: .rodata variables from BTF" '^ +"threshold": 7$' "$xbpf" map dump "$objs/globals.bpf.o"
expect_ok "map dump: char array as a string" '^ +"greeting": "hello"$' "$xbpf" map dump "$objs/globals.bpf.o"
expect_ok "map dump: int array on one line" '^ +"big_table": \[1,2,3,4\]$' "$xbpf" map dump "$objs/globals.bpf.o"
expect_ok "map dump: datasec opens like bpftool" '^            "\.rodata": \[\{$' "$xbpf" map dump "$objs/globals.bpf.o"
if cmp -s <("$xbpf" map dump "$objs/globals.bpf.o") <("$xbpf" map show "$objs/globals.bpf.o"); then
  ok "map show is an alias of map dump"
else bad "map show is an alias of map dump"; fi
json_check "map dump -j: global data entries, hex and formatted" \
  "[m['name'] for m in j] == ['globals.data','globals.rodata','.data.custom','globals.bss','.rodata.str1.1'] and j[1]['entries'][0]['key'] == ['0x00']*4 and j[1]['entries'][0]['value'][:4] == ['0x07','0x00','0x00','0x00'] and j[1]['entries'][0]['formatted']['value']['.rodata'][:2] == [{'threshold': 7}, {'greeting': 'hello'}] and j[0]['flags'] == 0x400 and j[1]['flags'] == 0x480 and j[0]['origin'] == 'global_data'" \
  "$xbpf" map dump -j "$objs/globals.bpf.o"
json_check "map dump -j: prog_array slots" \
  "j[0]['type'] == 'prog_array' and j[0]['entries'] == [{'key':['0x00']*4,'prog':'stage_one'},{'key':['0x02','0x00','0x00','0x00'],'prog':'stage_two'}]" \
  "$xbpf" map dump -j "$objs/tailcall.bpf.o"
json_check "map dump -j: inner map of a map-in-map" \
  "[m for m in j if m['name']=='outer_hash'][0]['inner'] == {'type':'hash','bytes_key':4,'bytes_value':8,'max_entries':16}" \
  "$xbpf" map dump -j "$objs/maps.bpf.o"

# Regression: a BTF name that is not UTF-8 made the JSON writer throw (abort); it is replaced by U+FFFD instead.
python3 -c "import sys; open(sys.argv[2],'wb').write(open(sys.argv[1],'rb').read().replace(b'threshold', b'\\xbchreshold'))" \
  "$objs/globals.bpf.o" "$tmp/utf8.o"
json_check "map dump -j: non-UTF-8 names do not abort" \
  "j[1]['entries'][0]['formatted']['value']['.rodata'][0] == {'\\ufffdhreshold': 7}" "$xbpf" map dump -j "$tmp/utf8.o"
expect_ok "map dump: non-UTF-8 names do not abort (text)" 'hreshold": 7$' "$xbpf" map dump "$tmp/utf8.o"

# ---- disasm of objects ----
expect_ok "disasm object: llvm-objdump header" $'^Disassembly of section xdp:$' "$xbpf" disasm "$objs/xdp_parser.bpf.o"
expect_ok "disasm object: function header" '^0000000000000000 <xdp_parse>:$' "$xbpf" disasm "$objs/xdp_parser.bpf.o"
expect_ok "disasm object: map relocation by name" $'^\t\t[0-9a-f]{16}:  R_BPF_64_64\tproto_count$' \
  "$xbpf" disasm "$objs/xdp_parser.bpf.o"
expect_ok "disasm object: sub-program headed by name" '^[0-9a-f]{16} <square_plus_triple>:$' \
  "$xbpf" disasm --program entry_one "$objs/subprogs.bpf.o"
expect_ok "disasm object: call to a sub-program by name" $'^\t\t[0-9a-f]{16}:  R_BPF_64_32\ttriple$' \
  "$xbpf" disasm --program entry_loop "$objs/subprogs.bpf.o"
out=$("$xbpf" disasm --section xdp "$objs/subprogs.bpf.o")
if grep -q '<entry_loop>:' <<<"$out" && ! grep -q '<entry_one>:' <<<"$out"; then ok "disasm object: --section selects"
else bad "disasm object: --section selects" "$out"; fi
expect_ok "disasm object: --mnemonic" $'\tcall local ' "$xbpf" disasm --mnemonic --program entry_one "$objs/subprogs.bpf.o"
# -g: every source line printed is a line of the .bpf.c, and the program's body shows up
"$xbpf" disasm -g "$objs/xdp_parser.bpf.o" >"$tmp/g.txt"
sed -n 's/^; //p' "$tmp/g.txt" >"$tmp/g.src"
missing=0
while IFS= read -r line; do grep -qxF -- "$line" "$src/tests/programs/xdp_parser.bpf.c" || missing=$((missing + 1)); done <"$tmp/g.src"
if [ -s "$tmp/g.src" ] && [ $missing -eq 0 ] && grep -qxF '; int xdp_parse(struct xdp_md *ctx) {' "$tmp/g.txt"; then
  ok "disasm -g: $(wc -l <"$tmp/g.src") source lines, each a line of xdp_parser.bpf.c"
else bad "disasm -g: source lines from the .bpf.c" "missing: $missing" "$(head -5 "$tmp/g.src")"; fi
if [ $have_llvm -eq 1 ]; then
  # single-function program without relocations to rewrite: the instruction lines are llvm-objdump's
  strip() { grep -E '^ +[0-9]+:' | sed 's/ <[^>]*>$//'; }
  if diff <("$xbpf" disasm "$objs/xdp_parser.bpf.o" | strip | grep -v ld_pseudo) \
    <(llvm-objdump -d "$objs/xdp_parser.bpf.o" | strip | grep -v ' ll$') >"$tmp/d.txt"; then
    ok "disasm object: instructions equal llvm-objdump's (xdp_parser, lddw aside)"
  else bad "disasm object: instructions equal llvm-objdump's" "$(head -20 "$tmp/d.txt")"; fi
  # -g: each source line is printed before the same instruction as llvm-objdump -S (DWARF) prints it; BTF line
  # info may have fewer rows than DWARF's line table, so this is a subset check
  llvm-objdump -d -S "$objs/xdp_parser.bpf.o" >"$tmp/llvm_s.txt"
  if python3 - "$tmp/g.txt" "$tmp/llvm_s.txt" <<'PY'
import re, sys
def pairs(path):
    out, pending = set(), []
    for line in open(path):
        if line.startswith('; '):
            pending.append(line.rstrip('\n'))
        elif re.match(r'^ +[0-9]+:', line):
            out.update((int(line.split(':')[0]), p) for p in pending)
            pending = []
    return out
ours, llvm = pairs(sys.argv[1]), pairs(sys.argv[2])
missing = ours - llvm
assert ours and not missing, sorted(missing)[:5]
PY
  then ok "disasm -g: source lines at the instructions where llvm-objdump -S puts them"
  else bad "disasm -g: source lines at the instructions where llvm-objdump -S puts them"; fi
fi

# ---- asm --elf ----
"$xbpf" asm "$src/examples/checksum.s" -o "$tmp/ck.bin"
"$xbpf" asm "$src/examples/checksum.s" -o "$tmp/ck.o" --elf --section socket --name checksum 2>"$tmp/err"
check "asm --elf writes an ELF object" test "$(head -c 4 "$tmp/ck.o" | od -An -c | tr -d ' ')" = '177ELF'
if [ $have_llvm -eq 1 ]; then
  if diff <("$xbpf" disasm "$tmp/ck.o") <(llvm-objdump -d "$tmp/ck.o") >"$tmp/d.txt"; then
    ok "asm --elf: xbpf disasm of the object == llvm-objdump -d"
  else bad "asm --elf: xbpf disasm of the object == llvm-objdump -d" "$(head -20 "$tmp/d.txt")"; fi
  if diff <("$xbpf" disasm "$tmp/ck.bin") <(llvm-objdump -d "$tmp/ck.o" | grep -E '^ +[0-9]+:' | sed 's/ <[^>]*>$//') \
    >"$tmp/d.txt"; then ok "asm --elf: llvm-objdump -d of the object == xbpf disasm of the raw bytes"
  else bad "asm --elf: llvm-objdump -d of the object == xbpf disasm of the raw bytes" "$(head -20 "$tmp/d.txt")"; fi
  llvm-readelf -h "$tmp/ck.o" >"$tmp/h.txt" 2>&1
  if grep -q 'ELF64' "$tmp/h.txt" && grep -q 'little endian' "$tmp/h.txt" && grep -q 'REL (Relocatable file)' "$tmp/h.txt" &&
    grep -Eq 'Machine: *(EM_BPF|Linux BPF)' "$tmp/h.txt"; then ok "asm --elf: ELF64 little-endian REL EM_BPF"
  else bad "asm --elf: ELF64 little-endian REL EM_BPF" "$(cat "$tmp/h.txt")"; fi
fi
json_check "asm --elf: round trip through the object parser" \
  "len(j) == 1 and j[0]['name'] == 'checksum' and j[0]['type'] == 'socket_filter' and j[0]['insns'] == 25 and j[0]['license'] == 'GPL'" \
  "$xbpf" prog show -j "$tmp/ck.o"
"$xbpf" asm "$src/examples/fib.s" -o "$tmp/fib.o" --elf --section xdp --name fib 2>/dev/null
json_check "asm --elf: a local call becomes a sub-program" \
  "[f['name'] for f in j[0]['functions']] == ['fib','fib_3'] and j[0]['type'] == 'xdp'" "$xbpf" prog show -j "$tmp/fib.o"
"$xbpf" asm "$src/examples/fib.s" -o "$tmp/fib.bin"
if diff <("$xbpf" disasm "$tmp/fib.bin") <("$xbpf" disasm "$tmp/fib.o" | grep -E '^ +[0-9]+:' | sed 's/ <[^>]*>$//') >/dev/null; then
  ok "asm --elf: xbpf disasm of the object == of the raw bytes (with a call)"
else bad "asm --elf: xbpf disasm of the object == of the raw bytes (with a call)"; fi
"$xbpf" asm "$src/examples/checksum.s" -o "$tmp/text.o" --elf 2>"$tmp/err"
if [ $have_llvm -eq 1 ] && llvm-objdump -d "$tmp/text.o" | grep -q '^Disassembly of section .text:$' &&
  llvm-objdump -t "$tmp/text.o" | grep -Eq 'g +F \.text.* prog$' && grep -q 'note:' "$tmp/err"; then
  ok "asm --elf: default section .text, symbol prog, with a note"
else bad "asm --elf: default section .text, symbol prog, with a note" "$(cat "$tmp/err")"; fi
printf 'lddw %%r1, map_fd 3\nmov %%r0, 0\nexit\n' >"$tmp/map.s"
expect_fail "asm --elf refuses map references" 'insn 0: lddw with pseudo source 1 .*maps|map-free' \
  "$xbpf" asm "$tmp/map.s" -o "$tmp/map.o" --elf
check "asm --elf: nothing written on refusal" test ! -e "$tmp/map.o"
expect_fail "asm --elf needs -o" '--elf needs -o' "$xbpf" asm "$src/examples/checksum.s" --elf

# ---- errors: one line, non-zero exit ----
expect_fail "prog show: missing file" 'nonexistent\.o: cannot open' "$xbpf" prog show "$tmp/nonexistent.o"
expect_fail "map dump: missing file" 'nonexistent\.o: cannot open' "$xbpf" map dump "$tmp/nonexistent.o"
expect_fail "disasm: missing file" 'nonexistent\.o: cannot open' "$xbpf" disasm "$tmp/nonexistent.o"
expect_fail "prog show: not an object" 'checksum\.s: not an ELF object' "$xbpf" prog show "$src/examples/checksum.s"
expect_fail "map dump: not an object" 'not an ELF object' "$xbpf" map dump "$tmp/ck.bin"
head -c 100 "$objs/xdp_parser.bpf.o" >"$tmp/trunc.o"
expect_fail "prog show: truncated object (the parser's message)" 'trunc\.o: ' "$xbpf" prog show "$tmp/trunc.o"
expect_fail "map dump: truncated object" 'trunc\.o: ' "$xbpf" map dump "$tmp/trunc.o"
expect_fail "disasm: truncated object" 'trunc\.o: ' "$xbpf" disasm "$tmp/trunc.o"
expect_fail "disasm: unknown --program" "no program named 'nope' \\(programs: entry_one, entry_two, entry_loop\\)" \
  "$xbpf" disasm --program nope "$objs/subprogs.bpf.o"
expect_fail "disasm: unknown --section" "no program in section 'nope'" "$xbpf" disasm --section nope "$objs/subprogs.bpf.o"
expect_fail "disasm: -g on raw bytes" 'need an ELF object' "$xbpf" disasm -g "$tmp/ck.bin"
out=$("$xbpf" prog 2>"$tmp/err"); rc=$?
if [ $rc -ne 0 ] && [ -z "$out" ] && grep -q 'subcommand is required' "$tmp/err"; then ok "prog: no subcommand"
else bad "prog: no subcommand" "exit $rc" "$(cat "$tmp/err")"; fi
expect_ok "disasm of raw bytes unchanged" '^      24:	95 00 00 00 00 00 00 00	exit$' "$xbpf" disasm "$tmp/ck.bin"
expect_ok "disasm of standard input" '^       0:	b7 00 00 00 00 00 00 00	r0 = 0$' bash -c "'$xbpf' disasm - <'$tmp/ck.bin'"

finish
