// parse_object on the clang-built programs of tests/programs: programs, sections, sub-program linking,
// relocations, BTF line and func info, CO-RE records.
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "isa/instruction.hpp"
#include "object/object_spec.hpp"
#include "object_test_support.hpp"

namespace xbpf::object {
namespace {

using testing::count_lddw;

const ProgramSpec& program(const ObjectSpec& spec, std::string_view name) {
    const ProgramSpec* p = spec.find_program(name);
    if (p == nullptr) {
        ADD_FAILURE() << "no program " << name;
        static const ProgramSpec kNone;
        return kNone;
    }
    return *p;
}

const FunctionRange* function(const ProgramSpec& p, std::string_view name) {
    for (const FunctionRange& f : p.functions)
        if (f.name == name) return &f;
    return nullptr;
}

// Every program must decode (isa::decode checks that jumps and local calls stay inside and land on instructions),
// and its BTF records must be in range and sorted, with one func info per placed function.
void expect_well_formed(const ProgramSpec& p) {
    auto decoded = isa::decode(p.insns);
    EXPECT_TRUE(decoded.has_value()) << p.name << ": " << decoded.error().to_string();
    ASSERT_FALSE(p.functions.empty());
    EXPECT_EQ(p.functions[0].name, p.name);
    EXPECT_EQ(p.functions[0].start, 0u);
    std::size_t covered = 0;
    for (const FunctionRange& f : p.functions) {
        EXPECT_EQ(f.start, covered) << p.name << ": functions are laid out back to back";
        covered += f.count;
    }
    EXPECT_EQ(covered, p.insns.size());
    ASSERT_EQ(p.func_info.size(), p.functions.size()) << p.name;
    for (std::size_t i = 0; i < p.functions.size(); ++i) {
        EXPECT_EQ(p.func_info[i].insn, p.functions[i].start);
        EXPECT_EQ(p.func_info[i].name, p.functions[i].name);
    }
    EXPECT_FALSE(p.line_info.empty()) << p.name;
    for (std::size_t i = 0; i < p.line_info.size(); ++i) {
        EXPECT_LT(p.line_info[i].insn, p.insns.size());
        if (i > 0) {
            EXPECT_LE(p.line_info[i - 1].insn, p.line_info[i].insn);
        }
    }
    for (const Relocation& r : p.relocations) EXPECT_LT(r.insn, p.insns.size());
}

TEST(ObjectParse, XdpPacketParser) {
    XBPF_LOAD_PROGRAM(spec, "xdp_parser");
    EXPECT_EQ(spec.name, "xdp_parser");
    EXPECT_EQ(spec.license, "Dual BSD/GPL");
    EXPECT_EQ(spec.kernel_version, 0u);
    ASSERT_NE(spec.btf, nullptr);
    ASSERT_EQ(spec.programs.size(), 1u);
    const ProgramSpec& p = spec.programs[0];
    EXPECT_EQ(p.name, "xdp_parse");
    EXPECT_EQ(p.section, "xdp");
    EXPECT_EQ(p.type, ProgramType::Xdp);
    EXPECT_EQ(p.expected_attach_type, AttachType::Xdp);
    EXPECT_TRUE(p.known_section);
    expect_well_formed(p);

    ASSERT_EQ(spec.maps.size(), 1u);
    EXPECT_EQ(spec.maps[0].name, "proto_count");
    EXPECT_EQ(spec.maps[0].type, maps::MapType::Hash);
    EXPECT_EQ(spec.maps[0].key_size, 4u);
    EXPECT_EQ(spec.maps[0].value_size, 8u);
    EXPECT_EQ(spec.maps[0].max_entries, 256u);

    // Both map references (lookup and update) became lddw src=kPseudoMapIdx imm=0.
    ASSERT_EQ(p.relocations.size(), 2u);
    for (const Relocation& r : p.relocations) {
        EXPECT_EQ(r.kind, RelocationKind::Map);
        EXPECT_EQ(r.symbol, "proto_count");
        EXPECT_EQ(r.map_index, 0u);
        const isa::RawInsn& insn = p.insns[r.insn];
        EXPECT_EQ(insn.opcode, 0x18);
        EXPECT_EQ(insn.src, isa::kPseudoMapIdx);
        EXPECT_EQ(insn.imm, 0);
        EXPECT_EQ(p.insns[r.insn + 1].imm, 0);
    }
    EXPECT_EQ(count_lddw(p.insns, isa::kPseudoMapIdx), 2u);
    EXPECT_EQ(count_lddw(p.insns, isa::kPseudoImm64), 0u);

    // Line info: the source file and text, so diagnostics can quote the program.
    const LineInfo* first = p.line_at(0);
    ASSERT_NE(first, nullptr);
    EXPECT_TRUE(first->file.ends_with("xdp_parser.bpf.c")) << first->file;
    EXPECT_GT(first->line, 0u);
    const LineInfo* lookup = p.line_at(p.relocations[0].insn + 2);
    ASSERT_NE(lookup, nullptr);
    EXPECT_NE(lookup->source.find("proto_count"), std::string::npos) << lookup->source;
    ASSERT_EQ(p.func_info.size(), 1u);
    EXPECT_EQ(p.func_info[0].name, "xdp_parse");
    EXPECT_NE(btf__type_by_id(spec.btf.get(), p.func_info[0].type_id), nullptr);
}

TEST(ObjectParse, SeveralProgramsAndSectionKinds) {
    XBPF_LOAD_PROGRAM(spec, "multi_prog");
    EXPECT_EQ(spec.kernel_version, 0x060100u);
    EXPECT_EQ(spec.license, "GPL");
    struct Expected {
        const char* name;
        const char* section;
        ProgramType type;
        AttachType attach;
        const char* target;
    };
    const Expected expected[] = {
        {"xdp_first", "xdp", ProgramType::Xdp, AttachType::Xdp, ""},
        {"xdp_second", "xdp", ProgramType::Xdp, AttachType::Xdp, ""},
        {"sock_filter", "socket", ProgramType::SocketFilter, AttachType::None, ""},
        {"tc_ingress", "tc", ProgramType::SchedCls, AttachType::None, ""},
        {"tc_legacy", "classifier/legacy", ProgramType::SchedCls, AttachType::None, "legacy"},
        {"tp_openat", "tracepoint/syscalls/sys_enter_openat", ProgramType::Tracepoint, AttachType::None,
         "syscalls/sys_enter_openat"},
        {"tp_switch", "tp/sched/sched_switch", ProgramType::Tracepoint, AttachType::None, "sched/sched_switch"},
        {"raw_wakeup", "raw_tp/sched_wakeup", ProgramType::RawTracepoint, AttachType::None, "sched_wakeup"},
        {"kp_unlink", "kprobe/do_unlinkat", ProgramType::Kprobe, AttachType::None, "do_unlinkat"},
        {"krp_unlink", "kretprobe/do_unlinkat", ProgramType::Kprobe, AttachType::None, "do_unlinkat"},
        {"up_malloc", "uprobe/libc.so.6:malloc", ProgramType::Kprobe, AttachType::None, "libc.so.6:malloc"},
        {"urp_malloc", "uretprobe/libc.so.6:malloc", ProgramType::Kprobe, AttachType::None, "libc.so.6:malloc"},
        {"usdt_setjmp", "usdt/libc.so.6:libc:setjmp", ProgramType::Kprobe, AttachType::None, "libc.so.6:libc:setjmp"},
        {"on_sample", "perf_event", ProgramType::PerfEvent, AttachType::None, ""},
        {"fentry_unlink", "fentry/do_unlinkat", ProgramType::Tracing, AttachType::TraceFentry, "do_unlinkat"},
        {"fexit_unlink", "fexit/do_unlinkat", ProgramType::Tracing, AttachType::TraceFexit, "do_unlinkat"},
        {"cg_ingress", "cgroup_skb/ingress", ProgramType::CgroupSkb, AttachType::CgroupInetIngress, ""},
        {"lsm_open", "lsm.s/file_open", ProgramType::Lsm, AttachType::LsmMac, "file_open"},
        {"custom", "my_custom_section", ProgramType::Unspec, AttachType::None, ""},
    };
    ASSERT_EQ(spec.programs.size(), std::size(expected));
    for (const Expected& e : expected) {
        SCOPED_TRACE(e.name);
        const ProgramSpec& p = program(spec, e.name);
        EXPECT_EQ(p.section, e.section);
        EXPECT_EQ(p.type, e.type);
        EXPECT_EQ(p.expected_attach_type, e.attach);
        EXPECT_EQ(p.attach_target, e.target);
        EXPECT_EQ(p.known_section, e.type != ProgramType::Unspec);
        expect_well_formed(p);
    }
    EXPECT_EQ(program(spec, "lsm_open").prog_flags, kProgFlagSleepable);
    // Two programs in one section: each starts at its own symbol's offset.
    EXPECT_EQ(program(spec, "xdp_first").section_offset, 0u);
    EXPECT_EQ(program(spec, "xdp_second").section_offset, program(spec, "xdp_first").insns.size() * 8);
    EXPECT_EQ(program(spec, "xdp_first").relocations.at(0).map_index, spec.find_map("hits").value());
}

TEST(ObjectParse, SubProgramsAreAppendedAndCallsRetargeted) {
    XBPF_LOAD_PROGRAM(spec, "subprogs");
    ASSERT_EQ(spec.programs.size(), 3u);  // entry_one, entry_two, entry_loop; nothing from .text
    for (const ProgramSpec& p : spec.programs) expect_well_formed(p);

    const ProgramSpec& one = program(spec, "entry_one");
    std::vector<std::string> names;
    for (const FunctionRange& f : one.functions) names.push_back(f.name + "@" + f.section);
    EXPECT_EQ(names, (std::vector<std::string>{"entry_one@socket", "square_plus_triple@.text",
                                               "in_section_helper@socket", "triple@.text"}));

    // Every bpf-to-bpf call lands on the start of the function it names.
    for (const ProgramSpec& p : spec.programs) {
        std::size_t calls = 0;
        for (std::size_t pc = 0; pc < p.insns.size(); ++pc) {
            const isa::RawInsn& insn = p.insns[pc];
            if (insn.opcode == 0x18) {
                ++pc;
                continue;
            }
            if (insn.opcode != 0x85 || insn.src != 1) continue;
            ++calls;
            const std::int64_t target = static_cast<std::int64_t>(pc) + insn.imm + 1;
            const auto it = std::find_if(p.relocations.begin(), p.relocations.end(),
                                         [&](const Relocation& r) { return r.insn == pc; });
            ASSERT_NE(it, p.relocations.end()) << p.name << " call at " << pc << " has no relocation record";
            EXPECT_EQ(it->kind, RelocationKind::Call);
            EXPECT_EQ(static_cast<std::int64_t>(it->target), target);
            const FunctionRange* f = function(p, it->symbol);
            ASSERT_NE(f, nullptr) << it->symbol;
            EXPECT_EQ(static_cast<std::int64_t>(f->start), target) << p.name << " -> " << it->symbol;
        }
        EXPECT_GT(calls, 0u) << p.name;
    }

    // The appended copy of triple is the .text code: w0 = w1; w0 *= 3; exit.
    const FunctionRange* triple = function(one, "triple");
    ASSERT_NE(triple, nullptr);
    ASSERT_EQ(triple->count, 3u);
    EXPECT_EQ(one.insns[triple->start + 1].imm, 3);
    EXPECT_EQ(one.insns[triple->start + 2].opcode, 0x95);
    // ... and its line info moved with it.
    const LineInfo* line = one.line_at(triple->start + 1);
    ASSERT_NE(line, nullptr);
    EXPECT_NE(line->source.find("x * 3"), std::string::npos) << line->source;

    // entry_two calls entry_one, a program of the same section, through its global symbol: a full copy.
    const ProgramSpec& two = program(spec, "entry_two");
    EXPECT_NE(function(two, "entry_one"), nullptr);
    EXPECT_NE(function(two, "global_inc"), nullptr);
    EXPECT_EQ(two.functions.size(), 6u);

    // A callback address (bpf_loop) is lddw src=kPseudoFunc, pc-relative like a call.
    const ProgramSpec& loop = program(spec, "entry_loop");
    const FunctionRange* body = function(loop, "loop_body");
    ASSERT_NE(body, nullptr);
    ASSERT_EQ(count_lddw(loop.insns, isa::kPseudoFunc), 1u);
    for (const Relocation& r : loop.relocations) {
        if (r.kind != RelocationKind::FuncAddress) continue;
        EXPECT_EQ(r.symbol, "loop_body");
        EXPECT_EQ(static_cast<std::int64_t>(r.insn) + loop.insns[r.insn].imm + 1,
                  static_cast<std::int64_t>(body->start));
        EXPECT_EQ(loop.insns[r.insn + 1].imm, 0);
    }
}

TEST(ObjectParse, GlobalDataBecomesArrayMaps) {
    XBPF_LOAD_PROGRAM(spec, "globals");
    struct Expected {
        const char* name;
        const char* section;
        std::uint32_t size;
        bool read_only;
    };
    const Expected expected[] = {
        {"globals.data", ".data", 44, false},           {"globals.rodata", ".rodata", 30, true},
        {".data.custom", ".data.custom", 4, false},     {"globals.bss", ".bss", 72, false},
        {".rodata.str1.1", ".rodata.str1.1", 17, true},
    };
    ASSERT_EQ(spec.maps.size(), std::size(expected));
    for (std::size_t i = 0; i < spec.maps.size(); ++i) {
        SCOPED_TRACE(expected[i].name);
        const maps::MapSpec& m = spec.maps[i];
        EXPECT_EQ(m.name, expected[i].name);
        EXPECT_EQ(m.type, maps::MapType::Array);
        EXPECT_EQ(m.key_size, 4u);
        EXPECT_EQ(m.value_size, expected[i].size);
        EXPECT_EQ(m.max_entries, 1u);
        EXPECT_EQ((m.flags & maps::kFRdonlyProg) != 0, expected[i].read_only);
        EXPECT_EQ(spec.map_info[i].origin, MapOrigin::GlobalData);
        EXPECT_EQ(spec.map_info[i].section, expected[i].section);
        EXPECT_EQ(spec.map_initial_data[i].size(), expected[i].size);
    }
    // Initial contents: .data holds counter = 42 and big_table = {1, 2, 3, 4} at 8; .rodata threshold = 7 and
    // "hello"; .bss is zero; the string literal is in .rodata.str1.1.
    const auto& data = spec.map_initial_data[0];
    EXPECT_EQ(data[0], 42);
    EXPECT_EQ(data[8], 1);
    EXPECT_EQ(data[16], 2);
    const auto& rodata = spec.map_initial_data[1];
    EXPECT_EQ(rodata[0], 7);
    EXPECT_EQ(std::string(rodata.begin() + 4, rodata.begin() + 9), "hello");
    const auto& bss = spec.map_initial_data[3];
    EXPECT_TRUE(std::all_of(bss.begin(), bss.end(), [](std::uint8_t b) { return b == 0; }));
    const auto& str = spec.map_initial_data[4];
    EXPECT_EQ(std::string(str.begin(), str.end() - 1), "a string literal");

    const ProgramSpec& p = program(spec, "use_globals");
    expect_well_formed(p);
    auto ref = [&](const std::string& symbol) -> const Relocation* {
        for (const Relocation& r : p.relocations)
            if (r.symbol == symbol) return &r;
        return nullptr;
    };
    struct Ref {
        const char* symbol;
        std::uint32_t map;
        std::int32_t offset;
    };
    // Globals resolve through their symbol (value = offset); statics and literals through the section symbol with
    // the offset in the lddw's imm (hidden is at 40 in .data; the printk format at 12 in .rodata).
    for (const Ref& e : {Ref{"counter", 0, 0}, Ref{"big_table", 0, 8}, Ref{".data", 0, 40}, Ref{"threshold", 1, 0},
                         Ref{"greeting", 1, 4}, Ref{".rodata", 1, 12}, Ref{"custom_value", 2, 0}, Ref{"total", 3, 0},
                         Ref{"scratch", 3, 8}, Ref{".rodata.str1.1", 4, 0}}) {
        SCOPED_TRACE(e.symbol);
        const Relocation* r = ref(e.symbol);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->kind, RelocationKind::MapValue);
        EXPECT_EQ(r->map_index, e.map);
        EXPECT_EQ(r->offset, static_cast<std::uint64_t>(e.offset));
        EXPECT_EQ(p.insns[r->insn].src, isa::kPseudoMapIdxValue);
        EXPECT_EQ(p.insns[r->insn].imm, static_cast<std::int32_t>(e.map));
        EXPECT_EQ(p.insns[r->insn + 1].imm, e.offset);
    }
    EXPECT_EQ(count_lddw(p.insns, isa::kPseudoMapIdxValue), p.relocations.size());

    // The BTF DATASECs got their sizes from the ELF, as the kernel requires.
    const std::int32_t data_id = btf__find_by_name_kind(spec.btf.get(), ".data", BTF_KIND_DATASEC);
    ASSERT_GT(data_id, 0);
    EXPECT_EQ(btf__type_by_id(spec.btf.get(), static_cast<std::uint32_t>(data_id))->size, 44u);
    EXPECT_EQ(spec.map_info[0].btf_value_type_id, static_cast<std::uint32_t>(data_id));
}

TEST(ObjectParse, AtomicsOnMapValuesAndGlobals) {
    XBPF_LOAD_PROGRAM(spec, "atomics");
    const ProgramSpec& p = program(spec, "atomics");
    expect_well_formed(p);
    std::size_t atomics = 0;
    for (const isa::RawInsn& insn : p.insns)
        if (insn.opcode == 0xdb || insn.opcode == 0xc3) ++atomics;
    EXPECT_GE(atomics, 7u);
    EXPECT_EQ(spec.maps.at(0).name, "state");
    EXPECT_EQ(spec.maps.at(0).value_size, 32u);
    EXPECT_EQ(spec.maps.at(1).name, "atomics.bss");
    EXPECT_EQ(count_lddw(p.insns, isa::kPseudoMapIdx), 1u);
    EXPECT_EQ(count_lddw(p.insns, isa::kPseudoMapIdxValue), 1u);
}

TEST(ObjectParse, TailCallProgArrayWithStaticSlots) {
    XBPF_LOAD_PROGRAM(spec, "tailcall");
    ASSERT_EQ(spec.programs.size(), 3u);
    const auto index = spec.find_map("jump_table");
    ASSERT_TRUE(index.has_value());
    const maps::MapSpec& m = spec.maps[*index];
    EXPECT_EQ(m.type, maps::MapType::ProgArray);
    EXPECT_EQ(m.key_size, 4u);
    EXPECT_EQ(m.value_size, 4u);
    EXPECT_EQ(m.max_entries, 4u);
    EXPECT_EQ(spec.map_info[*index].initial_slots,
              (std::vector<MapSlot>{{0, "stage_one", true}, {2, "stage_two", true}}));
    const ProgramSpec& d = program(spec, "dispatcher");
    expect_well_formed(d);
    bool tail_call = false;
    for (const isa::RawInsn& insn : d.insns) tail_call |= insn.opcode == 0x85 && insn.src == 0 && insn.imm == 12;
    EXPECT_TRUE(tail_call);
    EXPECT_EQ(d.relocations.at(0).map_index, *index);
}

TEST(ObjectParse, RingBuffer) {
    XBPF_LOAD_PROGRAM(spec, "ringbuf");
    const auto rb = spec.find_map("rb");
    ASSERT_TRUE(rb.has_value());
    EXPECT_EQ(spec.maps[*rb].type, maps::MapType::Ringbuf);
    EXPECT_EQ(spec.maps[*rb].max_entries, 256u * 1024u);
    EXPECT_EQ(spec.maps[*rb].key_size, 0u);
    EXPECT_EQ(spec.maps[*rb].value_size, 0u);
    EXPECT_TRUE(spec.find_map("ringbuf.rodata").has_value());
    const ProgramSpec& p = program(spec, "on_openat");
    EXPECT_EQ(p.type, ProgramType::Tracepoint);
    EXPECT_EQ(p.attach_target, "syscalls/sys_enter_openat");
    expect_well_formed(p);
}

TEST(ObjectParse, CoreRelocationRecords) {
    XBPF_LOAD_PROGRAM(spec, "core");
    const ProgramSpec& p = program(spec, "core_demo");
    expect_well_formed(p);
    ASSERT_GE(p.core_relocations.size(), 8u);
    std::set<CoreRelocKind> kinds;
    for (const CoreRelocation& c : p.core_relocations) {
        kinds.insert(c.kind);
        EXPECT_LT(c.insn, p.insns.size());
        const btf_type* t = btf__type_by_id(spec.btf.get(), c.type_id);
        ASSERT_NE(t, nullptr);
        const std::string type_name = btf__name_by_offset(spec.btf.get(), t->name_off);
        EXPECT_TRUE(type_name.starts_with("task_struct___") || type_name.starts_with("pid_type___") ||
                    type_name.starts_with("flags___"))
            << type_name;
    }
    for (CoreRelocKind k : {CoreRelocKind::FieldByteOffset, CoreRelocKind::FieldExists, CoreRelocKind::FieldByteSize,
                            CoreRelocKind::TypeExists, CoreRelocKind::TypeSize, CoreRelocKind::EnumvalValue,
                            CoreRelocKind::FieldSigned, CoreRelocKind::FieldLshiftU64, CoreRelocKind::FieldRshiftU64})
        EXPECT_TRUE(kinds.contains(k)) << core_reloc_kind_name(k);
    // BPF_CORE_READ(task, real_parent, tgid): task->real_parent is field 2 of task_struct___local.
    EXPECT_TRUE(std::any_of(p.core_relocations.begin(), p.core_relocations.end(), [](const CoreRelocation& c) {
        return c.kind == CoreRelocKind::FieldByteOffset && c.access == "0:2";
    }));
}

TEST(ObjectParse, ExternsKconfigAndKsyms) {
    XBPF_LOAD_PROGRAM(spec, "externs");
    // libbpf's .kconfig layout: larger alignment first, then smaller size, then name.
    ASSERT_EQ(spec.externs.size(), 6u);
    auto ext = [&](std::string_view name) -> const ExternSpec& {
        for (const ExternSpec& e : spec.externs)
            if (e.name == name) return e;
        ADD_FAILURE() << "no extern " << name;
        return spec.externs[0];
    };
    EXPECT_EQ(ext("CONFIG_HZ").kind, ExternSpec::Kind::Kconfig);
    EXPECT_EQ(ext("CONFIG_HZ").offset, 0u);
    EXPECT_EQ(ext("CONFIG_HZ").size, 8u);
    EXPECT_TRUE(ext("CONFIG_HZ").weak);
    EXPECT_EQ(ext("LINUX_KERNEL_VERSION").offset, 8u);
    EXPECT_FALSE(ext("LINUX_KERNEL_VERSION").weak);
    EXPECT_EQ(ext("CONFIG_BPF_JIT").offset, 12u);
    EXPECT_EQ(ext("CONFIG_BPF_JIT").size, 1u);
    EXPECT_EQ(ext("bpf_prog_active").kind, ExternSpec::Kind::Ksym);
    EXPECT_FALSE(ext("bpf_prog_active").is_function);
    EXPECT_TRUE(ext("bpf_task_acquire").is_function);
    EXPECT_NE(ext("bpf_task_acquire").btf_type_id, 0u);

    ASSERT_EQ(spec.maps.size(), 1u);
    EXPECT_EQ(spec.maps[0].name, "externs.kconfig");
    EXPECT_EQ(spec.maps[0].value_size, 13u);
    EXPECT_EQ(spec.map_info[0].origin, MapOrigin::Kconfig);
    EXPECT_NE(spec.maps[0].flags & maps::kFRdonlyProg, 0u);

    const ProgramSpec& p = program(spec, "use_externs");
    EXPECT_EQ(p.type, ProgramType::Tracing);
    EXPECT_EQ(p.expected_attach_type, AttachType::TraceRawTp);
    EXPECT_EQ(p.attach_target, "task_newtask");
    std::map<std::string, const Relocation*> by_symbol;
    for (const Relocation& r : p.relocations) by_symbol[r.symbol] = &r;
    const Relocation* hz = by_symbol.at("CONFIG_HZ");
    EXPECT_EQ(hz->kind, RelocationKind::MapValue);
    EXPECT_EQ(p.insns[hz->insn].src, isa::kPseudoMapIdxValue);
    EXPECT_EQ(p.insns[by_symbol.at("LINUX_KERNEL_VERSION")->insn + 1].imm, 8);
    EXPECT_EQ(by_symbol.at("bpf_prog_active")->kind, RelocationKind::Ksym);
    EXPECT_EQ(p.insns[by_symbol.at("bpf_prog_active")->insn].src, 0);  // left for the loader
    const Relocation* acquire = by_symbol.at("bpf_task_acquire");
    EXPECT_EQ(acquire->kind, RelocationKind::KfuncCall);
    EXPECT_EQ(p.insns[acquire->insn].opcode, 0x85);
    EXPECT_EQ(p.insns[acquire->insn].src, 2);  // BPF_PSEUDO_KFUNC_CALL
    auto decoded = isa::decode(p.insns);
    EXPECT_TRUE(decoded.has_value()) << decoded.error().to_string();
}

TEST(ObjectParse, FileErrors) {
    auto missing = parse_object_file("/nonexistent/object.bpf.o");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::kIo);
    EXPECT_EQ(missing.error().where.file, "/nonexistent/object.bpf.o");

    auto ok = parse_object_file(testing::program_path("xdp_parser"));
    if (!ok && ok.error().code == ErrorCode::kIo) GTEST_SKIP() << "tests/programs were not built";
    ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
    EXPECT_EQ(ok->name, "xdp_parser");
}

TEST(ObjectParse, InternalMapNamesFollowLibbpf) {
    EXPECT_EQ(internal_map_name("opensnoop_bpf", ".rodata"), "opensnoo.rodata");
    EXPECT_EQ(internal_map_name("opensnoop_bpf", ".bss"), "opensnoo.bss");
    EXPECT_EQ(internal_map_name("x", ".data"), "x.data");
    EXPECT_EQ(internal_map_name("biolatency", ".kconfig"), "biolate.kconfig");
    EXPECT_EQ(internal_map_name("biolatency", ".rodata.str1.1"), ".rodata.str1.1");
    EXPECT_EQ(internal_map_name("obj", ".data.a_very_long_custom_name"), ".data.a_very_lo");
    EXPECT_EQ(internal_map_name("my-obj", ".data"), "my_obj.data");
}

TEST(ObjectParse, SectionNamesClassifyLikeLibbpf) {
    struct Case {
        const char* section;
        ProgramType type;
        AttachType attach;
        const char* target;
        std::uint32_t flags;
    };
    const Case cases[] = {
        {"xdp", ProgramType::Xdp, AttachType::Xdp, "", 0},
        {"xdp.frags", ProgramType::Xdp, AttachType::Xdp, "", kProgFlagXdpHasFrags},
        {"xdp/devmap", ProgramType::Xdp, AttachType::XdpDevmap, "", 0},
        {"xdp/foo", ProgramType::Xdp, AttachType::Xdp, "foo", 0},
        {"socket", ProgramType::SocketFilter, AttachType::None, "", 0},
        {"classifier", ProgramType::SchedCls, AttachType::None, "", 0},
        {"tc", ProgramType::SchedCls, AttachType::None, "", 0},
        {"kprobe/do_sys_open", ProgramType::Kprobe, AttachType::None, "do_sys_open", 0},
        {"kprobe.multi/tcp_*", ProgramType::Kprobe, AttachType::TraceKprobeMulti, "tcp_*", 0},
        {"uprobe.s/libc.so.6:free", ProgramType::Kprobe, AttachType::None, "libc.so.6:free", kProgFlagSleepable},
        {"uretprobe//bin/bash:readline", ProgramType::Kprobe, AttachType::None, "/bin/bash:readline", 0},
        {"usdt/./app:provider:probe", ProgramType::Kprobe, AttachType::None, "./app:provider:probe", 0},
        {"tp_btf/sched_switch", ProgramType::Tracing, AttachType::TraceRawTp, "sched_switch", 0},
        {"raw_tracepoint.w/foo", ProgramType::RawTracepointWritable, AttachType::None, "foo", 0},
        {"fentry.s/vfs_read", ProgramType::Tracing, AttachType::TraceFentry, "vfs_read", kProgFlagSleepable},
        {"fmod_ret/x", ProgramType::Tracing, AttachType::ModifyReturn, "x", 0},
        {"iter/task", ProgramType::Tracing, AttachType::TraceIter, "task", 0},
        {"cgroup/sock_create", ProgramType::CgroupSock, AttachType::CgroupInetSockCreate, "", 0},
        {"cgroup/connect4", ProgramType::CgroupSockAddr, AttachType::CgroupInet4Connect, "", 0},
        {"cgroup/dev", ProgramType::CgroupDevice, AttachType::CgroupDevice, "", 0},
        {"sk_skb/stream_parser", ProgramType::SkSkb, AttachType::SkSkbStreamParser, "", 0},
        {"sockops", ProgramType::SockOps, AttachType::CgroupSockOps, "", 0},
        {"struct_ops/init", ProgramType::StructOps, AttachType::None, "init", 0},
        {"syscall", ProgramType::Syscall, AttachType::None, "", kProgFlagSleepable},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.section);
        const SectionInfo info = classify_section(c.section);
        EXPECT_TRUE(info.known);
        EXPECT_EQ(info.type, c.type);
        EXPECT_EQ(info.expected_attach_type, c.attach);
        EXPECT_EQ(info.attach_target, c.target);
        EXPECT_EQ(info.prog_flags, c.flags);
    }
    for (const char* unknown : {"", "xdpfoo", "tpx/foo", "kprobes/x", ".text", "license"}) {
        SCOPED_TRACE(unknown);
        EXPECT_FALSE(classify_section(unknown).known);
        EXPECT_EQ(classify_section(unknown).type, ProgramType::Unspec);
    }
    EXPECT_EQ(program_type_name(ProgramType::Xdp), "xdp");
    EXPECT_EQ(program_type_name(ProgramType::SchedCls), "sched_cls");
}

}  // namespace
}  // namespace xbpf::object
