// .BTF.ext: func info, line info and CO-RE relocation records per ELF section (internal to src/object).
// libbpf 1.1 exports btf_ext__new but keeps struct btf_ext opaque (no accessors for the records), so the section is
// read here, bounds-checked field by field. Layout: include/uapi/linux/btf.h and libbpf's btf.c (struct
// btf_ext_header, struct btf_ext_info_sec); record layouts are struct bpf_func_info, bpf_line_info and
// bpf_core_relo from include/uapi/linux/bpf.h.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"

struct btf;

namespace xbpf::object::detail {

/// struct bpf_func_info, insn_off in bytes from the section start.
struct RawFuncInfo {
    std::uint32_t insn_off = 0;
    std::uint32_t type_id = 0;
};

/// struct bpf_line_info, insn_off in bytes from the section start.
struct RawLineInfo {
    std::uint32_t insn_off = 0;
    std::uint32_t file_name_off = 0;
    std::uint32_t line_off = 0;
    std::uint32_t line_col = 0;  ///< line << 10 | column
};

/// struct bpf_core_relo, insn_off in bytes from the section start.
struct RawCoreRelo {
    std::uint32_t insn_off = 0;
    std::uint32_t type_id = 0;
    std::uint32_t access_str_off = 0;
    std::uint32_t kind = 0;
};

/// The records of one ELF section.
struct BtfExtSection {
    std::vector<RawFuncInfo> func_info;
    std::vector<RawLineInfo> line_info;
    std::vector<RawCoreRelo> core_relos;
};

/// All records, by ELF section name.
using BtfExt = std::map<std::string, BtfExtSection, std::less<>>;

/// Parse .BTF.ext. Section names are resolved through `btf`'s string table. Errors name ".BTF.ext" and the offset.
Result<BtfExt> parse_btf_ext(std::span<const std::uint8_t> data, const struct btf* btf, const std::string& file);

}  // namespace xbpf::object::detail
