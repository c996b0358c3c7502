// Real-world CO-RE objects: the libbpf-tools package (Debian) ships tools whose binaries embed their BPF objects
// (libbpf skeletons). Every embedded object must parse, and every program must decode. Skipped when the package is
// not installed (apt-get install libbpf-tools).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>

#include "isa/instruction.hpp"
#include "object/core.hpp"
#include "object/embedded.hpp"
#include "object/object_spec.hpp"
#include "object_test_support.hpp"

namespace xbpf::object {
namespace {

using testing::libbpf_tools_binaries;
using testing::read_file;

TEST(ObjectLibbpfTools, EveryEmbeddedObjectParses) {
    const auto binaries = libbpf_tools_binaries();
    if (binaries.empty()) GTEST_SKIP() << "libbpf-tools is not installed (apt-get install libbpf-tools)";

    std::size_t objects = 0, programs = 0, maps = 0, core_relocations = 0, subprograms = 0;
    std::set<std::string> distinct_files;
    for (const std::string& path : binaries) {
        const auto bytes = read_file(path);
        const auto embedded = find_embedded_objects(bytes);
        EXPECT_EQ(embedded.size(), 1u) << path << " should embed exactly one BPF object";
        const std::string tool = std::filesystem::path(path).filename().string();
        distinct_files.insert(std::filesystem::canonical(path).string());
        for (const EmbeddedObject& e : embedded) {
            ++objects;
            const auto image = std::span(bytes).subspan(e.offset, e.size);
            auto spec = parse_object(image, tool + ".bpf.o");
            ASSERT_TRUE(spec.has_value()) << path << ": " << spec.error().to_string();
            EXPECT_FALSE(spec->programs.empty()) << path;
            EXPECT_NE(spec->btf, nullptr) << path;
            EXPECT_FALSE(spec->license.empty()) << path;
            programs += spec->programs.size();
            maps += spec->maps.size();
            for (const ProgramSpec& p : spec->programs) {
                core_relocations += p.core_relocations.size();
                subprograms += p.functions.size() - 1;
                auto decoded = isa::decode(p.insns);
                EXPECT_TRUE(decoded.has_value()) << tool << " " << p.name << ": " << decoded.error().to_string();
                EXPECT_EQ(p.func_info.size(), p.functions.size()) << tool << " " << p.name;
            }
        }
    }
    std::cout << "libbpf-tools: " << binaries.size() << " tool binaries (" << distinct_files.size()
              << " distinct files), " << objects << " embedded BPF objects parsed, " << programs << " programs ("
              << subprograms << " sub-programs appended), " << maps << " maps, " << core_relocations
              << " CO-RE relocations\n";
    RecordProperty("objects", static_cast<int>(objects));
    RecordProperty("programs", static_cast<int>(programs));
    RecordProperty("maps", static_cast<int>(maps));
    EXPECT_GE(objects, binaries.size());
}

// CO-RE against the running kernel: every relocation of every libbpf-tools program resolves (a value, or libbpf's
// poison for fields and types this kernel lacks) and the patched programs still decode.
TEST(ObjectLibbpfTools, CoreRelocationsResolveAgainstTheKernel) {
    const auto binaries = libbpf_tools_binaries();
    if (binaries.empty()) GTEST_SKIP() << "libbpf-tools is not installed (apt-get install libbpf-tools)";
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    auto kernel = CoreTarget::kernel();
    ASSERT_TRUE(kernel.has_value()) << kernel.error().to_string();
    std::size_t programs = 0, relocations = 0, poisoned = 0;
    std::set<std::string> seen;
    for (const std::string& path : binaries) {
        if (!seen.insert(std::filesystem::canonical(path).string()).second) continue;  // symlinked tools
        const auto bytes = read_file(path);
        for (const EmbeddedObject& e : find_embedded_objects(bytes)) {
            auto spec = parse_object(std::span(bytes).subspan(e.offset, e.size), "tool.bpf.o");
            ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
            auto applied = apply_core_relocations(*spec, *kernel);
            ASSERT_TRUE(applied.has_value()) << path << ": " << applied.error().to_string();
            for (const ProgramSpec& p : applied->programs) {
                ++programs;
                relocations += p.core_relocations.size();
                for (const CoreRelocation& c : p.core_relocations)
                    poisoned += p.insns[c.insn].opcode == 0x85 && p.insns[c.insn].imm == kCorePoisonHelper;
                auto decoded = isa::decode(p.insns);
                EXPECT_TRUE(decoded.has_value()) << path << " " << p.name << ": " << decoded.error().to_string();
            }
        }
    }
    std::cout << "libbpf-tools CO-RE against the running kernel: " << programs << " programs, " << relocations
              << " relocations applied, " << poisoned << " poisoned (fields or types this kernel lacks)\n";
}

TEST(ObjectEmbedded, FindsBpfImagesInsideOtherBytes) {
    const auto object = testing::read_program("xdp_parser");
    if (object.empty()) GTEST_SKIP() << "tests/programs were not built";
    // junk, a fake x86-64 ELF header, the object, a stray magic at the very end.
    std::vector<std::uint8_t> blob(100, 0xaa);
    const std::uint8_t fake[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 62, 0};
    blob.insert(blob.end(), std::begin(fake), std::end(fake));
    blob.resize(blob.size() + 50, 0);
    const std::size_t at = blob.size();
    blob.insert(blob.end(), object.begin(), object.end());
    blob.insert(blob.end(), {0x7f, 'E', 'L', 'F'});
    const auto found = find_embedded_objects(blob);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].offset, at);
    EXPECT_EQ(found[0].size, object.size());
    auto spec = parse_object(std::span(blob).subspan(found[0].offset, found[0].size), "embedded");
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    EXPECT_EQ(spec->programs.size(), 1u);

    // A header whose section table points past the end is skipped, not read.
    std::vector<std::uint8_t> cut(object.begin(), object.end() - 10);
    EXPECT_TRUE(find_embedded_objects(cut).empty());
    EXPECT_TRUE(find_embedded_objects({}).empty());
}

}  // namespace
}  // namespace xbpf::object
