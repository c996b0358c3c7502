#!/usr/bin/env python3
"""Run bpf_conformance-style `.data` tests against a plugin, the way the upstream runner does.

The upstream runner (github.com/Alan-Jowett/bpf_conformance, src/bpf_test_parser.cc and src/bpf_conformance.cc)
parses each `.data` file, assembles its `-- asm` section itself (the plugin only ever sees bytes), then starts the
plugin once per test as

    <plugin> [<memory hex>] [<plugin options>...]

with the program's bytes written to the plugin's standard input. Both byte strings are encoded as two lowercase hex
digits followed by two spaces per byte ("b7  00  00  ..."); standard input ends with a newline. The plugin prints r0
in hex on standard output and exits 0, or prints an error (on stderr) and exits non-zero.

This runner reproduces that protocol with `xbpf asm` as the assembler and, by default, `xbpf conformance-plugin
--engine <engine>` as the plugin, once per engine named on the command line. It follows the upstream parser's rules:

  * any line containing "--" is a section directive: asm, result, mem, raw, error; "-- c" and
    "-- no register offset" sections are ignored; an unknown directive skips the file;
  * in `-- asm`, everything from '#' to the end of the line is dropped;
  * `-- result` and `-- error` keep their last non-empty line; a result containing "0x" is hex, otherwise decimal;
  * `-- mem` is whitespace-separated hex bytes; `-- raw` is one 64-bit instruction per token (decimal or 0x hex,
    little-endian in memory), used instead of `-- asm` when present;
  * a file without a result and without an error, or without instructions, is skipped.

Comparison: r0 is compared as a full 64-bit value (upstream's current behaviour). A test with `-- error` passes when
the plugin exits non-zero; the error text is shown but, unlike upstream, only compared with --strict-errors (each
runtime words its errors differently). Upstream would also accept an `-- error` test that exits 0 with r0 == 0; this
runner does not.

Output: one line per test and engine, then a final line `N passed, M failed` (plus `, K skipped` when some were
skipped). The exit status is 1 when any test failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PLUGIN_TIMEOUT_S = 10


@dataclass
class TestCase:
    """One parsed `.data` file."""

    path: Path
    asm_lines: list[str] = field(default_factory=list)  # one entry per file line; non-asm lines are ""
    raw_tokens: list[str] = field(default_factory=list)
    mem_text: str = ""
    result_text: str = ""
    error_text: str = ""
    skip_reason: str = ""


def parse_data_file(path: Path) -> TestCase:
    """Parse one `.data` file with the upstream parser's rules (see the module docstring)."""
    case = TestCase(path=path)
    state = "ignore"
    text = path.read_text(encoding="utf-8", errors="replace")
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if "--" in line:
            case.asm_lines.append("")
            # Same order of checks as upstream: the first keyword found wins.
            if "asm" in line:
                state = "asm"
            elif "result" in line:
                state = "result"
            elif "mem" in line:
                state = "mem"
            elif "raw" in line:
                state = "raw"
            elif "no register offset" in line or " c" in line:
                state = "ignore"
            elif "error" in line:
                state = "error"
            else:
                case.skip_reason = f"unknown directive {line.strip()!r}"
                return case
            continue
        if state == "asm":
            case.asm_lines.append(line.split("#", 1)[0])
            continue
        case.asm_lines.append("")
        if not line:
            continue
        if state == "result":
            case.result_text = line
        elif state == "mem":
            case.mem_text += " " + line
        elif state == "error":
            case.error_text = line
        elif state == "raw":
            case.raw_tokens.extend(line.split())
    if not case.error_text and not case.result_text:
        case.skip_reason = "no result or error"
    elif not case.raw_tokens and not any(l.strip() for l in case.asm_lines):
        case.skip_reason = "no instructions"
    return case


def parse_result(text: str) -> int:
    """The expected r0: hex when the text contains "0x", decimal otherwise (std::stoull semantics, mod 2^64)."""
    base = 16 if "0x" in text else 10
    return parse_c_integer(text, base) & 0xFFFFFFFFFFFFFFFF


def parse_c_integer(text: str, base: int) -> int:
    """std::stoull: skip blanks, optional sign, optional 0x for base 16, then the longest run of digits."""
    m = re.match(r"\s*([+-]?)(0[xX])?([0-9a-fA-F]*)" if base == 16 else r"\s*([+-]?)()([0-9]*)", text)
    if not m or not m.group(3):
        raise ValueError(f"not a number: {text!r}")
    value = int(m.group(3), base)
    return -value if m.group(1) == "-" else value


def parse_memory(text: str) -> bytes:
    """`-- mem`: hex tokens read until the first one that is not hex (upstream reads `>> std::hex`)."""
    out = bytearray()
    for token in text.split():
        m = re.match(r"(0[xX])?([0-9a-fA-F]+)", token)
        if not m:
            break
        out.append(int(m.group(2), 16) & 0xFF)
        if m.end() != len(token):
            break
    return bytes(out)


def parse_raw(tokens: list[str]) -> bytes:
    """`-- raw`: each token is one instruction as a 64-bit integer, stored little-endian."""
    out = bytearray()
    for token in tokens:
        value = parse_c_integer(token, 16 if token.startswith("0x") else 10) & 0xFFFFFFFFFFFFFFFF
        out += value.to_bytes(8, "little")
    return bytes(out)


def base16(data: bytes) -> str:
    """Upstream's _base_16_encode: every byte as two hex digits and two spaces."""
    return "".join(f"{b:02x}  " for b in data)


def assemble(assembler: list[str], case: TestCase) -> tuple[bytes | None, str]:
    """Assemble the asm section. Lines keep their .data line numbers, so assembler errors point into the file."""
    source = "\n".join(case.asm_lines) + "\n"
    with tempfile.TemporaryDirectory(prefix="xbpf-conf-") as tmp:
        asm_path = Path(tmp) / (case.path.stem + ".s")
        asm_path.write_text(source, encoding="utf-8")
        try:
            proc = subprocess.run(assembler + [str(asm_path), "-o", "-"], capture_output=True,
                                  timeout=PLUGIN_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"assembler failed to run: {e}"
        if proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip().replace(str(asm_path), case.path.name)
            return None, f"assembly failed: {msg}"
        return proc.stdout, ""


@dataclass
class Outcome:
    """The verdict on one test for one engine."""

    status: str  # PASS, FAIL, SKIP
    detail: str = ""


def run_plugin(plugin: list[str], options: list[str], program: bytes, memory: bytes) -> tuple[int, str, str]:
    """Start the plugin as upstream does: memory (when any) first, then the plugin options; program on stdin."""
    args = list(plugin)
    if memory:
        args.append(base16(memory))
    args += options
    proc = subprocess.run(args, input=base16(program) + "\n", capture_output=True, text=True,
                          timeout=PLUGIN_TIMEOUT_S)
    return proc.returncode, proc.stdout, proc.stderr


def judge(case: TestCase, program: bytes, plugin: list[str], options: list[str], strict_errors: bool) -> Outcome:
    memory = parse_memory(case.mem_text)
    try:
        rc, out, err = run_plugin(plugin, options, program, memory)
    except subprocess.TimeoutExpired:
        return Outcome("FAIL", f"plugin timed out after {PLUGIN_TIMEOUT_S} s")
    except OSError as e:
        return Outcome("FAIL", f"plugin failed to start: {e}")
    out_line = "".join(out.splitlines())  # upstream concatenates stdout lines
    if rc < 0:
        # Killed by a signal (POSIX): a crash is never the error a test expects.
        return Outcome("FAIL", f"plugin crashed (signal {-rc}){': ' + err.strip() if err.strip() else ''}")
    if rc != 0:
        message = out_line if out_line else "".join(err.splitlines())
        message = message.split("\r", 1)[0]
        if not case.error_text:
            return Outcome("FAIL", f"plugin exited {rc}: {message}")
        if strict_errors and message != case.error_text:
            return Outcome("FAIL", f"error {message!r}, expected {case.error_text!r}")
        return Outcome("PASS", f"error: {message}")
    if case.error_text:
        return Outcome("FAIL", f"expected error {case.error_text!r}, plugin succeeded with {out_line.strip()!r}")
    try:
        actual = parse_c_integer(out_line, 16) & 0xFFFFFFFFFFFFFFFF
    except ValueError:
        return Outcome("FAIL", f"plugin printed an unparsable r0 {out_line!r}")
    try:
        expected = parse_result(case.result_text)
    except ValueError:
        return Outcome("FAIL", f"unparsable result line {case.result_text!r}")
    if actual != expected:
        return Outcome("FAIL", f"r0 = {actual:#x}, expected {expected:#x}")
    return Outcome("PASS")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tests", nargs="+", type=Path, help=".data files or folders holding them")
    ap.add_argument("--xbpf", default="xbpf", help="the xbpf binary (assembler and default plugin)")
    ap.add_argument("--engine", action="append", dest="engines",
                    help="engine for `xbpf conformance-plugin --engine`; repeat to run every test on each "
                         "(default: interp)")
    ap.add_argument("--plugin", help="another plugin command line instead of `xbpf conformance-plugin`; "
                                     "--engine is then not passed")
    ap.add_argument("--plugin-options", default="", help="extra options for the plugin, split on spaces")
    ap.add_argument("--filter", help="run only tests whose file name matches this regular expression")
    ap.add_argument("--strict-errors", action="store_true",
                    help="compare the plugin's error text with `-- error` exactly, as upstream does")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="tests run in parallel (default 1)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only failures and the summary")
    args = ap.parse_args(argv)

    files: list[Path] = []
    for t in args.tests:
        if t.is_dir():
            files += sorted(p for p in t.iterdir() if p.suffix == ".data")
        elif t.is_file():
            files.append(t)
        else:
            print(f"run_conformance: no such file or folder: {t}", file=sys.stderr)
            return 2
    if args.filter:
        files = [f for f in files if re.search(args.filter, f.name)]
    if not files:
        print("run_conformance: no .data files", file=sys.stderr)
        return 2

    assembler = [args.xbpf, "asm"]
    extra = [o for o in args.plugin_options.split(" ") if o]
    if args.plugin:
        runs = [("plugin", shlex.split(args.plugin), extra)]
    else:
        engines = args.engines or ["interp"]
        runs = [(e, [args.xbpf, "conformance-plugin"], ["--engine", e] + extra) for e in engines]

    def one_file(path: Path) -> list[tuple[str, str, Outcome]]:
        case = parse_data_file(path)
        if case.skip_reason:
            return [(name, path.name, Outcome("SKIP", case.skip_reason)) for name, _, _ in runs]
        if case.raw_tokens:
            try:
                program, why = parse_raw(case.raw_tokens), ""
            except ValueError as e:
                program, why = None, f"bad raw section: {e}"
        else:
            program, why = assemble(assembler, case)
        if program is None:
            return [(name, path.name, Outcome("FAIL", why)) for name, _, _ in runs]
        return [(name, path.name, judge(case, program, plugin, opts, args.strict_errors))
                for name, plugin, opts in runs]

    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for results in pool.map(one_file, files):
            for engine, name, outcome in results:
                counts[outcome.status] += 1
                if args.quiet and outcome.status == "PASS":
                    continue
                line = f"{outcome.status} [{engine}] {name}"
                if outcome.detail and (outcome.status != "PASS" or not args.quiet):
                    line += f": {outcome.detail}"
                print(line, flush=True)

    summary = f"{counts['PASS']} passed, {counts['FAIL']} failed"
    if counts["SKIP"]:
        summary += f", {counts['SKIP']} skipped"
    print(summary)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
