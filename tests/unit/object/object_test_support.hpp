// Helpers for the object parser tests: load the clang-built test programs (tests/programs/*.bpf.c) and patch ELF
// headers, section data and relocations in place to build malformed objects.
#pragma once

#include <elf.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isa/opcodes.hpp"
#include "object/object_spec.hpp"

namespace xbpf::object::testing {

/// Files listed by `dpkg -L libbpf-tools` under an sbin or bin directory (symlinks included: several tools are
/// links to one binary, e.g. ext4dist -> fsdist). Empty when the package is not installed.
inline std::vector<std::string> libbpf_tools_binaries() {
    std::vector<std::string> out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("dpkg -L libbpf-tools 2>/dev/null", "r"), pclose);
    if (!pipe) return out;
    char line[4096];
    while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
        std::string path(line);
        while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
        if (path.find("/bin/") == std::string::npos && path.find("/sbin/") == std::string::npos) continue;
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec)) out.push_back(path);  // follows symlinks
    }
    return out;
}

/// The whole file (empty if unreadable).
inline std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Path of a compiled test program: build/tests/programs/<name>.bpf.o.
inline std::string program_path(const std::string& name) {
    return std::string(XBPF_BINARY_DIR) + "/tests/programs/" + name + ".bpf.o";
}

/// Bytes of a compiled test program; empty if it was not built (no clang).
inline std::vector<std::uint8_t> read_program(const std::string& name) {
    std::ifstream in(program_path(name), std::ios::binary);
    if (!in) return {};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Loads and parses a test program into `spec`, or skips the test when the object was not built.
#define XBPF_LOAD_PROGRAM(spec, name)                                                                     \
    auto spec##_bytes = ::xbpf::object::testing::read_program(name);                                      \
    if (spec##_bytes.empty()) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << name; \
    auto spec##_result = ::xbpf::object::parse_object(spec##_bytes, std::string(name) + ".bpf.o");        \
    ASSERT_TRUE(spec##_result.has_value()) << spec##_result.error().to_string();                          \
    const ::xbpf::object::ObjectSpec& spec = *spec##_result

/// In-place editing of a 64-bit little-endian ELF image (all accesses through memcpy; offsets are checked).
class ElfPatcher {
  public:
    explicit ElfPatcher(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}

    std::vector<std::uint8_t>& bytes() { return bytes_; }

    Elf64_Ehdr ehdr() const { return get<Elf64_Ehdr>(0); }
    void set_ehdr(const Elf64_Ehdr& h) { put(0, h); }

    std::size_t section_count() const { return ehdr().e_shnum; }
    std::size_t shdr_offset(std::size_t index) const { return ehdr().e_shoff + index * sizeof(Elf64_Shdr); }
    Elf64_Shdr shdr(std::size_t index) const { return get<Elf64_Shdr>(shdr_offset(index)); }
    void set_shdr(std::size_t index, const Elf64_Shdr& s) { put(shdr_offset(index), s); }

    std::string section_name(std::size_t index) const {
        const Elf64_Shdr strtab = shdr(ehdr().e_shstrndx);
        const char* p = reinterpret_cast<const char*>(bytes_.data() + strtab.sh_offset + shdr(index).sh_name);
        return p;
    }

    /// Index of the section called `name`; fails the test if absent.
    std::size_t find(const std::string& name) const {
        for (std::size_t i = 1; i < section_count(); ++i)
            if (section_name(i) == name) return i;
        ADD_FAILURE() << "no section " << name;
        return 0;
    }

    /// Index of the symbol called `name` in .symtab.
    std::optional<std::size_t> find_symbol(const std::string& name) const {
        const Elf64_Shdr symtab = shdr(find(".symtab"));
        const Elf64_Shdr strtab = shdr(symtab.sh_link);
        for (std::size_t i = 0; i < symtab.sh_size / sizeof(Elf64_Sym); ++i) {
            const auto sym = symbol(i);
            const char* p = reinterpret_cast<const char*>(bytes_.data() + strtab.sh_offset + sym.st_name);
            if (name == p) return i;
        }
        return std::nullopt;
    }
    std::size_t symbol_offset(std::size_t index) const {
        return shdr(find(".symtab")).sh_offset + index * sizeof(Elf64_Sym);
    }
    Elf64_Sym symbol(std::size_t index) const { return get<Elf64_Sym>(symbol_offset(index)); }
    void set_symbol(std::size_t index, const Elf64_Sym& s) { put(symbol_offset(index), s); }

    /// Relocation entry `index` of SHT_REL section `rel_section`.
    std::size_t rel_offset(const std::string& rel_section, std::size_t index) const {
        return shdr(find(rel_section)).sh_offset + index * sizeof(Elf64_Rel);
    }
    Elf64_Rel rel(const std::string& rel_section, std::size_t index) const {
        return get<Elf64_Rel>(rel_offset(rel_section, index));
    }
    void set_rel(const std::string& rel_section, std::size_t index, const Elf64_Rel& r) {
        put(rel_offset(rel_section, index), r);
    }

    /// Calls `f(file_offset, kind, vlen, name)` for every type record of .BTF (file_offset of its struct btf_type).
    template <class F>
    void for_each_btf_type(F&& f) const {
        const auto sh = shdr(find(".BTF"));
        const std::size_t hdr_len = get<std::uint32_t>(sh.sh_offset + 4);
        const std::size_t type_off = sh.sh_offset + hdr_len + get<std::uint32_t>(sh.sh_offset + 8);
        const std::size_t type_len = get<std::uint32_t>(sh.sh_offset + 12);
        const std::size_t str_off = sh.sh_offset + hdr_len + get<std::uint32_t>(sh.sh_offset + 16);
        for (std::size_t pos = type_off; pos + 12 <= type_off + type_len;) {
            const std::uint32_t info = get<std::uint32_t>(pos + 4);
            const std::uint32_t kind = (info >> 24) & 0x1f;
            const std::uint32_t vlen = info & 0xffff;
            const char* name = reinterpret_cast<const char*>(bytes_.data() + str_off + get<std::uint32_t>(pos));
            f(pos, kind, vlen, std::string(name));
            std::size_t extra = 0;
            switch (kind) {
                case 1: extra = 4; break;   // INT
                case 3: extra = 12; break;  // ARRAY
                case 4:
                case 5: extra = 12 * vlen; break;   // STRUCT, UNION
                case 6: extra = 8 * vlen; break;    // ENUM
                case 13: extra = 8 * vlen; break;   // FUNC_PROTO
                case 14: extra = 4; break;          // VAR
                case 15: extra = 12 * vlen; break;  // DATASEC
                case 17: extra = 4; break;          // DECL_TAG
                case 19: extra = 12 * vlen; break;  // ENUM64
                default: break;  // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
            }
            pos += 12 + extra;
        }
    }

    template <class T>
    T get(std::size_t offset) const {
        T v{};
        if (offset + sizeof(T) <= bytes_.size()) {
            std::memcpy(&v, bytes_.data() + offset, sizeof(T));
        } else {
            ADD_FAILURE() << "read past the image at " << offset;
        }
        return v;
    }
    template <class T>
    void put(std::size_t offset, const T& v) {
        if (offset + sizeof(T) <= bytes_.size()) {
            std::memcpy(bytes_.data() + offset, &v, sizeof(T));
        } else {
            ADD_FAILURE() << "write past the image at " << offset;
        }
    }

  private:
    std::vector<std::uint8_t> bytes_;
};

/// Number of lddw instructions in `insns` with pseudo source `src`.
inline std::size_t count_lddw(const std::vector<isa::RawInsn>& insns, std::uint8_t src) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < insns.size(); ++i)
        if (insns[i].opcode == 0x18) {
            if (insns[i].src == src) ++n;
            ++i;
        }
    return n;
}

}  // namespace xbpf::object::testing
