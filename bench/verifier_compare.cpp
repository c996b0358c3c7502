// xbpf-compare-verifier: xbpf's verifier next to the Linux kernel's BPF_PROG_LOAD on the same programs, in one run
// (bench/RESULTS.md, "Verifier: xbpf verify vs kernel BPF_PROG_LOAD").
//
//   xbpf-compare-verifier [--json] [--reps N] [--filter SUBSTR]... [--top N] [--no-libbpf-tools]
//                         [--no-test-programs] [--programs-dir DIR] [--xbpf-only]
//   xbpf-compare-verifier --check [--filter SUBSTR]...
//
// Programs: every program of the tests/programs objects in the build tree and of the BPF objects embedded in Debian's
// libbpf-tools binaries, one program per object copy, after CO-RE relocation against the running kernel: the
// enumeration of tests/unit/verifier/kernel_verdict_test.cpp (max_entries 0 maps sized 1,024, no static slots).
//
// For each program:
//   - xbpf: verifier::verify on the relocated instructions with verifier::options_for and the frozen `.rodata` /
//     `.kconfig` contents, as vm::verify_object does; one warm-up call, then the median wall time of `reps` calls.
//     Peak memory: the most bytes live through global operator new (this executable replaces it and counts
//     malloc_usable_size) during one call, above what was live before it; the returned report included.
//   - kernel: kernel::Object::load of the one-program object (maps untimed), once to warm up and `reps` times more;
//     the median of Object::prog_load_ns, the wall time of the BPF_PROG_LOAD call alone. That call verifies, but
//     also checks the BTF func_info/line_info, rewrites and JITs the program and allocates its image. Processed
//     instructions: bpf_prog_info.verified_insns. Then `reps` more BPF_PROG_LOADs of the same program against the
//     same maps with log_level 4 (BPF_LOG_STATS), for the kernel's own "verification time N usec" (median; whole
//     microseconds, so small programs read 0-2) and its total_states / peak_states.
//
// Programs the kernel refuses (BPF_PROG_LOAD fails) or cannot load (a map or the BTF) are counted, not timed.
// Ratios are xbpf / kernel: below 1 xbpf is faster; the goal is at most 0.5 against BPF_PROG_LOAD.
//
// --check: one load and one verify per program (tests/programs "calls" and "xdp_parser" unless --filter says
// otherwise), exit 1 if xbpf's verdict differs from the kernel's on any of them; exit 77 (ctest: skipped) without
// bpf(). This is the ctest bench.verifier.cross_check.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <malloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "maps/cpu.hpp"
#include "object/core.hpp"
#include "object/embedded.hpp"
#include "object/object_spec.hpp"
#include "verifier/verifier.hpp"

// ---- Allocation accounting: every operator new/delete of this process goes through here. ----

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};

void note_alloc(void* p) {
    if (p == nullptr) return;
    const std::size_t n = malloc_usable_size(p);
    const std::size_t now = live_bytes.fetch_add(n, std::memory_order_relaxed) + n;
    std::size_t peak = peak_bytes.load(std::memory_order_relaxed);
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
}

void note_free(void* p) {
    if (p != nullptr) live_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
}

void* counted_malloc(std::size_t n) {
    void* p = std::malloc(n == 0 ? 1 : n);
    note_alloc(p);
    return p;
}

void* counted_aligned(std::size_t n, std::align_val_t align) {
    void* p = nullptr;
    const auto a = std::max(static_cast<std::size_t>(align), sizeof(void*));
    if (posix_memalign(&p, a, n == 0 ? 1 : n) != 0) return nullptr;
    note_alloc(p);
    return p;
}

// Out of line: inlined into a replaced operator delete, free() next to a visible operator new trips
// -Wmismatched-new-delete.
[[gnu::noinline]] void counted_free(void* p) {
    note_free(p);
    std::free(p);
}

}  // namespace

void* operator new(std::size_t n) {
    if (void* p = counted_malloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    if (void* p = counted_aligned(n, a)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_aligned(n, a);
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

using namespace xbpf;

constexpr int kSkipped = 77;  // ctest SKIP_RETURN_CODE

// lddw map references, as kernel::Object::load rewrites them (include/uapi/linux/bpf.h).
constexpr std::uint8_t kOpLddw = 0x18;
constexpr std::uint8_t kPseudoMapFd = 1;        // BPF_PSEUDO_MAP_FD
constexpr std::uint8_t kPseudoMapValue = 2;     // BPF_PSEUDO_MAP_VALUE
constexpr std::uint8_t kPseudoMapIdx = 5;       // BPF_PSEUDO_MAP_IDX
constexpr std::uint8_t kPseudoMapIdxValue = 6;  // BPF_PSEUDO_MAP_IDX_VALUE

struct Options {
    bool json = false;
    bool check = false;
    int reps = 5;
    std::size_t top = 0;  // 0: every row
    bool test_programs = true;
    bool libbpf_tools = true;
    bool kernel = true;  // --xbpf-only: no kernel column (for profiling the verifier)
    std::string programs_dir = XBPF_TEST_PROGRAMS_DIR;
    std::vector<std::string> filters;  // any substring of "object:program"
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "xbpf-compare-verifier: %s\n"
                 "usage: xbpf-compare-verifier [--json] [--reps N] [--filter SUBSTR]... [--top N] [--no-libbpf-tools] "
                 "[--no-test-programs] [--programs-dir DIR] [--xbpf-only]\n"
                 "       xbpf-compare-verifier --check [--filter SUBSTR]...\n",
                 why.c_str());
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        auto number = [&]() -> long {
            const std::string v = value();
            char* end = nullptr;
            const long n = std::strtol(v.c_str(), &end, 10);
            if (end == v.c_str() || *end != '\0' || n < 0) usage(a + ": not a number: " + v);
            return n;
        };
        if (a == "--json") {
            o.json = true;
        } else if (a == "--check") {
            o.check = true;
        } else if (a == "--reps") {
            o.reps = std::max(1, static_cast<int>(number()));
        } else if (a == "--top") {
            o.top = static_cast<std::size_t>(number());
        } else if (a == "--filter") {
            o.filters.push_back(value());
        } else if (a == "--no-libbpf-tools") {
            o.libbpf_tools = false;
        } else if (a == "--xbpf-only") {
            o.kernel = false;
        } else if (a == "--no-test-programs") {
            o.test_programs = false;
        } else if (a == "--programs-dir") {
            o.programs_dir = value();
        } else {
            usage("unknown option " + a);
        }
    }
    if (o.check) {
        o.reps = 1;
        if (o.filters.empty()) o.filters = {"calls.bpf.o:", "xdp_parser.bpf.o:"};
        o.libbpf_tools = std::ranges::any_of(o.filters, [](const std::string& f) { return !f.ends_with(".bpf.o:"); });
    }
    return o;
}

// ---- Machine description (as bench/compare.cpp prints it). ----

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
        }
    return "unknown";
}

std::string kernel_release() {
    utsname u{};
    return uname(&u) == 0 ? u.release : "unknown";
}

std::string jit_setting() {
    std::ifstream in("/proc/sys/net/core/bpf_jit_enable");
    std::string v;
    return in >> v ? v : "unknown";
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

template <class T>
T median(std::vector<T> v) {
    std::ranges::sort(v);
    return v.empty() ? T{} : v[v.size() / 2];
}

double geomean(const std::vector<double>& v) {
    double log_sum = 0;
    for (double x : v) log_sum += std::log(x);
    return v.empty() ? 0 : std::exp(log_sum / static_cast<double>(v.size()));
}

// ---- Enumeration (as tests/unit/verifier/kernel_verdict_test.cpp). ----

/// One object to measure: a label for the table and the parsed spec.
struct Source {
    std::string label;
    object::ObjectSpec spec;
};

/// Files `dpkg -L libbpf-tools` lists under a bin or sbin directory (symlinks followed); empty without the package.
std::vector<std::string> libbpf_tools_binaries() {
    std::vector<std::string> out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("dpkg -L libbpf-tools 2>/dev/null", "r"), pclose);
    if (!pipe) return out;
    char line[4096];
    while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
        std::string path(line);
        while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
        if (path.find("/bin/") == std::string::npos && path.find("/sbin/") == std::string::npos) continue;
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec)) out.push_back(path);
    }
    std::ranges::sort(out);
    return out;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<Source> sources(const Options& opt) {
    std::vector<Source> out;
    if (opt.test_programs && std::filesystem::exists(opt.programs_dir)) {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(opt.programs_dir))
            if (entry.path().string().ends_with(".bpf.o")) files.push_back(entry.path());
        std::ranges::sort(files);
        for (const auto& f : files) {
            auto spec = object::parse_object_file(f.string());
            if (!spec) {
                std::fprintf(stderr, "xbpf-compare-verifier: %s\n", spec.error().to_string().c_str());
                continue;
            }
            out.push_back({f.filename().string(), std::move(*spec)});
        }
    }
    if (opt.libbpf_tools) {
        std::set<std::string> seen_paths;
        std::set<std::string> seen_images;  // the same skeleton in several binaries is measured once
        for (const std::string& path : libbpf_tools_binaries()) {
            if (!seen_paths.insert(std::filesystem::canonical(path).string()).second) continue;
            const auto bytes = read_file(path);
            for (const object::EmbeddedObject& e : object::find_embedded_objects(bytes)) {
                const auto image = std::span(bytes).subspan(e.offset, e.size);
                if (!seen_images.insert(std::string(image.begin(), image.end())).second) continue;
                auto spec = object::parse_object(image, "tool.bpf.o");
                if (!spec) continue;
                out.push_back({std::filesystem::path(path).filename().string(), std::move(*spec)});
            }
        }
    }
    return out;
}

/// The object with CO-RE applied against the running kernel (records dropped: both sides see patched code).
std::optional<object::ObjectSpec> relocated(const object::ObjectSpec& spec) {
    static const Result<object::CoreTarget> kernel = object::CoreTarget::kernel();
    bool any = false;
    for (const auto& p : spec.programs) any = any || !p.core_relocations.empty();
    if (!any) return spec;
    if (!kernel) return std::nullopt;
    auto applied = object::apply_core_relocations(spec, *kernel);
    if (!applied) return std::nullopt;
    for (auto& p : applied->programs) p.core_relocations.clear();
    return std::move(*applied);
}

/// `spec` with only program `p`, sized as libbpf-tools' user-space halves would size it (as kernel_verdict_test.cpp
/// does, and perf_event_arrays as libbpf does).
object::ObjectSpec one_program(const object::ObjectSpec& spec, const object::ProgramSpec& p) {
    object::ObjectSpec one = spec;
    one.programs = {p};
    for (object::MapInfo& info : one.map_info) info.initial_slots.clear();
    for (maps::MapSpec& m : one.maps) {
        // libbpf sizes a perf_event_array without max_entries to the possible CPUs (kernel::Object::load does not).
        if (m.max_entries == 0)
            m.max_entries = m.type == maps::MapType::PerfEventArray ? maps::num_possible_cpus() : 1024;
        if (m.type == maps::MapType::StackTrace && m.value_size == 0) m.value_size = 127 * 8;
    }
    return one;
}

// ---- xbpf ----

struct XbpfFigures {
    verifier::VerifyReport report;  // of the warm-up call
    std::uint64_t median_ns = 0;
    std::size_t peak_bytes = 0;
};

XbpfFigures measure_xbpf(const object::ObjectSpec& one, int reps) {
    const object::ProgramSpec& p = one.programs.front();
    verifier::VerifyOptions vo = verifier::options_for(one, p);
    for (std::size_t i = 0; i < vo.maps.size(); ++i) {
        if (!(one.maps[i].flags & maps::kFRdonlyProg) || one.maps[i].type != maps::MapType::Array) continue;
        vo.maps[i].frozen_value = object::map_initial_value(one, i);
    }
    XbpfFigures f;
    f.report = verifier::verify(p.insns, vo);
    {
        const std::size_t before = live_bytes.load(std::memory_order_relaxed);
        peak_bytes.store(before, std::memory_order_relaxed);
        const verifier::VerifyReport r = verifier::verify(p.insns, vo);
        f.peak_bytes = peak_bytes.load(std::memory_order_relaxed) - before;
    }
    std::vector<std::uint64_t> samples;
    for (int i = 0; i < reps; ++i) {
        const std::uint64_t start = now_ns();
        const verifier::VerifyReport r = verifier::verify(p.insns, vo);
        samples.push_back(now_ns() - start);
    }
    f.median_ns = median(samples);
    return f;
}

// ---- kernel ----

/// What the kernel's BPF_LOG_STATS summary says ("verification time N usec", "processed N insns", ...).
struct KernelStats {
    std::uint64_t verify_us = 0;
    std::uint64_t total_states = 0;
    std::uint64_t peak_states = 0;
};

std::optional<std::uint64_t> log_number(const std::string& log, std::string_view key) {
    const auto at = log.rfind(key);
    if (at == std::string::npos) return std::nullopt;
    return std::strtoull(log.c_str() + at + key.size(), nullptr, 10);
}

/// An fd closed on scope exit.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

/// `reps` BPF_PROG_LOADs with log_level 4 of the program `obj` loaded, against obj's maps and with the same
/// attributes as kernel::Object::load gives it (BTF, func_info/line_info, attach BTF id as the kernel reports it).
/// The median verification time; nullopt if the kernel refuses or the log has no summary.
std::optional<KernelStats> kernel_stats(const kernel::Object& obj, int reps) {
    const object::ObjectSpec& s = obj.spec();
    const object::ProgramSpec& prog = s.programs.front();
    std::vector<isa::RawInsn> insns = prog.insns;
    for (std::size_t i = 0; i + 1 < insns.size(); ++i) {
        isa::RawInsn& in = insns[i];
        if (in.opcode != kOpLddw) continue;
        if (in.src == kPseudoMapIdx || in.src == kPseudoMapIdxValue) {
            const auto index = static_cast<std::size_t>(in.imm);
            if (index >= s.maps.size()) return std::nullopt;
            in.src = in.src == kPseudoMapIdx ? kPseudoMapFd : kPseudoMapValue;
            in.imm = obj.map_fd(s.maps[index].name);
        }
        ++i;
    }
    bpf_prog_info info{};
    __u32 info_len = sizeof info;
    if (bpf_obj_get_info_by_fd(obj.prog_fd(prog.name), &info, &info_len) != 0) return std::nullopt;

    Fd btf(-1);
    if (obj.has_btf()) {
        __u32 size = 0;
        const void* raw = btf__raw_data(s.btf.get(), &size);
        btf.fd = raw != nullptr ? bpf_btf_load(raw, size, nullptr) : -1;
    }
    std::vector<bpf_func_info> func_info;
    std::vector<bpf_line_info> line_info;
    if (btf.fd >= 0) {
        for (const auto& f : prog.func_info) func_info.push_back({static_cast<__u32>(f.insn), f.type_id});
        for (const auto& l : prog.line_info)
            line_info.push_back(
                {static_cast<__u32>(l.insn), l.file_name_off, l.line_off, (l.line << 10) | (l.column & 0x3ff)});
    }
    const std::string license = s.license.empty() ? std::string("GPL") : s.license;
    std::string log(1u << 16, '\0');
    std::vector<std::uint64_t> times;
    KernelStats stats;
    for (int r = 0; r < reps; ++r) {
        LIBBPF_OPTS(bpf_prog_load_opts, opts);
        opts.expected_attach_type = static_cast<enum bpf_attach_type>(prog.expected_attach_type);
        opts.attach_btf_id = info.attach_btf_id;
        opts.prog_flags = prog.prog_flags;
        opts.kern_version = s.kernel_version;
        if (btf.fd >= 0) {
            opts.prog_btf_fd = static_cast<__u32>(btf.fd);
            if (!func_info.empty()) {
                opts.func_info = func_info.data();
                opts.func_info_cnt = static_cast<__u32>(func_info.size());
                opts.func_info_rec_size = sizeof(bpf_func_info);
            }
            if (!line_info.empty()) {
                opts.line_info = line_info.data();
                opts.line_info_cnt = static_cast<__u32>(line_info.size());
                opts.line_info_rec_size = sizeof(bpf_line_info);
            }
        }
        std::fill(log.begin(), log.end(), '\0');
        opts.log_buf = log.data();
        opts.log_size = static_cast<__u32>(log.size());
        opts.log_level = 4;  // BPF_LOG_STATS
        const Fd fd(bpf_prog_load(static_cast<enum bpf_prog_type>(prog.type), prog.name.c_str(), license.c_str(),
                                  reinterpret_cast<const struct bpf_insn*>(insns.data()), insns.size(), &opts));
        if (fd.fd < 0) return std::nullopt;
        const std::string text = log.c_str();
        const auto t = log_number(text, "verification time ");
        if (!t) return std::nullopt;
        times.push_back(*t);
        stats.total_states = log_number(text, "total_states ").value_or(0);
        stats.peak_states = log_number(text, "peak_states ").value_or(0);
    }
    stats.verify_us = median(times);
    return stats;
}

struct KernelFigures {
    std::uint64_t median_ns = 0;
    std::uint64_t processed = 0;
    std::optional<KernelStats> stats;
};

/// How the kernel took the program: figures, or why it did not load.
struct KernelOutcome {
    std::optional<KernelFigures> figures;
    bool refused = false;  // BPF_PROG_LOAD failed: the verifier (or the program's attributes) said no
    std::string why;       // when not loaded
};

KernelOutcome measure_kernel(const object::ObjectSpec& one, int reps, bool with_stats) {
    const std::string& name = one.programs.front().name;
    KernelOutcome out;
    auto first = kernel::Object::load(one);  // warm-up, and the verdict
    if (!first) {
        const std::string& m = first.error().message;
        out.refused = m.find("BPF_PROG_LOAD") != std::string::npos;
        out.why = m.substr(0, m.find('\n'));
        // The verifier log's last line says why ("...\n<log tail>").
        std::string_view log(m);
        while (!log.empty() && log.back() == '\n') log.remove_suffix(1);
        if (const auto nl = log.rfind('\n'); nl != std::string_view::npos)
            out.why += ": " + std::string(log.substr(nl + 1));
        return out;
    }
    KernelFigures f;
    bpf_prog_info info{};
    __u32 info_len = sizeof info;
    if (bpf_obj_get_info_by_fd((*first)->prog_fd(name), &info, &info_len) == 0) f.processed = info.verified_insns;
    if (with_stats) f.stats = kernel_stats(**first, reps);
    first->reset();
    std::vector<std::uint64_t> samples;
    for (int i = 0; i < reps; ++i) {
        auto obj = kernel::Object::load(one);
        if (!obj) {
            out.why = "a later load failed: " + obj.error().message.substr(0, obj.error().message.find('\n'));
            return out;
        }
        samples.push_back((*obj)->prog_load_ns(name));
    }
    f.median_ns = median(samples);
    out.figures = f;
    return out;
}

// ---- The run ----

struct Row {
    std::string object;
    std::string program;
    std::string type;
    std::size_t insns = 0;
    XbpfFigures xbpf;
    KernelFigures kernel;

    [[nodiscard]] std::string label() const { return object + ":" + program; }
    [[nodiscard]] double ratio() const {
        return static_cast<double>(xbpf.median_ns) / static_cast<double>(std::max<std::uint64_t>(kernel.median_ns, 1));
    }
    /// xbpf / the kernel's own verification time (its log's whole microseconds; none when it reads 0).
    [[nodiscard]] std::optional<double> verify_ratio() const {
        if (!kernel.stats || kernel.stats->verify_us == 0) return std::nullopt;
        return static_cast<double>(xbpf.median_ns) / (static_cast<double>(kernel.stats->verify_us) * 1e3);
    }
};

struct Tally {
    std::vector<Row> rows;                                    // kernel and xbpf accept: timed
    std::vector<std::string> xbpf_only_rejects;               // kernel accepts, xbpf rejects
    std::vector<std::string> xbpf_only_accepts;               // kernel refuses, xbpf accepts
    std::map<std::string, std::size_t> refused_reasons;       // kernel refuses, xbpf accepts: errno and log line
    std::size_t both_reject = 0;                              // kernel refuses, xbpf rejects
    std::size_t not_loadable = 0;                             // a map or the BTF failed in the kernel
    std::map<std::string, std::size_t> not_loadable_reasons;  // first line of the error
    std::size_t no_core = 0;                                  // CO-RE relocation failed against the running kernel
    std::size_t xbpf_only = 0;                                // no bpf(): xbpf figures only
};

/// A kernel error without the quoted map or program names ("map (ringbuf): BPF_MAP_CREATE: ..."), to count reasons.
std::string without_names(std::string s) {
    for (std::size_t at = s.find(" '"); at != std::string::npos; at = s.find(" '", at)) {
        const std::size_t end = s.find('\'', at + 2);
        if (end == std::string::npos) break;
        s.erase(at, end + 1 - at);
    }
    return s.substr(0, 160);
}

bool selected(const Options& opt, const std::string& label) {
    if (opt.filters.empty()) return true;
    return std::ranges::any_of(opt.filters, [&](const std::string& f) { return label.find(f) != std::string::npos; });
}

std::string us(std::uint64_t ns) { return fmt::format("{:.1f}", static_cast<double>(ns) / 1e3); }

std::string shorten(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 2) + ".."; }

void print_table(const std::vector<Row>& rows, const Options& opt, bool have_kernel) {
    const auto head = fmt::format("{:<44} {:>6} {:>9} {:>9} {:>6} {:>8} {:>6} {:>9} {:>9} {:>13} {:>13} {:>8}\n",
                                  "program", "insns", "xbpf us", "kern us", "ratio", "kverify", "ratio", "xbpf proc",
                                  "kern proc", "xbpf st/peak", "kern st/peak", "xbpf KiB");
    fmt::print("{}{}\n", head, std::string(head.size() - 1, '-'));
    std::size_t n = 0;
    for (const Row& r : rows) {
        if (opt.top != 0 && n++ >= opt.top) break;
        const auto& k = r.kernel;
        const auto vr = r.verify_ratio();
        fmt::print("{:<44} {:>6} {:>9} {:>9} {:>6} {:>8} {:>6} {:>9} {:>9} {:>13} {:>13} {:>8.1f}\n",
                   shorten(r.label(), 44), r.insns, us(r.xbpf.median_ns), have_kernel ? us(k.median_ns) : "n/a",
                   have_kernel ? fmt::format("{:.2f}", r.ratio()) : "n/a",
                   k.stats ? std::to_string(k.stats->verify_us) : "n/a", vr ? fmt::format("{:.2f}", *vr) : "n/a",
                   r.xbpf.report.insns_processed, have_kernel ? std::to_string(k.processed) : "n/a",
                   fmt::format("{}/{}", r.xbpf.report.states_stored, r.xbpf.report.peak_states),
                   k.stats ? fmt::format("{}/{}", k.stats->total_states, k.stats->peak_states) : "n/a",
                   static_cast<double>(r.xbpf.peak_bytes) / 1024.0);
    }
}

struct Summary {
    double geomean_ratio = 0;
    double median_ratio = 0;
    double total_ratio = 0;
    std::size_t at_goal = 0;  // ratio <= 0.5
    std::size_t slower = 0;   // ratio > 1
    double geomean_verify_ratio = 0;
    std::size_t verify_ratio_count = 0;
    std::uint64_t xbpf_total_ns = 0;
    std::uint64_t kernel_total_ns = 0;
    std::uint64_t kernel_verify_total_us = 0;
    std::size_t xbpf_peak_max = 0;
    std::size_t xbpf_peak_median = 0;
};

Summary summarize(const std::vector<Row>& rows) {
    Summary s;
    std::vector<double> ratios;
    std::vector<double> verify_ratios;
    std::vector<std::size_t> peaks;
    for (const Row& r : rows) {
        ratios.push_back(r.ratio());
        if (const auto v = r.verify_ratio()) verify_ratios.push_back(*v);
        s.xbpf_total_ns += r.xbpf.median_ns;
        s.kernel_total_ns += r.kernel.median_ns;
        if (r.kernel.stats) s.kernel_verify_total_us += r.kernel.stats->verify_us;
        s.at_goal += r.ratio() <= 0.5 ? 1 : 0;
        s.slower += r.ratio() > 1 ? 1 : 0;
        peaks.push_back(r.xbpf.peak_bytes);
        s.xbpf_peak_max = std::max(s.xbpf_peak_max, r.xbpf.peak_bytes);
    }
    s.geomean_ratio = geomean(ratios);
    s.median_ratio = median(ratios);
    s.total_ratio =
        static_cast<double>(s.xbpf_total_ns) / static_cast<double>(std::max<std::uint64_t>(s.kernel_total_ns, 1));
    s.geomean_verify_ratio = geomean(verify_ratios);
    s.verify_ratio_count = verify_ratios.size();
    s.xbpf_peak_median = median(peaks);
    return s;
}

nlohmann::json to_json(const Tally& t, const Summary& s, const Options& opt, bool have_kernel) {
    nlohmann::json j;
    j["machine"] = {{"cpu", cpu_model()},
                    {"nproc", std::thread::hardware_concurrency()},
                    {"kernel", kernel_release()},
                    {"bpf_jit_enable", jit_setting()},
                    {"bpf", have_kernel}};
    j["method"] = {
        {"reps", opt.reps},
        {"statistic", "median"},
        {"xbpf", "verifier::verify wall time; peak = operator new bytes live above the start"},
        {"kernel", "BPF_PROG_LOAD wall time (Object::prog_load_ns); kverify = log_level 4 verification time"}};
    j["programs"] = nlohmann::json::array();
    for (const Row& r : t.rows) {
        nlohmann::json e = {{"object", r.object},
                            {"program", r.program},
                            {"type", r.type},
                            {"insns", r.insns},
                            {"xbpf_ns", r.xbpf.median_ns},
                            {"xbpf_accepted", r.xbpf.report.accepted},
                            {"xbpf_processed", r.xbpf.report.insns_processed},
                            {"xbpf_states_stored", r.xbpf.report.states_stored},
                            {"xbpf_peak_states", r.xbpf.report.peak_states},
                            {"xbpf_peak_bytes", r.xbpf.peak_bytes}};
        if (have_kernel) {
            e["kernel_load_ns"] = r.kernel.median_ns;
            e["kernel_processed"] = r.kernel.processed;
            e["ratio"] = r.ratio();
            if (r.kernel.stats) {
                e["kernel_verify_us"] = r.kernel.stats->verify_us;
                e["kernel_total_states"] = r.kernel.stats->total_states;
                e["kernel_peak_states"] = r.kernel.stats->peak_states;
            }
            if (const auto v = r.verify_ratio()) e["verify_ratio"] = *v;
        }
        j["programs"].push_back(std::move(e));
    }
    j["summary"] = {{"timed", t.rows.size()},
                    {"geomean_ratio", s.geomean_ratio},
                    {"median_ratio", s.median_ratio},
                    {"total_ratio", s.total_ratio},
                    {"at_goal", s.at_goal},
                    {"slower_than_kernel", s.slower},
                    {"geomean_verify_ratio", s.geomean_verify_ratio},
                    {"xbpf_total_ns", s.xbpf_total_ns},
                    {"kernel_total_ns", s.kernel_total_ns},
                    {"kernel_verify_total_us", s.kernel_verify_total_us},
                    {"xbpf_peak_bytes_max", s.xbpf_peak_max},
                    {"xbpf_peak_bytes_median", s.xbpf_peak_median},
                    {"kernel_refused_xbpf_rejected", t.both_reject},
                    {"kernel_accepted_xbpf_rejected", t.xbpf_only_rejects},
                    {"kernel_refused_xbpf_accepted", t.xbpf_only_accepts},
                    {"not_loadable", t.not_loadable},
                    {"no_core", t.no_core}};
    return j;
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    std::string why;
    const bool have_kernel = opt.kernel && kernel::available(&why);
    if (!have_kernel && opt.kernel) {
        if (opt.check) {
            std::printf("xbpf-compare-verifier --check: skipped, bpf() unavailable (%s)\n", why.c_str());
            return kSkipped;
        }
        std::fprintf(stderr, "xbpf-compare-verifier: kernel columns n/a: bpf() unavailable (%s)\n", why.c_str());
    }

    Tally t;
    for (const Source& src : sources(opt)) {
        bool any = false;
        for (const auto& p : src.spec.programs) any = any || selected(opt, src.label + ":" + p.name);
        if (!any) continue;
        auto spec = relocated(src.spec);
        if (!spec) {
            t.no_core += src.spec.programs.size();
            continue;
        }
        for (const object::ProgramSpec& p : spec->programs) {
            if (!selected(opt, src.label + ":" + p.name)) continue;
            const object::ObjectSpec one = one_program(*spec, p);
            Row row{src.label, p.name, std::string(object::program_type_name(p.type)), p.insns.size(), {}, {}};
            row.xbpf = measure_xbpf(one, opt.reps);
            if (!have_kernel) {
                ++t.xbpf_only;
                t.rows.push_back(std::move(row));
                continue;
            }
            const KernelOutcome k = measure_kernel(one, opt.reps, !opt.check);
            const bool xbpf_accepts = row.xbpf.report.accepted;
            if (!k.figures && !k.refused) {
                ++t.not_loadable;
                ++t.not_loadable_reasons[without_names(k.why)];
            } else if (k.refused) {
                if (xbpf_accepts) {
                    t.xbpf_only_accepts.push_back(row.label() + ": " + k.why);
                    ++t.refused_reasons[without_names(k.why)];
                } else {
                    ++t.both_reject;
                }
            } else if (!xbpf_accepts) {
                t.xbpf_only_rejects.push_back(row.label() + ": " + row.xbpf.report.summary());
            } else {
                row.kernel = *k.figures;
                t.rows.push_back(std::move(row));
            }
            if (opt.check)
                std::printf("%s:%s: kernel %s, xbpf %s\n", src.label.c_str(), p.name.c_str(),
                            k.figures ? "accepts" : (k.refused ? "refuses" : "cannot load"),
                            xbpf_accepts ? "accepts" : "rejects");
        }
    }
    const std::size_t disagreements = t.xbpf_only_accepts.size() + t.xbpf_only_rejects.size();
    if (opt.check) {
        for (const auto& d : t.xbpf_only_rejects)
            std::printf("disagreement: kernel accepts, xbpf rejects: %s\n", d.c_str());
        for (const auto& d : t.xbpf_only_accepts)
            std::printf("disagreement: kernel refuses, xbpf accepts: %s\n", d.c_str());
        const std::size_t compared = t.rows.size() + t.both_reject + disagreements;
        std::printf("verifier cross-check: %zu programs compared, %zu disagreements\n", compared, disagreements);
        return disagreements == 0 && compared > 0 ? 0 : 1;
    }

    std::ranges::sort(t.rows, [](const Row& a, const Row& b) { return a.ratio() > b.ratio(); });
    const Summary s = summarize(t.rows);
    if (opt.json) {
        std::cout << to_json(t, s, opt, have_kernel).dump(2) << "\n";
        return 0;
    }

    fmt::print("xbpf verifier vs kernel BPF_PROG_LOAD: {} ({} cpus), Linux {}, bpf_jit_enable={}\n", cpu_model(),
               std::thread::hardware_concurrency(), kernel_release(), jit_setting());
    fmt::print(
        "median of {} runs each; us = microseconds of wall time; ratio = xbpf / kernel (goal <= 0.50); kverify = "
        "the kernel's log_level 4 'verification time' (whole us)\n\n",
        opt.reps);
    print_table(t.rows, opt, have_kernel);
    fmt::print("\n{} programs timed (kernel and xbpf accept)", t.rows.size());
    if (!have_kernel) {
        fmt::print("; kernel n/a\n");
        return 0;
    }
    fmt::print(
        ": xbpf/kernel load time geomean {:.2f}, median {:.2f}, total {:.2f} ({:.1f} ms / {:.1f} ms); {} at "
        "or under 0.5, {} slower than the kernel\n",
        s.geomean_ratio, s.median_ratio, s.total_ratio, static_cast<double>(s.xbpf_total_ns) / 1e6,
        static_cast<double>(s.kernel_total_ns) / 1e6, s.at_goal, s.slower);
    fmt::print(
        "xbpf / kernel verification time (log_level 4, {} programs where it reads >= 1 us): geomean {:.2f}; "
        "kernel verification total {:.1f} ms\n",
        s.verify_ratio_count, s.geomean_verify_ratio, static_cast<double>(s.kernel_verify_total_us) / 1e3);
    fmt::print("xbpf peak memory during verify: median {:.1f} KiB, max {:.1f} KiB\n",
               static_cast<double>(s.xbpf_peak_median) / 1024.0, static_cast<double>(s.xbpf_peak_max) / 1024.0);
    fmt::print("worst 5 (xbpf/kernel):");
    for (std::size_t i = 0; i < std::min<std::size_t>(5, t.rows.size()); ++i)
        fmt::print(" {} {:.2f} ({} insns processed);", t.rows[i].label(), t.rows[i].ratio(),
                   t.rows[i].xbpf.report.insns_processed);
    fmt::print(
        "\nnot timed: {} refused by both, {} refused by the kernel only, {} rejected by xbpf only, {} not "
        "loadable in the kernel, {} without CO-RE against this kernel\n",
        t.both_reject, t.xbpf_only_accepts.size(), t.xbpf_only_rejects.size(), t.not_loadable, t.no_core);
    for (const auto& d : t.xbpf_only_rejects) fmt::print("  kernel accepts, xbpf rejects: {}\n", d);
    for (const auto& [reason, n] : t.refused_reasons)
        fmt::print("  kernel refuses, xbpf accepts ({}): {}\n", n, reason);
    for (const auto& [reason, n] : t.not_loadable_reasons) fmt::print("  not loadable ({}):{}\n", n, reason);
    return 0;
}
