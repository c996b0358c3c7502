// CO-RE resolution (src/object/core.cpp) of tests/programs/core.bpf.c against: the object's own BTF, a target BTF
// built here with a different layout (moved, resized and missing fields, another enum value, moved bitfields), and
// the running kernel's BTF when present.
#include "object/core.hpp"

#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <tuple>

#include "object_test_support.hpp"

namespace xbpf::object {
namespace {

std::string type_name(const struct btf* btf, std::uint32_t id) {
    const btf_type* t = btf__type_by_id(btf, id);
    return t == nullptr ? "?" : btf__name_by_offset(btf, t->name_off);
}

/// The value an instruction holds where CO-RE patches it: an ALU immediate, a memory offset, or an lddw's imm64.
std::uint64_t patched_value(const ProgramSpec& p, std::size_t insn) {
    const isa::RawInsn& i = p.insns.at(insn);
    const std::uint8_t cls = i.opcode & 7;
    if (cls == 1 || cls == 2 || cls == 3) return static_cast<std::uint64_t>(i.off);
    if (i.opcode == 0x18)
        return static_cast<std::uint32_t>(i.imm) |
               (static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.insns.at(insn + 1).imm)) << 32);
    return static_cast<std::uint32_t>(i.imm);
}

/// A kernel-like target: the same type names as core.bpf.c's locals without the ___flavour, another layout.
std::shared_ptr<const struct btf> make_target() {
    struct btf* b = btf__new_empty();
    const int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
    const int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    const int u32 = btf__add_int(b, "unsigned int", 4, 0);
    const int i64 = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
    const int comm = btf__add_array(b, i32, chr, 16);
    const int task_ptr = btf__add_ptr(b, comm + 2);  // the struct added next
    const int task = btf__add_struct(b, "task_struct", 48);
    EXPECT_EQ(task, comm + 2);
    btf__add_field(b, "comm", comm, 0, 0);                  // local: 16
    btf__add_field(b, "tgid", i32, 16 * 8, 0);              // local: 4
    btf__add_field(b, "real_parent", task_ptr, 24 * 8, 0);  // local: 8
    btf__add_field(b, "pid", i32, 32 * 8, 0);               // local: 0
    btf__add_field(b, "state", i64, 40 * 8, 0);
    btf__add_struct(b, "flags", 8);
    btf__add_field(b, "low", u32, 0, 3);
    btf__add_field(b, "wide", i32, 3, 12);  // local: 10 bits at 8
    btf__add_field(b, "mid", u32, 20, 6);   // local: 5 bits at 3
    btf__add_enum(b, "pid_type", 4);
    btf__add_enum_value(b, "PIDTYPE_PID", 0);
    btf__add_enum_value(b, "PIDTYPE_TGID", 5);
    return std::shared_ptr<const struct btf>(b, [](const struct btf* p) { btf__free(const_cast<struct btf*>(p)); });
}

TEST(ObjectCore, EssentialNames) {
    EXPECT_EQ(core_essential_name("task_struct___local"), "task_struct");
    EXPECT_EQ(core_essential_name("a___b___c"), "a___b");
    EXPECT_EQ(core_essential_name("plain"), "plain");
    EXPECT_EQ(core_essential_name("x____y"), "x____y");  // four underscores: not a flavour separator
    EXPECT_EQ(core_essential_name("___x"), "___x");
    EXPECT_EQ(core_essential_name(""), "");
}

TEST(ObjectCore, OwnBtfResolvesToTheCompiledValues) {
    XBPF_LOAD_PROGRAM(spec, "core");
    const CoreTarget self(spec.btf);
    const ProgramSpec& p = spec.programs.at(0);
    ASSERT_GE(p.core_relocations.size(), 20u);
    for (const CoreRelocation& relo : p.core_relocations) {
        SCOPED_TRACE(std::string(core_reloc_kind_name(relo.kind)) + " " + relo.access);
        auto v = resolve_core_relocation(relo, spec.btf.get(), self);
        ASSERT_TRUE(v.has_value()) << v.error().to_string();
        EXPECT_FALSE(v->poison);
        EXPECT_EQ(v->target, v->local);
        if (v->validate) {
            EXPECT_EQ(patched_value(p, relo.insn), v->local) << "the instruction holds the local value";
        }
    }
    auto applied = apply_core_relocations(spec, self);
    ASSERT_TRUE(applied.has_value()) << applied.error().to_string();
    EXPECT_EQ(applied->programs.at(0).insns, p.insns);
}

TEST(ObjectCore, TargetWithAnotherLayout) {
    XBPF_LOAD_PROGRAM(spec, "core");
    const CoreTarget target(make_target());
    const ProgramSpec& p = spec.programs.at(0);
    // (kind, local type, access) -> target value; flags.mid is 6 bits at bit 20, flags.wide 12 signed bits at 3.
    using Key = std::tuple<CoreRelocKind, std::string, std::string>;
    const std::map<Key, std::uint64_t> expected = {
        {{CoreRelocKind::FieldByteOffset, "task_struct___local", "0:2"}, 24},
        {{CoreRelocKind::FieldByteOffset, "task_struct___local", "0:1"}, 16},
        {{CoreRelocKind::FieldByteOffset, "task_struct___local", "0:3"}, 0},
        {{CoreRelocKind::FieldExists, "task_struct___local", "0:3"}, 1},
        {{CoreRelocKind::FieldByteSize, "task_struct___local", "0:3"}, 16},
        {{CoreRelocKind::TypeExists, "task_struct___local", "0"}, 1},
        {{CoreRelocKind::TypeSize, "task_struct___local", "0"}, 48},
        {{CoreRelocKind::FieldExists, "task_struct___old", "0:1"}, 0},
        {{CoreRelocKind::EnumvalValue, "pid_type___local", "1"}, 5},
        {{CoreRelocKind::FieldByteOffset, "flags___local", "0:1"}, 0},
        {{CoreRelocKind::FieldByteSize, "flags___local", "0:1"}, 4},
        {{CoreRelocKind::FieldLshiftU64, "flags___local", "0:1"}, 64 - (20 + 6)},
        {{CoreRelocKind::FieldRshiftU64, "flags___local", "0:1"}, 64 - 6},
        {{CoreRelocKind::FieldSigned, "flags___local", "0:1"}, 0},
        {{CoreRelocKind::FieldByteOffset, "flags___local", "0:2"}, 0},
        {{CoreRelocKind::FieldByteSize, "flags___local", "0:2"}, 4},
        {{CoreRelocKind::FieldLshiftU64, "flags___local", "0:2"}, 64 - (3 + 12)},
        {{CoreRelocKind::FieldRshiftU64, "flags___local", "0:2"}, 64 - 12},
        {{CoreRelocKind::FieldSigned, "flags___local", "0:2"}, 1},
    };
    auto applied = apply_core_relocations(p, spec.btf.get(), target);
    ASSERT_TRUE(applied.has_value()) << applied.error().to_string();
    std::size_t checked = 0;
    for (const CoreRelocation& relo : p.core_relocations) {
        const Key key{relo.kind, type_name(spec.btf.get(), relo.type_id), relo.access};
        SCOPED_TRACE(std::string(core_reloc_kind_name(relo.kind)) + " " + std::get<1>(key) + " " + relo.access);
        const auto it = expected.find(key);
        ASSERT_NE(it, expected.end()) << "unexpected relocation";
        auto v = resolve_core_relocation(relo, spec.btf.get(), target);
        ASSERT_TRUE(v.has_value()) << v.error().to_string();
        EXPECT_FALSE(v->poison);
        EXPECT_EQ(v->target, it->second);
        EXPECT_EQ(patched_value(*applied, relo.insn), it->second);
        ++checked;
    }
    EXPECT_EQ(checked, p.core_relocations.size());

    // The result is still a valid program.
    auto decoded = isa::decode(applied->insns);
    EXPECT_TRUE(decoded.has_value()) << decoded.error().to_string();
}

TEST(ObjectCore, MissingTargetTypePoisonsTheInstruction) {
    XBPF_LOAD_PROGRAM(spec, "core");
    struct btf* empty = btf__new_empty();
    btf__add_int(empty, "int", 4, BTF_INT_SIGNED);
    const CoreTarget target(
        std::shared_ptr<const struct btf>(empty, [](const struct btf* p) { btf__free(const_cast<struct btf*>(p)); }));
    const ProgramSpec& p = spec.programs.at(0);
    auto applied = apply_core_relocations(p, spec.btf.get(), target);
    ASSERT_TRUE(applied.has_value()) << applied.error().to_string();
    for (const CoreRelocation& relo : p.core_relocations) {
        const isa::RawInsn& insn = applied->insns[relo.insn];
        const bool exists_check = relo.kind == CoreRelocKind::FieldExists || relo.kind == CoreRelocKind::TypeExists ||
                                  relo.kind == CoreRelocKind::EnumvalExists;
        if (exists_check) {
            EXPECT_EQ(patched_value(*applied, relo.insn), 0u) << core_reloc_kind_name(relo.kind);
        } else {
            EXPECT_EQ(insn.opcode, 0x85) << core_reloc_kind_name(relo.kind);
            EXPECT_EQ(insn.imm, kCorePoisonHelper);
        }
    }
}

TEST(ObjectCore, MalformedRecordsAreErrors) {
    XBPF_LOAD_PROGRAM(spec, "core");
    const CoreTarget self(spec.btf);
    ProgramSpec p = spec.programs.at(0);
    CoreRelocation bad = p.core_relocations.at(0);
    for (const char* access : {"", "0:", "x", "0:99", "0:1:2:3:4"}) {
        bad.access = access;
        EXPECT_FALSE(resolve_core_relocation(bad, spec.btf.get(), self).has_value()) << access;
    }
    bad = p.core_relocations.at(0);
    bad.type_id = 1u << 30;
    EXPECT_FALSE(resolve_core_relocation(bad, spec.btf.get(), self).has_value());
    // A record pointing at an instruction that does not hold the local value is refused, naming the instruction.
    p.core_relocations = {spec.programs.at(0).core_relocations.at(0)};
    p.core_relocations[0].insn = 0;
    auto applied = apply_core_relocations(p, spec.btf.get(), self);
    ASSERT_FALSE(applied.has_value());
    EXPECT_EQ(applied.error().where.insn, 0u);
}

TEST(ObjectCore, KernelBtf) {
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
    auto kernel = CoreTarget::kernel();
    ASSERT_TRUE(kernel.has_value()) << kernel.error().to_string();
    XBPF_LOAD_PROGRAM(spec, "core");
    const struct btf* vmlinux = kernel->btf();
    // Independent oracle: the members' offsets read straight from the kernel's struct task_struct.
    const std::int32_t task = btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT);
    ASSERT_GT(task, 0);
    const btf_type* t = btf__type_by_id(vmlinux, static_cast<std::uint32_t>(task));
    std::map<std::string, std::uint64_t> offsets;
    for (std::uint16_t i = 0; i < btf_vlen(t); ++i)
        offsets[btf__name_by_offset(vmlinux, btf_members(t)[i].name_off)] = btf_member_bit_offset(t, i) / 8;
    ASSERT_TRUE(offsets.contains("real_parent") && offsets.contains("tgid") && offsets.contains("comm"));

    for (const CoreRelocation& relo : spec.programs.at(0).core_relocations) {
        if (type_name(spec.btf.get(), relo.type_id) != "task_struct___local") continue;
        auto v = resolve_core_relocation(relo, spec.btf.get(), *kernel);
        ASSERT_TRUE(v.has_value()) << v.error().to_string();
        if (relo.kind == CoreRelocKind::FieldByteOffset) {
            const char* field = relo.access == "0:2" ? "real_parent" : relo.access == "0:1" ? "tgid" : "comm";
            EXPECT_EQ(v->target, offsets[field]) << field;
        }
        if (relo.kind == CoreRelocKind::TypeSize) {
            EXPECT_EQ(v->target,
                      static_cast<std::uint64_t>(btf__resolve_size(vmlinux, static_cast<std::uint32_t>(task))));
        }
    }
    auto applied = apply_core_relocations(spec, *kernel);
    ASSERT_TRUE(applied.has_value()) << applied.error().to_string();
}

}  // namespace
}  // namespace xbpf::object
