// ObjectSpec: what a BPF ELF object (clang -target bpf, libbpf conventions) declares, as pure data.
// Parsing (parse_object, in object_spec.cpp) reads bytes and has no other side effect; loading into a runtime or the
// kernel is a separate step that consumes an ObjectSpec. See README.md in this folder.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"
#include "maps/map.hpp"

struct btf;  // libbpf's parsed BTF (bpf/btf.h); kept opaque here

namespace xbpf::object {

/// Program types, numbered as enum bpf_prog_type in include/uapi/linux/bpf.h.
enum class ProgramType : std::uint32_t {
    Unspec = 0,
    SocketFilter = 1,
    Kprobe = 2,
    SchedCls = 3,
    SchedAct = 4,
    Tracepoint = 5,
    Xdp = 6,
    PerfEvent = 7,
    CgroupSkb = 8,
    CgroupSock = 9,
    LwtIn = 10,
    LwtOut = 11,
    LwtXmit = 12,
    SockOps = 13,
    SkSkb = 14,
    CgroupDevice = 15,
    SkMsg = 16,
    RawTracepoint = 17,
    CgroupSockAddr = 18,
    LwtSeg6local = 19,
    LircMode2 = 20,
    SkReuseport = 21,
    FlowDissector = 22,
    CgroupSysctl = 23,
    RawTracepointWritable = 24,
    CgroupSockopt = 25,
    Tracing = 26,
    StructOps = 27,
    Ext = 28,
    Lsm = 29,
    SkLookup = 30,
    Syscall = 31,
    Netfilter = 32,
};

/// Kernel name of a program type ("xdp", "socket_filter", ...), as bpftool prints it; "unknown" otherwise.
std::string_view program_type_name(ProgramType type);
/// The program type called `name` (as program_type_name prints it), or nullopt.
std::optional<ProgramType> program_type_from_name(std::string_view name);

/// Expected attach types, numbered as enum bpf_attach_type in include/uapi/linux/bpf.h. `None` (0 in the
/// kernel, BPF_CGROUP_INET_INGRESS) is what libbpf passes for program types that have no attach type.
enum class AttachType : std::uint32_t {
    None = 0,
    CgroupInetIngress = 0,
    CgroupInetEgress = 1,
    CgroupInetSockCreate = 2,
    CgroupSockOps = 3,
    SkSkbStreamParser = 4,
    SkSkbStreamVerdict = 5,
    CgroupDevice = 6,
    SkMsgVerdict = 7,
    CgroupInet4Bind = 8,
    CgroupInet6Bind = 9,
    CgroupInet4Connect = 10,
    CgroupInet6Connect = 11,
    CgroupInet4PostBind = 12,
    CgroupInet6PostBind = 13,
    CgroupUdp4Sendmsg = 14,
    CgroupUdp6Sendmsg = 15,
    LircMode2 = 16,
    FlowDissector = 17,
    CgroupSysctl = 18,
    CgroupUdp4Recvmsg = 19,
    CgroupUdp6Recvmsg = 20,
    CgroupGetsockopt = 21,
    CgroupSetsockopt = 22,
    TraceRawTp = 23,
    TraceFentry = 24,
    TraceFexit = 25,
    ModifyReturn = 26,
    LsmMac = 27,
    TraceIter = 28,
    CgroupInet4Getpeername = 29,
    CgroupInet6Getpeername = 30,
    CgroupInet4Getsockname = 31,
    CgroupInet6Getsockname = 32,
    XdpDevmap = 33,
    CgroupInetSockRelease = 34,
    XdpCpumap = 35,
    SkLookup = 36,
    Xdp = 37,
    SkSkbVerdict = 38,
    SkReuseportSelect = 39,
    SkReuseportSelectOrMigrate = 40,
    PerfEvent = 41,
    TraceKprobeMulti = 42,
    LsmCgroup = 43,
};

/// Program load flags implied by a section name (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS), numbered as the kernel's.
inline constexpr std::uint32_t kProgFlagSleepable = 1u << 4;
inline constexpr std::uint32_t kProgFlagXdpHasFrags = 1u << 5;

/// What libbpf's section naming convention says about a program (see section_types.cpp for the table).
struct SectionInfo {
    ProgramType type = ProgramType::Unspec;
    AttachType expected_attach_type = AttachType::None;
    std::string attach_target;     ///< text after "<prefix>/": "syscalls/sys_enter_openat", "libc.so.6:malloc", ...
    std::uint32_t prog_flags = 0;  ///< kProgFlagSleepable, kProgFlagXdpHasFrags
    bool known = false;            ///< false when no table entry matched (type stays Unspec)
};

/// Classify a program section name the way libbpf does ("xdp", "kprobe/do_exit", "uprobe.s/...", ...).
SectionInfo classify_section(std::string_view section);

/// One BTF line info record (.BTF.ext), moved to the program's instruction numbering.
struct LineInfo {
    std::size_t insn = 0;             ///< instruction (slot) index in ProgramSpec::insns
    std::uint32_t file_name_off = 0;  ///< offsets into the object's BTF string section (as the kernel wants them)
    std::uint32_t line_off = 0;
    std::uint32_t line = 0;    ///< 1-based source line
    std::uint32_t column = 0;  ///< 1-based column, 0 if unknown
    std::string file;          ///< source file name
    std::string source;        ///< the source line's text, as clang recorded it

    friend bool operator==(const LineInfo&, const LineInfo&) = default;
};

/// One BTF func info record (.BTF.ext): a function starts at `insn` with BTF FUNC type `type_id`.
struct FuncInfo {
    std::size_t insn = 0;
    std::uint32_t type_id = 0;
    std::string name;  ///< the BTF FUNC's name

    friend bool operator==(const FuncInfo&, const FuncInfo&) = default;
};

/// CO-RE relocation kinds, numbered as enum bpf_core_relo_kind in include/uapi/linux/bpf.h.
enum class CoreRelocKind : std::uint32_t {
    FieldByteOffset = 0,
    FieldByteSize = 1,
    FieldExists = 2,
    FieldSigned = 3,
    FieldLshiftU64 = 4,
    FieldRshiftU64 = 5,
    TypeIdLocal = 6,
    TypeIdTarget = 7,
    TypeExists = 8,
    TypeSize = 9,
    EnumvalExists = 10,
    EnumvalValue = 11,
    TypeMatches = 12,
};

/// Name of a CO-RE relocation kind as libbpf prints it ("byte_off", "field_exists", ...).
std::string_view core_reloc_kind_name(CoreRelocKind kind);

/// One CO-RE relocation record (.BTF.ext), moved to the program's instruction numbering.
struct CoreRelocation {
    std::size_t insn = 0;  ///< instruction (slot) index in ProgramSpec::insns
    CoreRelocKind kind = CoreRelocKind::FieldByteOffset;
    std::uint32_t type_id = 0;  ///< root type in the object's (local) BTF
    std::string access;         ///< access string: "0:1:2" (field indexes) or an enumerator index

    friend bool operator==(const CoreRelocation&, const CoreRelocation&) = default;
};

/// What an instruction of a ProgramSpec was relocated against, kept for tools (disassembly, `prog show`).
enum class RelocationKind : std::uint8_t {
    Map,          ///< lddw src=kPseudoMapIdx, imm = map index
    MapValue,     ///< lddw src=kPseudoMapIdxValue, imm = map index (global data or .kconfig), next_imm = offset
    Call,         ///< bpf-to-bpf call; imm points at the appended sub-program
    FuncAddress,  ///< lddw src=kPseudoFunc (callback address, e.g. for bpf_loop)
    Ksym,         ///< lddw of an extern __ksym variable: left as is for the loader (src 0, imm 0)
    KfuncCall,    ///< call of an extern __ksym function: src set to 2 (kfunc), imm left for the loader
};

/// One applied relocation.
struct Relocation {
    std::size_t insn = 0;  ///< instruction (slot) index in ProgramSpec::insns
    RelocationKind kind = RelocationKind::Map;
    std::string symbol;           ///< ELF symbol (map, variable, function or extern) or section name
    std::uint32_t map_index = 0;  ///< Map, MapValue: index into ObjectSpec::maps
    std::uint64_t offset = 0;     ///< MapValue: byte offset in the value
    std::size_t target = 0;       ///< Call, FuncAddress: instruction index of the target function

    friend bool operator==(const Relocation&, const Relocation&) = default;
};

/// A function placed in a ProgramSpec: the entry function at 0, then each sub-program appended after it.
struct FunctionRange {
    std::string name;       ///< ELF symbol name
    std::string section;    ///< ELF section the code came from
    std::size_t start = 0;  ///< first instruction (slot) index in ProgramSpec::insns
    std::size_t count = 0;  ///< number of slots

    friend bool operator==(const FunctionRange&, const FunctionRange&) = default;
};

/// One entry-point program: self-contained instructions plus what the object said about them.
struct ProgramSpec {
    std::string name;     ///< the global FUNC symbol
    std::string section;  ///< ELF section name, e.g. "tracepoint/syscalls/sys_enter_openat"
    ProgramType type = ProgramType::Unspec;
    AttachType expected_attach_type = AttachType::None;
    std::string attach_target;         ///< see SectionInfo
    std::uint32_t prog_flags = 0;      ///< see SectionInfo
    bool known_section = false;        ///< the section name matched libbpf's table
    std::uint64_t section_offset = 0;  ///< byte offset of the entry function in its section
    /// The program: the entry function, then every sub-program it reaches (transitively) appended in the order
    /// first reached. Calls and function addresses point at the appended copies; map references are
    /// `lddw src=kPseudoMapIdx imm=<map index>`, global data `lddw src=kPseudoMapIdxValue imm=<map index>
    /// next_imm=<offset>`.
    std::vector<isa::RawInsn> insns;
    std::vector<FunctionRange> functions;          ///< functions[0] is the entry function
    std::vector<Relocation> relocations;           ///< sorted by insn
    std::vector<LineInfo> line_info;               ///< sorted by insn
    std::vector<FuncInfo> func_info;               ///< sorted by insn; one per function when the object has BTF
    std::vector<CoreRelocation> core_relocations;  ///< sorted by insn

    /// The last line info at or before `insn`, or nullptr.
    [[nodiscard]] const LineInfo* line_at(std::size_t insn) const;
};

/// Where a map came from.
enum class MapOrigin : std::uint8_t {
    BtfDefined,  ///< a variable in the ".maps" section, described by BTF
    Legacy,      ///< a struct bpf_map_def in the "maps" section
    GlobalData,  ///< .data, .rodata, .bss, .rodata.str1.1, .data.*, .rodata.*: a single-entry array
    Kconfig,     ///< the ".kconfig" externs (values filled in by the loader)
};

/// A statically initialised slot of a prog_array or map-in-map (`.values = { [i] = &target }`).
struct MapSlot {
    std::uint32_t index = 0;  ///< key
    std::string target;       ///< program or map name
    bool is_program = false;  ///< prog_array slot (program name) vs map-in-map slot (map name)

    friend bool operator==(const MapSlot&, const MapSlot&) = default;
};

/// Pinning modes of BTF-defined maps (enum libbpf_pin_type).
enum class Pinning : std::uint32_t { None = 0, ByName = 1 };

/// What an object file says about a map beyond its MapSpec.
struct MapInfo {
    MapOrigin origin = MapOrigin::BtfDefined;
    std::string section;               ///< ELF section (".maps", "maps", ".rodata", ...)
    std::string symbol;                ///< ELF symbol (BTF/legacy) or section name (global data, ".kconfig")
    std::uint64_t section_offset = 0;  ///< offset of the definition in `section`
    Pinning pinning = Pinning::None;
    std::uint32_t numa_node = 0;
    std::uint32_t btf_key_type_id = 0;    ///< 0 if unknown
    std::uint32_t btf_value_type_id = 0;  ///< 0 if unknown; a DATASEC for global data
    std::vector<MapSlot> initial_slots;   ///< sorted by index

    friend bool operator==(const MapInfo&, const MapInfo&) = default;
};

/// An extern variable or function the loader must resolve (`extern ... __kconfig` / `__ksym`).
struct ExternSpec {
    enum class Kind : std::uint8_t { Kconfig, Ksym };
    std::string name;
    Kind kind = Kind::Ksym;
    bool weak = false;
    bool is_function = false;       ///< a kfunc (Ksym only)
    std::uint32_t btf_type_id = 0;  ///< the VAR's or FUNC's type in the object's BTF, 0 if none
    std::uint32_t offset = 0;       ///< Kconfig: byte offset in the .kconfig map's value
    std::uint32_t size = 0;         ///< Kconfig: size in bytes

    friend bool operator==(const ExternSpec&, const ExternSpec&) = default;
};

/// Everything a BPF object declares. Pure data: copying it copies programs and maps; the BTF is shared, immutable.
struct ObjectSpec {
    std::string name;                  ///< object name as libbpf derives it (file name up to the first '.')
    std::string license;               ///< the "license" section, "" if none
    std::uint32_t kernel_version = 0;  ///< the "version" section, 0 if none
    std::vector<maps::MapSpec> maps;   ///< BTF-defined, then legacy, then global data, then .kconfig
    std::vector<std::vector<std::uint8_t>> map_initial_data;  ///< parallel to maps: value of key 0 (global data)
    std::vector<MapInfo> map_info;                            ///< parallel to maps
    std::vector<ProgramSpec> programs;                        ///< in section order, then by offset
    std::vector<ExternSpec> externs;
    /// The object's BTF (libbpf), with DATASEC sizes and variable offsets filled in from the ELF as libbpf does
    /// before loading; null when the object has no .BTF section.
    std::shared_ptr<const struct btf> btf;

    /// Index of the map called `name`, if any.
    [[nodiscard]] std::optional<std::size_t> find_map(std::string_view name) const;
    /// The program called `name`, or nullptr.
    [[nodiscard]] const ProgramSpec* find_program(std::string_view name) const;
};

/// The value a loader writes at key 0 of map `index` before programs load, as libbpf does: global data as
/// compiled (padded to value_size), the `.kconfig` map with its externs filled in (LINUX_KERNEL_VERSION from
/// uname; every other extern, CONFIG_* included, reads as zero: there is no kernel configuration to consult);
/// empty for maps without initial data.
std::vector<std::uint8_t> map_initial_value(const ObjectSpec& spec, std::size_t index);

/// Parse an ELF object held in memory. `name` is the file name (used for the object name, global data map names
/// and error locations). Malformed input gives ErrorCode::kParse with `where.file` = `name`, `where.byte_offset` =
/// the offset in the section the message names; to_string(): "prog.o: offset 24: section '.relxdp': ...".
/// Valid but unsupported input (big-endian, RELA) gives kUnsupported.
Result<ObjectSpec> parse_object(std::span<const std::uint8_t> elf_bytes, std::string name);

/// The kernel's license_is_gpl_compatible(): "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
/// "Dual MIT/GPL", "Dual MPL/GPL".
bool license_is_gpl_compatible(std::string_view license);

/// Read and parse an object file.
Result<ObjectSpec> parse_object_file(const std::string& path);

/// libbpf's name for a global data map: up to 8 characters of the object name, then the section name
/// ("opensnoo.rodata"); sections with a second '.' keep their own name (".rodata.str1.1"); at most 15 characters.
std::string internal_map_name(std::string_view object_name, std::string_view section_name);

}  // namespace xbpf::object
