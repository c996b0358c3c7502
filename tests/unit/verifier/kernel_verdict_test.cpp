// Verdicts compared with the Linux kernel's verifier: every program of tests/programs and of the objects embedded in
// Debian's libbpf-tools is loaded by the kernel (BPF_PROG_LOAD through kernel::Object) and verified by xbpf, after
// the same CO-RE relocation against the running kernel. Every disagreement must be listed in kKnown with the reason
// xbpf's verdict is right; an unlisted one fails. Skipped without bpf() (or, for libbpf-tools, without the package).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>

#include "../object/object_test_support.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "maps/cpu.hpp"
#include "object/core.hpp"
#include "object/embedded.hpp"
#include "vm/object.hpp"

namespace xbpf::verifier {
namespace {

/// Programs where xbpf and the kernel disagree, and why xbpf is right (or what xbpf does not model yet).
const std::map<std::string, std::string> kKnown = {
    // tests/programs
    {"summarised_loops.bpf.o:prefix_rounds",
     "beyond the kernel: 4000 passes over a 32-byte packet prefix are more than the kernel's walk can follow (\"The "
     "sequence of 8193 jumps is too complex\"); xbpf summarises both loops (src/verifier/analyzer/widening.cpp) and "
     "summarised_loops_test.cpp runs the program to the value its source defines"},
};

struct Tally {
    std::size_t compared = 0;
    std::size_t both_accept = 0;
    std::size_t both_reject = 0;
    std::size_t skipped = 0;
    std::map<std::string, std::size_t> skip_reasons;
    std::vector<std::string> disagreements;
    std::vector<std::string> unexplained;
};

bool kernel_available(std::string* why) {
    static std::string reason;
    static const bool ok = kernel::available(&reason);
    if (why) *why = reason;
    return ok;
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

/// Compares the verdicts on every program of `spec` (loaded one program at a time, as libbpf-tools' user-space
/// halves would size their maps).
void compare(const object::ObjectSpec& original, const std::string& label, Tally& tally) {
    auto spec = relocated(original);
    if (!spec) {
        ++tally.skipped;
        return;
    }
    for (const object::ProgramSpec& p : spec->programs) {
        object::ObjectSpec one = *spec;
        one.programs = {p};
        for (object::MapInfo& info : one.map_info) info.initial_slots.clear();
        for (maps::MapSpec& m : one.maps) {
            if (m.max_entries == 0)
                m.max_entries = m.type == maps::MapType::PerfEventArray ? maps::num_possible_cpus() : 1024;
            if (m.type == maps::MapType::StackTrace && m.value_size == 0) m.value_size = 127 * 8;
        }
        auto ours = vm::verify_object(one);
        ASSERT_TRUE(ours.has_value()) << label << " " << p.name << ": " << ours.error().to_string();
        const auto& report = ours->front().report;
        auto theirs = kernel::Object::load(one);
        bool kernel_accepts = theirs.has_value();
        // Not comparable: the kernel refused a map, or refused the program before verifying it (no log: e.g. an
        // fentry target this kernel cannot attach to).
        if (!kernel_accepts && (theirs.error().message.find("BPF_PROG_LOAD") == std::string::npos ||
                                theirs.error().message.find("processed ") == std::string::npos)) {
            ++tally.skipped;
            const std::string& m = theirs.error().message;
            ++tally.skip_reasons[m.substr(m.find(':') + 1, 70)];
            continue;
        }
        ++tally.compared;
        if (kernel_accepts == report.accepted) {
            ++(kernel_accepts ? tally.both_accept : tally.both_reject);
            continue;
        }
        std::string key = label + ":" + p.name;
        std::string line = fmt::format("{}: kernel {}, xbpf {}", key, kernel_accepts ? "accepts" : "rejects",
                                       report.accepted ? "accepts" : ("rejects: " + report.summary()));
        if (!kernel_accepts) line += "\n    kernel: " + theirs.error().message.substr(0, 600);
        tally.disagreements.push_back(line);
        if (!kKnown.contains(key)) tally.unexplained.push_back(line);
    }
}

void report(const char* what, const Tally& t) {
    std::cout << what << ": " << t.compared << " programs compared, " << t.both_accept << " accepted by both, "
              << t.both_reject << " rejected by both, " << t.disagreements.size() << " disagreements ("
              << t.unexplained.size() << " unexplained), " << t.skipped << " not loadable in the kernel\n";
    for (const auto& d : t.disagreements) std::cout << "  " << d << "\n";
    for (const auto& [why, n] : t.skip_reasons) std::cout << "  not loadable (" << n << "):" << why << "\n";
}

TEST(VerifierKernelVerdicts, TestPrograms) {
    std::string why;
    if (!kernel_available(&why)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why;
    const std::filesystem::path dir = std::string(XBPF_BINARY_DIR) + "/tests/programs";
    if (!std::filesystem::exists(dir)) GTEST_SKIP() << "tests/programs were not built";
    Tally tally;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.path().string().ends_with(".bpf.o")) continue;
        auto spec = object::parse_object_file(entry.path().string());
        ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
        compare(*spec, entry.path().filename().string(), tally);
    }
    report("tests/programs", tally);
    EXPECT_GT(tally.compared, 40u);
    EXPECT_TRUE(tally.unexplained.empty());
}

TEST(VerifierKernelVerdicts, LibbpfTools) {
    std::string why;
    if (!kernel_available(&why)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why;
    const auto binaries = object::testing::libbpf_tools_binaries();
    if (binaries.empty()) GTEST_SKIP() << "libbpf-tools is not installed (apt-get install libbpf-tools)";
    Tally tally;
    std::set<std::string> seen;
    for (const std::string& path : binaries) {
        if (!seen.insert(std::filesystem::canonical(path).string()).second) continue;
        const auto bytes = object::testing::read_file(path);
        for (const object::EmbeddedObject& e : object::find_embedded_objects(bytes)) {
            auto spec = object::parse_object(std::span(bytes).subspan(e.offset, e.size), "tool.bpf.o");
            ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
            compare(*spec, std::filesystem::path(path).filename().string(), tally);
        }
    }
    report("libbpf-tools", tally);
    // 240 programs; the kernel refuses ~66 fentry/fexit programs before verifying them on this machine (EPERM:
    // no attachable ftrace target), so fewer are comparable.
    EXPECT_GT(tally.compared, 150u);
    EXPECT_TRUE(tally.unexplained.empty());
}

}  // namespace
}  // namespace xbpf::verifier
