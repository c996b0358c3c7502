#include <gtest/gtest.h>

#include "helpers/prototype.hpp"
#include "helpers/registry.hpp"
#include "isa/helper_names.hpp"

namespace xbpf::helpers {
namespace {

TEST(HelperRegistry, EveryHelperHasAPrototypeAndTheKernelName) {
    const auto& all = kernel_helpers().all();
    ASSERT_GE(all.size(), 45u);
    for (const Helper& h : all) {
        ASSERT_NE(h.fn, nullptr) << h.name;
        std::string_view name = h.name;
        ASSERT_TRUE(name.starts_with("bpf_")) << name;
        name.remove_prefix(4);
        EXPECT_EQ(isa::helper_name(h.id), name) << "id " << h.id;
        const auto proto = prototype(h.id);
        ASSERT_TRUE(proto.has_value()) << h.name << " has no prototype";
        EXPECT_EQ(proto->name, name);
    }
}

TEST(HelperRegistry, TheListedHelpersAreThere) {
    for (const std::int32_t id :
         {1,  2,  3,  4,   5,   6,   7,   8,   14,  15,  16,  25,  26,  27,  28,  35,  42,  44,  45,  65,  67,  87, 88,
          89, 93, 94, 105, 106, 112, 113, 114, 115, 118, 125, 130, 131, 132, 133, 134, 160, 165, 177, 182, 195, 208})
        EXPECT_NE(kernel_helpers().find(id), nullptr) << id;
    // The engine-level helpers belong to the VM.
    EXPECT_EQ(kernel_helpers().find(12), nullptr);
    EXPECT_EQ(kernel_helpers().find(181), nullptr);
    EXPECT_EQ(kernel_helpers().find(164), nullptr);
    EXPECT_NE(kernel_helpers().find("bpf_map_lookup_elem"), nullptr);
    EXPECT_NE(kernel_helpers().find("ringbuf_output"), nullptr);
}

}  // namespace
}  // namespace xbpf::helpers
