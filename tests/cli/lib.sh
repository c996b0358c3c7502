# Shared by the tests/cli/*_test.sh scripts (sourced after they set $tmp, a scratch directory): counters, checks and
# the summary line ("N passed, M failed") that ctest reads through the exit status of `finish`.
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; shift; printf '     %s\n' "$@"; }
# check NAME CMD...: CMD succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "command: $*"; fi; }

# expect_ok NAME PATTERN CMD...: exit 0 and stdout matches PATTERN (grep -E)
expect_ok() {
  local name=$1 pattern=$2; shift 2
  local out err rc
  out=$("$@" 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
  if [ $rc -eq 0 ] && grep -Eq -- "$pattern" <<<"$out"; then ok "$name"
  else bad "$name" "exit $rc" "stdout: ${out:0:2000}" "stderr: $err" "wanted: $pattern"; fi
}

# expect_fail NAME PATTERN CMD...: non-zero exit, nothing on stdout, exactly one line on stderr matching PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  local out err rc
  out=$("$@" 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
  if [ $rc -ne 0 ] && [ -z "$out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -Eq -- "$pattern" <<<"$err"; then
    ok "$name"
  else bad "$name" "exit $rc" "stdout: $out" "stderr: $err" "wanted one stderr line: $pattern"; fi
}

# expect_reject NAME PATTERN CMD...: exit status 1 (a verdict, not an error) with PATTERN on stdout
expect_reject() {
  local name=$1 pattern=$2; shift 2
  local out err rc
  out=$("$@" 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
  if [ $rc -eq 1 ] && grep -Eq -- "$pattern" <<<"$out"; then ok "$name"
  else bad "$name" "exit $rc" "stdout: ${out:0:2000}" "stderr: $err" "wanted exit 1 and: $pattern"; fi
}

# finish: print the summary; the status is non-zero when any check failed.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
