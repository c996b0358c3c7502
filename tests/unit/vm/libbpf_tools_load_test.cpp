// The 61 CO-RE objects embedded in Debian's libbpf-tools, loaded into xbpf program by program: each program with
// the object's maps, CO-RE applied against the running kernel's BTF (or the object's own). What cannot load must
// fail for a reason that names something xbpf cannot provide in user space (a kernel symbol or kfunc, a helper xbpf
// does not implement, a CO-RE relocation this kernel cannot satisfy), never for a malformed program or a crash.
// Skipped when libbpf-tools is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>

#include "../object/object_test_support.hpp"
#include "object/embedded.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

/// Why a program did not load, in a few words (the error messages' stable parts).
std::string reason(const Error& e) {
    const std::string& m = e.message;
    if (m.find("__ksym") != std::string::npos) return "kernel symbol or kfunc (__ksym)";
    if (m.find(fmt::format("unknown helper {}", object::kCorePoisonHelper)) != std::string::npos)
        return "CO-RE relocation this kernel's BTF cannot satisfy (libbpf poisons it the same way)";
    if (m.find("unknown helper") != std::string::npos) return "helper xbpf does not implement";
    if (m.find("(cgroup_array)") != std::string::npos) return "cgroup_array map (no cgroups in user space)";
    if (e.code == ErrorCode::kVerify &&
        m.find(fmt::format("unknown#{}", object::kCorePoisonHelper)) != std::string::npos)
        return "verifier: reaches a CO-RE relocation this kernel's BTF cannot satisfy (the kernel rejects it too)";
    if (e.code == ErrorCode::kVerify && m.find("invalid mem access 'scalar'") != std::string::npos)
        return "verifier: dereferences a kernel (BTF) pointer argument, not tracked yet";
    return "other: " + m;
}

TEST(LibbpfToolsLoad, EveryProgramLoadsOrNamesWhatUserSpaceLacks) {
    const auto binaries = object::testing::libbpf_tools_binaries();
    if (binaries.empty()) GTEST_SKIP() << "libbpf-tools is not installed (apt-get install libbpf-tools)";
    std::size_t programs = 0;
    std::size_t loaded = 0;
    std::map<std::string, std::size_t> failures;
    std::map<std::string, std::string> example;
    std::set<std::string> seen;
    for (const std::string& path : binaries) {
        if (!seen.insert(std::filesystem::canonical(path).string()).second) continue;  // symlinked tools
        const auto bytes = object::testing::read_file(path);
        for (const object::EmbeddedObject& e : object::find_embedded_objects(bytes)) {
            auto spec = object::parse_object(std::span(bytes).subspan(e.offset, e.size), "tool.bpf.o");
            ASSERT_TRUE(spec.has_value()) << path << ": " << spec.error().to_string();
            for (const object::ProgramSpec& p : spec->programs) {
                ++programs;
                object::ObjectSpec one = *spec;
                one.programs = {p};
                for (object::MapInfo& info : one.map_info) info.initial_slots.clear();  // slots name other programs
                // What each tool's user-space half does before loading: size the maps it left at 0.
                for (maps::MapSpec& m : one.maps) {
                    if (m.max_entries == 0 && m.type != maps::MapType::PerfEventArray) m.max_entries = 1024;
                    if (m.type == maps::MapType::StackTrace && m.value_size == 0) m.value_size = 127 * 8;
                }
                auto obj = Object::load(std::move(one));
                if (obj) {
                    ++loaded;
                    continue;
                }
                const std::string why = reason(obj.error());
                ++failures[why];
                example.try_emplace(why, std::filesystem::path(path).filename().string() + " " + p.name + ": " +
                                             obj.error().to_string());
            }
        }
    }
    std::cout << "libbpf-tools in xbpf: " << loaded << " of " << programs << " programs load\n";
    for (const auto& [why, n] : failures)
        std::cout << "  " << n << " not loaded: " << why << "\n    e.g. " << example[why] << "\n";
    EXPECT_GT(programs, 200u);  // 240 distinct programs in Debian 12's libbpf-tools 0.26
    for (const auto& [why, n] : failures) EXPECT_FALSE(why.starts_with("other")) << n << " programs: " << example[why];
}

}  // namespace
}  // namespace xbpf::vm
