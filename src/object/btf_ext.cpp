#include "object/btf_ext.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>

#include "object/elf_file.hpp"

namespace xbpf::object::detail {

namespace {

constexpr std::uint16_t kBtfMagic = 0xeB9F;
constexpr std::uint32_t kMinHeaderLen = 24;  // magic..line_info_len; core_relo_off/len are optional

// Reads one info sub-section: u32 record_size, then { u32 sec_name_off; u32 num_info; record[num_info] }*.
// `emit(section_name, record_bytes)` receives each record, at least `min_record` bytes long.
template <class Emit>
Result<void> parse_info(std::span<const std::uint8_t> all, std::uint64_t base, std::uint32_t start, std::uint32_t len,
                        std::uint32_t min_record, const char* what, const struct btf* btf, const std::string& file,
                        Emit&& emit) {
    if (len == 0) return {};
    if (start > all.size() || len > all.size() - start)
        return fail(file, ".BTF.ext", base + start,
                    fmt::format("{} [{}, +{}) lies outside the section", what, start, len));
    const auto info = all.subspan(start, len);
    if (len < 4) return fail(file, ".BTF.ext", base + start, fmt::format("{} is too short for its record size", what));
    const std::uint32_t record_size = load_u32(info, 0);
    if (record_size < min_record || record_size % 4 != 0 || record_size > 1024)
        return fail(
            file, ".BTF.ext", base + start,
            fmt::format("{} record size {} is invalid (at least {}, a multiple of 4)", what, record_size, min_record));
    std::size_t pos = 4;
    while (pos < info.size()) {
        if (info.size() - pos < 8)
            return fail(file, ".BTF.ext", base + start + pos, fmt::format("{}: truncated section header", what));
        const std::uint32_t name_off = load_u32(info, pos);
        const std::uint32_t count = load_u32(info, pos + 4);
        const char* name = btf__name_by_offset(btf, name_off);
        if (name == nullptr || *name == '\0')
            return fail(file, ".BTF.ext", base + start + pos,
                        fmt::format("{}: section name offset {} is not a BTF string", what, name_off));
        pos += 8;
        if (count == 0)
            return fail(file, ".BTF.ext", base + start + pos - 4,
                        fmt::format("{} for '{}' has no records", what, name));
        const std::uint64_t bytes = static_cast<std::uint64_t>(count) * record_size;
        if (bytes > info.size() - pos)
            return fail(
                file, ".BTF.ext", base + start + pos,
                fmt::format("{} for '{}': {} records of {} bytes overrun the section", what, name, count, record_size));
        for (std::uint32_t i = 0; i < count; ++i) {
            auto r = emit(std::string(name), info.subspan(pos, record_size), base + start + pos);
            if (!r) return r;
            pos += record_size;
        }
    }
    return {};
}

}  // namespace

Result<BtfExt> parse_btf_ext(std::span<const std::uint8_t> data, const struct btf* btf, const std::string& file) {
    if (data.size() < kMinHeaderLen) return fail(file, ".BTF.ext", 0, "too short for a .BTF.ext header");
    if (load_u16(data, 0) != kBtfMagic) return fail(file, ".BTF.ext", 0, "bad magic (not 0xeb9f little-endian)");
    if (data[2] != 1) return fail(file, ".BTF.ext", 2, fmt::format("unsupported version {}", data[2]));
    const std::uint32_t hdr_len = load_u32(data, 4);
    if (hdr_len < kMinHeaderLen || hdr_len > data.size() || hdr_len % 4 != 0)
        return fail(file, ".BTF.ext", 4, fmt::format("header length {} is invalid", hdr_len));
    const auto body = data.subspan(hdr_len);
    const std::uint32_t func_off = load_u32(data, 8);
    const std::uint32_t func_len = load_u32(data, 12);
    const std::uint32_t line_off = load_u32(data, 16);
    const std::uint32_t line_len = load_u32(data, 20);
    std::uint32_t core_off = 0;
    std::uint32_t core_len = 0;
    if (hdr_len >= 32) {
        core_off = load_u32(data, 24);
        core_len = load_u32(data, 28);
    }

    BtfExt out;
    // Offsets inside `body` are reported relative to the section start.
    auto check_off = [&](std::uint32_t off, std::uint64_t pos, const char* what) -> Result<void> {
        if (off % 8 != 0)
            return fail(file, ".BTF.ext", pos,
                        fmt::format("{} instruction offset {} is not a multiple of 8", what, off));
        return {};
    };
    auto r = parse_info(body, hdr_len, func_off, func_len, 8, "func info", btf, file,
                        [&](std::string name, std::span<const std::uint8_t> rec, std::uint64_t pos) -> Result<void> {
                            RawFuncInfo fi{load_u32(rec, 0), load_u32(rec, 4)};
                            if (auto c = check_off(fi.insn_off, pos, "func info"); !c) return c;
                            out[name].func_info.push_back(fi);
                            return {};
                        });
    if (!r) return std::unexpected(r.error());
    r = parse_info(body, hdr_len, line_off, line_len, 16, "line info", btf, file,
                   [&](std::string name, std::span<const std::uint8_t> rec, std::uint64_t pos) -> Result<void> {
                       RawLineInfo li{load_u32(rec, 0), load_u32(rec, 4), load_u32(rec, 8), load_u32(rec, 12)};
                       if (auto c = check_off(li.insn_off, pos, "line info"); !c) return c;
                       out[name].line_info.push_back(li);
                       return {};
                   });
    if (!r) return std::unexpected(r.error());
    r = parse_info(body, hdr_len, core_off, core_len, 16, "CO-RE relocation", btf, file,
                   [&](std::string name, std::span<const std::uint8_t> rec, std::uint64_t pos) -> Result<void> {
                       RawCoreRelo cr{load_u32(rec, 0), load_u32(rec, 4), load_u32(rec, 8), load_u32(rec, 12)};
                       if (auto c = check_off(cr.insn_off, pos, "CO-RE relocation"); !c) return c;
                       out[name].core_relos.push_back(cr);
                       return {};
                   });
    if (!r) return std::unexpected(r.error());
    return out;
}

}  // namespace xbpf::object::detail
