// Map definitions read from objects: BTF-defined maps of many types (tests/programs/maps.bpf.c) and legacy
// struct bpf_map_def maps (tests/programs/legacy_map.bpf.c).
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <set>

#include "object/object_spec.hpp"
#include "object_test_support.hpp"

namespace xbpf::object {
namespace {

struct ExpectedMap {
    const char* name;
    maps::MapType type;
    std::uint32_t key_size;
    std::uint32_t value_size;
    std::uint32_t max_entries;
    std::uint32_t flags;
};

const maps::MapSpec& map(const ObjectSpec& spec, std::string_view name) {
    const auto index = spec.find_map(name);
    if (!index) {
        ADD_FAILURE() << "no map " << name;
        static const maps::MapSpec kNone;
        return kNone;
    }
    return spec.maps[*index];
}

const MapInfo& info(const ObjectSpec& spec, std::string_view name) {
    return spec.map_info.at(spec.find_map(name).value_or(0));
}

std::string btf_type_name(const ObjectSpec& spec, std::uint32_t id) {
    const btf_type* t = btf__type_by_id(spec.btf.get(), id);
    return t == nullptr ? "?" : btf__name_by_offset(spec.btf.get(), t->name_off);
}

TEST(ObjectMaps, BtfDefinedMapsOfEveryKind) {
    XBPF_LOAD_PROGRAM(spec, "maps");
    const ExpectedMap expected[] = {
        {"flows", maps::MapType::Hash, 16, 16, 1024, 0},
        {"raw_array", maps::MapType::Array, 4, 24, 8, 0},
        {"per_cpu", maps::MapType::PercpuArray, 4, 8, 4, 0},
        {"lru", maps::MapType::LruHash, 8, 4, 128, 0},
        {"routes", maps::MapType::LpmTrie, 8, 4, 64, maps::kFNoPrealloc},
        {"queue", maps::MapType::Queue, 0, 4, 32, 0},
        {"stack", maps::MapType::Stack, 0, 8, 32, 0},
        {"bloom", maps::MapType::BloomFilter, 0, 4, 100, 0},
        {"events", maps::MapType::PerfEventArray, 4, 4, 0, 0},
        {"stacks", maps::MapType::StackTrace, 4, 127 * 8, 16, 0},
        {"inner_a", maps::MapType::Array, 4, 4, 4, 0},
        {"inner_b", maps::MapType::Array, 4, 4, 4, 0},
        {"outer", maps::MapType::ArrayOfMaps, 4, 4, 2, 0},
        {"outer_hash", maps::MapType::HashOfMaps, 4, 4, 8, 0},
    };
    EXPECT_EQ(spec.maps.size(), std::size(expected));
    for (const ExpectedMap& e : expected) {
        SCOPED_TRACE(e.name);
        const maps::MapSpec& m = map(spec, e.name);
        EXPECT_EQ(m.type, e.type);
        EXPECT_EQ(m.key_size, e.key_size);
        EXPECT_EQ(m.value_size, e.value_size);
        EXPECT_EQ(m.max_entries, e.max_entries);
        EXPECT_EQ(m.flags, e.flags);
        EXPECT_EQ(info(spec, e.name).origin, MapOrigin::BtfDefined);
        EXPECT_EQ(info(spec, e.name).section, ".maps");
        EXPECT_EQ(info(spec, e.name).symbol, e.name);
    }
    EXPECT_EQ(map(spec, "bloom").map_extra, 3u);
    EXPECT_EQ(info(spec, "lru").pinning, Pinning::ByName);
    EXPECT_EQ(info(spec, "flows").pinning, Pinning::None);

    // __type(key, struct flow_key) keeps the BTF type ids for pretty-printing and for the kernel.
    EXPECT_EQ(btf_type_name(spec, info(spec, "flows").btf_key_type_id), "flow_key");
    EXPECT_EQ(btf_type_name(spec, info(spec, "flows").btf_value_type_id), "flow_stats");
    EXPECT_EQ(info(spec, "raw_array").btf_key_type_id, 0u);  // key_size/value_size carry no type

    // Map-in-map: the inner map's shape, and the statically initialised slots.
    const maps::MapSpec& outer = map(spec, "outer");
    ASSERT_NE(outer.inner, nullptr);
    EXPECT_EQ(outer.inner->type, maps::MapType::Array);
    EXPECT_EQ(outer.inner->key_size, 4u);
    EXPECT_EQ(outer.inner->value_size, 4u);
    EXPECT_EQ(outer.inner->max_entries, 4u);
    EXPECT_EQ(info(spec, "outer").initial_slots, (std::vector<MapSlot>{{0, "inner_a", false}, {1, "inner_b", false}}));
    const maps::MapSpec& outer_hash = map(spec, "outer_hash");
    ASSERT_NE(outer_hash.inner, nullptr);
    EXPECT_EQ(outer_hash.inner->type, maps::MapType::Hash);
    EXPECT_EQ(outer_hash.inner->max_entries, 16u);
    EXPECT_EQ(outer_hash.inner->value_size, 8u);
    EXPECT_TRUE(info(spec, "outer_hash").initial_slots.empty());

    // Every map the program uses is referenced through its index.
    const ProgramSpec* p = spec.find_program("use_maps");
    ASSERT_NE(p, nullptr);
    std::set<std::string> used;
    for (const Relocation& r : p->relocations) {
        ASSERT_EQ(r.kind, RelocationKind::Map);
        EXPECT_EQ(spec.maps.at(r.map_index).name, r.symbol);
        EXPECT_EQ(p->insns[r.insn].imm, static_cast<std::int32_t>(r.map_index));
        used.insert(r.symbol);
    }
    EXPECT_EQ(used, (std::set<std::string>{"flows", "per_cpu", "raw_array", "lru", "routes", "queue", "stack", "bloom",
                                           "events", "outer", "outer_hash"}));
}

TEST(ObjectMaps, LegacyMapDefinitions) {
    XBPF_LOAD_PROGRAM(spec, "legacy_map");
    ASSERT_EQ(spec.maps.size(), 3u);
    EXPECT_EQ(spec.maps[0].name, "modern");  // BTF-defined maps come first, as in libbpf
    const maps::MapSpec& counts = map(spec, "legacy_counts");
    EXPECT_EQ(counts.type, maps::MapType::Array);
    EXPECT_EQ(counts.key_size, 4u);
    EXPECT_EQ(counts.value_size, 8u);
    EXPECT_EQ(counts.max_entries, 4u);
    const maps::MapSpec& hash = map(spec, "legacy_hash");
    EXPECT_EQ(hash.type, maps::MapType::Hash);
    EXPECT_EQ(hash.key_size, 8u);
    EXPECT_EQ(hash.value_size, 4u);
    EXPECT_EQ(hash.max_entries, 512u);
    EXPECT_EQ(hash.flags, maps::kFNoPrealloc);
    EXPECT_EQ(info(spec, "legacy_hash").origin, MapOrigin::Legacy);
    EXPECT_EQ(info(spec, "legacy_hash").section, "maps");
    EXPECT_EQ(info(spec, "legacy_hash").section_offset, 20u);

    const ProgramSpec& p = spec.programs.at(0);
    std::vector<std::string> refs;
    for (const Relocation& r : p.relocations) {
        EXPECT_EQ(p.insns[r.insn].src, isa::kPseudoMapIdx);
        EXPECT_EQ(p.insns[r.insn].imm, static_cast<std::int32_t>(r.map_index));
        refs.push_back(spec.maps[r.map_index].name);
    }
    EXPECT_EQ(refs, (std::vector<std::string>{"legacy_counts", "legacy_hash", "modern"}));
}

}  // namespace
}  // namespace xbpf::object
