// The verifier's golden cases (tests/golden/verifier/*.txt, format in README.md there): for each rule of the
// verifier, small programs it must accept and programs it must reject, with the exact "<insn>: <message>" of the
// rejection. Every case is assembled, verified by xbpf and checked against its expected verdict; then, where bpf()
// works, the same program (with the same maps) is loaded into the running kernel, whose verdict must equal the
// expected one, or its opposite for cases marked `beyond-kernel`, `kernel-differs` or `known-bug` (or what a
// `kernel:` line says). So the kernel is the oracle for every verdict in the table.
//
// `unprivileged: yes` cases run in the kernel from a forked child that dropped CAP_SYS_ADMIN and CAP_PERFMON and
// kept CAP_BPF and CAP_NET_ADMIN: the kernel's verifier then has allow_ptr_leaks and allow_uninit_stack off, which is
// what VerifyOptions::privileged = false models.
//
// `known-bug:` cases assert xbpf's current (wrong) behaviour and print a "KNOWN BUG" line; fixing the bug makes the
// case fail until its expectation is corrected and the marker removed.
//
// XBPF_GOLDEN_VERBOSE=1 prints xbpf's and the kernel's verdict for every case (the kernel's log tail on rejection).
#include <gtest/gtest.h>

#include <bpf/btf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isa/assembler.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "object/object_spec.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::verifier {
namespace {

/// The rule families: one file each, all required.
const std::vector<std::string> kFamilies = {
    "control_flow", "registers",  "scalars", "stack", "map_values",    "context",      "packet",
    "helpers",      "references", "calls",   "loops", "pointer_arith", "unprivileged",
};

/// What the kernel must answer for a case.
enum class KernelExpect { Same, Opposite, Accept, Reject, Skip };

/// One map line: `map: NAME TYPE KEY VALUE MAX [flag...]`.
struct GoldenMap {
    maps::MapSpec spec;
    std::vector<std::uint8_t> data;  ///< data=HEX: initial contents of key 0 (a global-data array)
};

/// One case of a golden file.
struct GoldenCase {
    std::string family;
    std::string name;
    int line = 0;  ///< line of `case:` in the file
    std::string type = "socket_filter";
    std::uint32_t mem = 0;
    std::uint64_t insn_limit = 0;  ///< xbpf's VerifyOptions::insn_limit when nonzero (the kernel keeps its own)
    std::string license = "GPL";
    bool unprivileged = false;
    std::vector<GoldenMap> maps;
    /// `global: N RET ARG...`: the N-th function (0 = the entry, then by start) is global with this BTF prototype.
    std::map<std::size_t, std::vector<std::string>> globals;
    std::string code;
    bool expect_accept = false;
    std::size_t expect_insn = 0;
    std::string expect_message;
    bool has_expect = false;
    std::string beyond_kernel;   ///< why xbpf accepts what the kernel rejects
    std::string kernel_differs;  ///< why the kernel's verdict differs
    std::string known_bug;       ///< what xbpf gets wrong today
    std::string undefined;       ///< the undefined behaviour xbpf's verifier hits on this case (a known bug)
    KernelExpect kernel = KernelExpect::Same;
    std::string kernel_reason;  ///< for `kernel: skip REASON`
    std::string parse_error;    ///< non-empty: the file is malformed here

    [[nodiscard]] std::string where() const { return fmt::format("{}.txt:{}: case {}", family, line, name); }
    [[nodiscard]] std::string expected_text() const {
        return expect_accept ? "accept" : fmt::format("reject {}: {}", expect_insn, expect_message);
    }
};

/// gtest prints parameters of failed tests: the case's place, not its bytes.
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.where(); }

std::string trim(std::string_view s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::istringstream in{std::string(s)};
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    int base = 10;
    if (s.starts_with("0x")) {
        s.remove_prefix(2);
        base = 16;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::optional<maps::MapType> map_type_named(std::string_view name) {
    for (std::uint32_t t = 0; t <= 32; ++t) {
        auto type = static_cast<maps::MapType>(t);
        if (maps::map_type_name(type) == name) return type;
    }
    return std::nullopt;
}

/// `NAME TYPE KEY VALUE MAX [rdonly_prog|wronly_prog|no_prealloc|lock=OFF|data=HEX]...`, or an error text.
std::expected<GoldenMap, std::string> parse_map(std::string_view text) {
    const auto w = words(text);
    if (w.size() < 5) return std::unexpected("map: NAME TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES [flags]");
    GoldenMap m;
    m.spec.name = w[0];
    auto type = map_type_named(w[1]);
    if (!type) return std::unexpected(fmt::format("unknown map type '{}'", w[1]));
    m.spec.type = *type;
    auto k = number(w[2]);
    auto v = number(w[3]);
    auto n = number(w[4]);
    if (!k || !v || !n) return std::unexpected("map sizes must be numbers");
    m.spec.key_size = static_cast<std::uint32_t>(*k);
    m.spec.value_size = static_cast<std::uint32_t>(*v);
    m.spec.max_entries = static_cast<std::uint32_t>(*n);
    for (std::size_t i = 5; i < w.size(); ++i) {
        const std::string& f = w[i];
        if (f == "rdonly_prog") {
            m.spec.flags |= maps::kFRdonlyProg;
        } else if (f == "wronly_prog") {
            m.spec.flags |= maps::kFWronlyProg;
        } else if (f == "no_prealloc") {
            m.spec.flags |= maps::kFNoPrealloc;
        } else if (f.starts_with("lock=")) {
            auto off = number(std::string_view(f).substr(5));
            if (!off) return std::unexpected("lock=OFFSET");
            m.spec.spin_lock_off = static_cast<std::int32_t>(*off);
        } else if (f.starts_with("data=")) {
            std::string_view hex = std::string_view(f).substr(5);
            if (hex.size() % 2 != 0) return std::unexpected("data=HEX needs an even number of digits");
            for (std::size_t j = 0; j < hex.size(); j += 2) {
                auto byte = number(fmt::format("0x{}", hex.substr(j, 2)));
                if (!byte) return std::unexpected("data=HEX: not hex");
                m.data.push_back(static_cast<std::uint8_t>(*byte));
            }
        } else {
            return std::unexpected(fmt::format("unknown map flag '{}'", f));
        }
    }
    return m;
}

/// `accept` or `reject N: message`.
bool parse_expect(std::string_view text, GoldenCase& c) {
    if (text == "accept") {
        c.expect_accept = true;
        c.has_expect = true;
        return true;
    }
    if (!text.starts_with("reject ")) return false;
    text.remove_prefix(7);
    const auto colon = text.find(": ");
    if (colon == std::string_view::npos) return false;
    auto insn = number(text.substr(0, colon));
    if (!insn) return false;
    c.expect_insn = static_cast<std::size_t>(*insn);
    c.expect_message = std::string(text.substr(colon + 2));
    c.has_expect = true;
    return !c.expect_message.empty();
}

/// Reads one family file. A malformed line gives a case carrying parse_error, so the failure names the line.
std::vector<GoldenCase> parse_file(const std::string& family, const std::filesystem::path& path) {
    std::vector<GoldenCase> cases;
    std::ifstream in(path);
    if (!in) {
        GoldenCase c;
        c.family = family;
        c.name = "missing_file";
        c.parse_error = fmt::format("cannot read {}", path.string());
        return {c};
    }
    bool in_code = false;
    int lineno = 0;
    auto error = [&](const std::string& what) {
        GoldenCase c;
        c.family = family;
        c.name = fmt::format("line_{}", lineno);
        c.line = lineno;
        c.parse_error = fmt::format("{}.txt:{}: {}", family, lineno, what);
        cases.push_back(c);
    };
    for (std::string line; std::getline(in, line);) {
        ++lineno;
        const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
        if (in_code && (indented || trim(line).empty())) {
            cases.back().code += line + "\n";
            continue;
        }
        in_code = false;
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const auto colon = t.find(':');
        if (colon == std::string::npos) {
            error(fmt::format("expected 'key: value', got '{}'", t));
            continue;
        }
        const std::string key = t.substr(0, colon);
        const std::string value = trim(std::string_view(t).substr(colon + 1));
        if (key == "case") {
            GoldenCase c;
            c.family = family;
            c.name = value;
            c.line = lineno;
            cases.push_back(c);
            continue;
        }
        if (cases.empty() || !cases.back().parse_error.empty()) {
            error("a case must start with 'case: NAME'");
            continue;
        }
        GoldenCase& c = cases.back();
        if (key == "type") {
            c.type = value;
        } else if (key == "mem") {
            auto n = number(value);
            if (!n) error("mem: N");
            c.mem = n ? static_cast<std::uint32_t>(*n) : 0;
        } else if (key == "insn-limit") {
            auto n = number(value);
            if (!n) error("insn-limit: N");
            c.insn_limit = n.value_or(0);
        } else if (key == "license") {
            c.license = value;
        } else if (key == "unprivileged") {
            c.unprivileged = value == "yes";
        } else if (key == "map") {
            auto m = parse_map(value);
            if (!m)
                error(m.error());
            else
                c.maps.push_back(std::move(*m));
        } else if (key == "global") {
            auto w = words(value);
            auto n = w.empty() ? std::nullopt : number(w[0]);
            if (!n || *n == 0 || w.size() < 2 || w.size() > 8)
                error("global: N RET [ARG ...] (N >= 1: the N-th function by start)");
            else
                c.globals[static_cast<std::size_t>(*n)] = std::vector<std::string>(w.begin() + 1, w.end());
        } else if (key == "code") {
            in_code = true;
        } else if (key == "expect") {
            if (!parse_expect(value, c)) error("expect: accept | reject INSN: MESSAGE");
        } else if ((key == "beyond-kernel" || key == "kernel-differs" || key == "known-bug" ||
                    key == "undefined-behaviour") &&
                   value.empty()) {
            error(fmt::format("'{}' needs the reason", key));
        } else if (key == "beyond-kernel") {
            c.beyond_kernel = value;
        } else if (key == "kernel-differs") {
            c.kernel_differs = value;
        } else if (key == "known-bug") {
            c.known_bug = value;
        } else if (key == "undefined-behaviour") {
            c.undefined = value;
        } else if (key == "kernel") {
            if (value == "accept")
                c.kernel = KernelExpect::Accept;
            else if (value == "reject")
                c.kernel = KernelExpect::Reject;
            else if (value.starts_with("skip ")) {
                c.kernel = KernelExpect::Skip;
                c.kernel_reason = value.substr(5);
            } else
                error("kernel: accept | reject | skip REASON");
        } else {
            error(fmt::format("unknown key '{}'", key));
        }
    }
    for (GoldenCase& c : cases) {
        if (!c.parse_error.empty()) continue;
        if (!c.has_expect) c.parse_error = fmt::format("{}: no 'expect:' line", c.where());
        if (c.code.empty()) c.parse_error = fmt::format("{}: no code", c.where());
        const bool flipped = !c.beyond_kernel.empty() || !c.kernel_differs.empty() || !c.known_bug.empty();
        if (c.kernel == KernelExpect::Same && flipped) c.kernel = KernelExpect::Opposite;
        if (!c.beyond_kernel.empty() && !c.expect_accept)
            c.parse_error = fmt::format("{}: beyond-kernel is for cases xbpf accepts", c.where());
        if (!c.undefined.empty() && c.known_bug.empty())
            c.parse_error = fmt::format("{}: undefined-behaviour needs known-bug", c.where());
        if (c.type == "raw" && c.kernel != KernelExpect::Skip)
            c.parse_error = fmt::format("{}: raw programs need 'kernel: skip REASON'", c.where());
    }
    return cases;
}

std::filesystem::path golden_dir() { return std::filesystem::path(XBPF_SOURCE_DIR) / "tests/golden/verifier"; }

const std::vector<GoldenCase>& all_cases() {
    static const std::vector<GoldenCase> cases = [] {
        std::vector<GoldenCase> out;
        for (const auto& family : kFamilies) {
            auto more = parse_file(family, golden_dir() / (family + ".txt"));
            out.insert(out.end(), more.begin(), more.end());
        }
        return out;
    }();
    return cases;
}

constexpr std::uint8_t kOpCall = 0x85;   // BPF_JMP | BPF_CALL
constexpr std::uint8_t kOpLddw = 0x18;   // BPF_LD | BPF_IMM | BPF_DW
constexpr std::uint8_t kPseudoCall = 1;  // BPF_PSEUDO_CALL: a bpf-to-bpf call

/// Function starts as the kernel finds them: slot 0, every local call's target, every `lddw src=4` target.
std::vector<std::size_t> function_starts(const std::vector<isa::RawInsn>& insns) {
    std::set<std::size_t> starts{0};
    for (std::size_t i = 0; i < insns.size(); ++i) {
        const isa::RawInsn& in = insns[i];
        const auto target = static_cast<std::int64_t>(i) + 1 + in.imm;
        const bool local_call = in.opcode == kOpCall && in.src == kPseudoCall;
        const bool func_addr = in.opcode == kOpLddw && in.src == isa::kPseudoFunc;
        if ((local_call || func_addr) && target >= 0 && target < static_cast<std::int64_t>(insns.size()))
            starts.insert(static_cast<std::size_t>(target));
        if (in.opcode == kOpLddw) ++i;
    }
    return {starts.begin(), starts.end()};
}

/// The context struct's name for a `global:` argument `ctx` (btf_is_prog_ctx_type).
std::string ctx_struct_name(const std::string& type) {
    if (type == "xdp") return "xdp_md";
    if (type == "kprobe") return "pt_regs";
    if (type == "perf_event") return "bpf_perf_event_data";
    if (type == "raw_tracepoint") return "bpf_raw_tracepoint_args";
    return "__sk_buff";
}

/// BTF with one FUNC (`int fN(void)`, static except the entry) per function, and the matching func_info: what
/// clang emits, and what the kernel needs before it accepts a callback address (`lddw src=4`). Functions named by
/// `global:` lines are global with the prototype given there: RET is `int`, `void` or `ptr` (int *); each ARG is
/// `int`, `long`, `ctx` (a pointer to the program type's context struct), `memN` (a pointer to an N-byte struct),
/// `nnmemN` (the same tagged "arg:nonnull"), `tagctx` (void * tagged "arg:ctx"), `voidptr` or `struct` (an
/// 8-byte struct by value).
void add_func_btf(object::ObjectSpec& obj, object::ProgramSpec& prog, const GoldenCase& c) {
    struct btf* b = btf__new_empty();
    const int int_id = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    const int proto = btf__add_func_proto(b, int_id);
    const auto starts = function_starts(prog.insns);
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const std::size_t start = starts[i];
        const std::string name = start == 0 ? prog.name : fmt::format("f{}", start);
        const auto global = c.globals.find(i);
        if (global == c.globals.end()) {
            const int id = btf__add_func(b, name.c_str(), start == 0 ? BTF_FUNC_GLOBAL : BTF_FUNC_STATIC, proto);
            prog.func_info.push_back({start, static_cast<std::uint32_t>(id), name});
            continue;
        }
        const auto& sig = global->second;
        // Parameter types first: btf__add_func_param appends to the FUNC_PROTO added last.
        std::vector<int> params;
        std::vector<std::pair<int, std::string>> tags;
        for (std::size_t a = 1; a < sig.size(); ++a) {
            const std::string& t = sig[a];
            int type = int_id;
            if (t == "long") {
                type = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
            } else if (t == "ctx") {
                type = btf__add_ptr(b, btf__add_struct(b, ctx_struct_name(c.type).c_str(), 0));
            } else if (t.starts_with("mem") || t.starts_with("nnmem")) {
                const std::string n = t.substr(t.starts_with("mem") ? 3 : 5);
                type = btf__add_ptr(
                    b, btf__add_struct(b, fmt::format("m{}", n).c_str(), static_cast<std::uint32_t>(std::stoul(n))));
                if (t.starts_with("nnmem")) tags.emplace_back(static_cast<int>(a - 1), "arg:nonnull");
            } else if (t == "tagctx") {
                type = btf__add_ptr(b, 0);
                tags.emplace_back(static_cast<int>(a - 1), "arg:ctx");
            } else if (t == "voidptr") {
                type = btf__add_ptr(b, 0);
            } else if (t == "struct") {
                const int long_id = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
                type = btf__add_struct(b, "s8", 8);
                btf__add_field(b, "x", long_id, 0, 0);
            }
            params.push_back(type);
        }
        const int ret = sig[0] == "void" ? 0 : sig[0] == "ptr" ? btf__add_ptr(b, int_id) : int_id;
        const int fproto = btf__add_func_proto(b, ret);
        for (std::size_t a = 0; a < params.size(); ++a)
            btf__add_func_param(b, fmt::format("a{}", a).c_str(), params[a]);
        const int id = btf__add_func(b, name.c_str(), BTF_FUNC_GLOBAL, fproto);
        for (const auto& [arg, tag] : tags) btf__add_decl_tag(b, tag.c_str(), id, arg);
        prog.func_info.push_back({start, static_cast<std::uint32_t>(id), name});
    }
    obj.btf = std::shared_ptr<const struct btf>(b, [](const struct btf* p) { btf__free(const_cast<struct btf*>(p)); });
}

/// The case as an object: its maps (global data when it has `data=`) and one program.
object::ObjectSpec object_of(const GoldenCase& c, std::vector<isa::RawInsn> insns) {
    object::ObjectSpec obj;
    obj.name = "golden";
    obj.license = c.license;
    for (const GoldenMap& m : c.maps) {
        obj.maps.push_back(m.spec);
        obj.map_initial_data.push_back(m.data);
        object::MapInfo info;
        info.symbol = m.spec.name;
        if (!m.data.empty()) {
            info.origin = object::MapOrigin::GlobalData;
            info.section = (m.spec.flags & maps::kFRdonlyProg) ? ".rodata" : ".data";
        }
        obj.map_info.push_back(info);
    }
    object::ProgramSpec prog;
    prog.name = "golden";
    prog.section = c.type;
    prog.type = c.type == "raw" ? object::ProgramType::Unspec
                                : object::program_type_from_name(c.type).value_or(object::ProgramType::Unspec);
    prog.insns = std::move(insns);
    add_func_btf(obj, prog, c);
    obj.programs.push_back(std::move(prog));
    return obj;
}

// ---- the kernel side ----

/// The kernel's answer: accepted, or rejected with the tail of its log; `error` when it failed before the verifier.
struct KernelVerdict {
    bool accepted = false;
    std::string log_tail;
    std::string error;
};

std::string kernel_release() {
    utsname u{};
    return uname(&u) == 0 ? std::string(u.release) : std::string("?");
}

bool kernel_available(std::string* why) {
    static std::string reason;
    static const bool ok = kernel::available(&reason);
    if (why) *why = reason;
    return ok;
}

/// The last non-empty lines of a verifier log (where the kernel says why).
std::string last_lines(const std::string& log, int n) {
    std::vector<std::string> lines;
    std::istringstream in(log);
    for (std::string l; std::getline(in, l);)
        if (!trim(l).empty() && !l.starts_with("processed ") && !l.starts_with("verification time")) lines.push_back(l);
    std::string out;
    for (std::size_t i = lines.size() > static_cast<std::size_t>(n) ? lines.size() - static_cast<std::size_t>(n) : 0;
         i < lines.size(); ++i)
        out += (out.empty() ? "" : " | ") + lines[i];
    return out;
}

KernelVerdict load_in_kernel(const object::ObjectSpec& obj) {
    auto loaded = kernel::Object::load(obj);
    if (loaded) return {true, "", ""};
    const std::string& m = loaded.error().message;
    if (m.find("BPF_PROG_LOAD") == std::string::npos) return {false, "", m};
    return {false, last_lines(m, 2), ""};
}

/// Drops CAP_SYS_ADMIN and CAP_PERFMON from this process (perfmon_capable() becomes false), keeping CAP_BPF.
bool drop_perfmon() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return false;
    for (int cap : {CAP_SYS_ADMIN, CAP_PERFMON}) {
        data[cap / 32].effective &= ~(1u << (cap % 32));
        data[cap / 32].permitted &= ~(1u << (cap % 32));
    }
    return syscall(SYS_capset, &header, data) == 0;
}

/// load_in_kernel from a forked child without CAP_SYS_ADMIN and CAP_PERFMON (the kernel's !allow_ptr_leaks).
KernelVerdict load_in_kernel_unprivileged(const object::ObjectSpec& obj) {
    int fds[2];
    if (pipe(fds) != 0) return {false, "", "pipe failed"};
    const pid_t pid = fork();
    if (pid < 0) return {false, "", "fork failed"};
    if (pid == 0) {
        close(fds[0]);
        std::string out;
        if (!drop_perfmon()) {
            out = "E capset failed";
        } else {
            KernelVerdict v = load_in_kernel(obj);
            out = !v.error.empty() ? "E " + v.error : v.accepted ? "A" : "R " + v.log_tail;
        }
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        _exit(0);
    }
    close(fds[1]);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got.starts_with("A")) return {true, "", ""};
    if (got.starts_with("R ")) return {false, got.substr(2), ""};
    return {false, "", got.empty() ? "the child died" : got.substr(std::min<std::size_t>(2, got.size()))};
}

// ---- the tally, printed once at the end ----

struct Tally {
    std::size_t cases = 0;
    std::size_t kernel_compared = 0;
    std::size_t kernel_same = 0;          ///< the kernel's verdict equals xbpf's expected one
    std::size_t kernel_beyond = 0;        ///< beyond-kernel, confirmed
    std::size_t kernel_differs = 0;       ///< kernel-differs, confirmed
    std::size_t kernel_known_bug = 0;     ///< known-bug, kernel verdict as stated
    std::size_t kernel_skipped = 0;       ///< `kernel: skip` or no bpf()
    std::size_t kernel_unloadable = 0;    ///< the kernel refused the maps or BTF (an older kernel)
    std::vector<std::string> known_bugs;  ///< "KNOWN BUG ..." lines
};

Tally& tally() {
    static Tally t;
    return t;
}

class SummaryPrinter : public ::testing::Environment {
  public:
    void TearDown() override {
        const Tally& t = tally();
        if (t.cases == 0) return;
        std::cout << fmt::format(
            "verifier golden cases: {} run; kernel compared {} (same verdict {}, beyond-kernel {}, kernel-differs {}, "
            "known-bug {}), not compared {}, not loadable {}\n",
            t.cases, t.kernel_compared, t.kernel_same, t.kernel_beyond, t.kernel_differs, t.kernel_known_bug,
            t.kernel_skipped, t.kernel_unloadable);
        for (const auto& b : t.known_bugs) std::cout << "  " << b << "\n";
    }
};

[[maybe_unused]] auto* const kSummary = ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

/// Sanitizer builds (XBPF_SANITIZE: -fsanitize=address,undefined) abort on the undefined behaviour some known bugs
/// hit; those cases then skip the xbpf half (the kernel half still runs).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

bool verbose() {
    static const bool v = std::getenv("XBPF_GOLDEN_VERBOSE") != nullptr;
    return v;
}

// ---- the tests ----

class GoldenCases : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenCases, Verdict) {
    const GoldenCase& c = GetParam();
    ASSERT_TRUE(c.parse_error.empty()) << c.parse_error;
    SCOPED_TRACE(c.where());
    Tally& t = tally();
    ++t.cases;

    auto insns = isa::assemble(c.code, {c.family + ".txt"});
    ASSERT_TRUE(insns.has_value()) << "assembly: " << insns.error().to_string();
    const object::ObjectSpec obj = object_of(c, *insns);
    const object::ProgramSpec& prog = obj.programs.front();
    ASSERT_TRUE(c.type == "raw" || prog.type != object::ProgramType::Unspec) << "unknown program type " << c.type;

    if (kSanitized && !c.undefined.empty()) {
        std::cout << fmt::format("[{}/{}] xbpf not run under sanitizers: {}\n", c.family, c.name, c.undefined);
    } else {
        VerifyOptions options = options_for(obj, prog);
        options.privileged = !c.unprivileged;
        options.raw_memory_size = c.mem;
        if (c.insn_limit != 0) options.insn_limit = c.insn_limit;
        const VerifyReport report = verify(*insns, options);
        const std::string got = report.accepted           ? "accept"
                                : report.findings.empty() ? "reject ?: (no finding)"
                                                          : fmt::format("reject {}: {}", report.findings.front().insn,
                                                                        report.findings.front().message);
        if (verbose())
            std::cout << fmt::format("[{}/{}] xbpf: {}\n", c.family, c.name,
                                     report.findings.empty() ? got : report.findings.front().to_string());
        EXPECT_EQ(got, c.expected_text()) << (report.findings.empty() ? "" : report.findings.front().to_string());
    }
    if (!c.known_bug.empty()) {
        std::string line = fmt::format("KNOWN BUG {}/{}: {}{}", c.family, c.name, c.known_bug,
                                       c.undefined.empty() ? "" : " [undefined behaviour: " + c.undefined + "]");
        std::cout << line << "\n";
        t.known_bugs.push_back(std::move(line));
    }

    // The oracle.
    std::string why;
    if (c.kernel == KernelExpect::Skip || !kernel_available(&why)) {
        ++t.kernel_skipped;
        if (verbose())
            std::cout << fmt::format("[{}/{}] kernel: not compared ({})\n", c.family, c.name,
                                     c.kernel == KernelExpect::Skip ? c.kernel_reason : why);
        return;
    }
    const KernelVerdict k = c.unprivileged ? load_in_kernel_unprivileged(obj) : load_in_kernel(obj);
    if (!k.error.empty()) {
        // Maps or BTF this kernel does not support: nothing to compare (the xbpf half above still counts).
        ++t.kernel_unloadable;
        std::cout << fmt::format("[{}/{}] the kernel refused the case before verifying it: {}\n", c.family, c.name,
                                 k.error);
        return;
    }
    if (verbose())
        std::cout << fmt::format("[{}/{}] kernel: {}{}\n", c.family, c.name,
                                 k.accepted ? "accept" : "reject: ", k.log_tail);
    bool want = c.expect_accept;
    switch (c.kernel) {
        case KernelExpect::Same: break;
        case KernelExpect::Opposite: want = !want; break;
        case KernelExpect::Accept: want = true; break;
        case KernelExpect::Reject: want = false; break;
        case KernelExpect::Skip: break;
    }
    ++t.kernel_compared;
    EXPECT_EQ(k.accepted, want) << "Linux " << kernel_release() << (k.accepted ? " accepts" : " rejects")
                                << " the case (the table was checked against 6.18)"
                                << (k.log_tail.empty() ? "" : ": " + k.log_tail);
    if (k.accepted != want) return;
    if (!c.known_bug.empty())
        ++t.kernel_known_bug;
    else if (!c.beyond_kernel.empty())
        ++t.kernel_beyond;
    else if (!c.kernel_differs.empty())
        ++t.kernel_differs;
    else
        ++t.kernel_same;
}

std::string case_name(const ::testing::TestParamInfo<GoldenCase>& info) {
    std::string n = info.param.family + "_" + info.param.name;
    for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

INSTANTIATE_TEST_SUITE_P(VerifierGolden, GoldenCases, ::testing::ValuesIn(all_cases()), case_name);

/// The table itself: every file parses (markers carry their reasons), every family has cases, names are unique.
TEST(VerifierGoldenFiles, Inventory) {
    std::map<std::string, std::size_t> per_family;
    std::set<std::string> names;
    for (const GoldenCase& c : all_cases()) {
        EXPECT_TRUE(c.parse_error.empty()) << c.parse_error;
        EXPECT_TRUE(names.insert(c.family + "/" + c.name).second) << "duplicate case " << c.where();
        ++per_family[c.family];
    }
    std::size_t total = 0;
    for (const auto& family : kFamilies) {
        EXPECT_GE(per_family[family], 4u) << family << ".txt has too few cases";
        total += per_family[family];
    }
    EXPECT_GE(total, 120u);
    std::cout << "verifier golden cases per family:";
    for (const auto& [f, n] : per_family) std::cout << " " << f << "=" << n;
    std::cout << " (total " << total << ")\n";
}

}  // namespace
}  // namespace xbpf::verifier
