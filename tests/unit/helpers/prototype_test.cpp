#include <gtest/gtest.h>

#include "helpers/prototype.hpp"
#include "isa/helper_names.hpp"

namespace xbpf::helpers {
namespace {

TEST(HelperPrototypes, NamesAndIdsAgreeWithTheKernelList) {
    for (const Prototype& p : all_prototypes()) {
        EXPECT_EQ(isa::helper_name(p.id), p.name) << "id " << p.id;
        EXPECT_EQ(isa::helper_id(p.name), p.id) << p.name;
    }
}

TEST(HelperPrototypes, SizesFollowTheirMemoryArgument) {
    // Every ConstSize/ConstSizeOrZero argument follows a PtrToMem without a fixed size (the kernel's rule that
    // the size argument describes the memory argument before it).
    for (const Prototype& p : all_prototypes()) {
        for (std::size_t i = 0; i < 5; ++i) {
            const ArgType t = p.args[i].type;
            if (t != ArgType::ConstSize && t != ArgType::ConstSizeOrZero) continue;
            ASSERT_GT(i, 0u) << p.name;
            EXPECT_EQ(p.args[i - 1].type, ArgType::PtrToMem) << p.name << " arg " << i + 1;
            EXPECT_FALSE(p.args[i - 1].flags & kFixedSize) << p.name;
        }
    }
}

TEST(HelperPrototypes, WellKnownContracts) {
    auto lookup = prototype(1);
    ASSERT_TRUE(lookup);
    EXPECT_EQ(lookup->ret, RetType::PtrToMapValueOrNull);
    EXPECT_EQ(arg_count(*lookup), 2);
    EXPECT_EQ(lookup->args[0].type, ArgType::ConstMapPtr);
    auto reserve = prototype(131);
    ASSERT_TRUE(reserve);
    EXPECT_EQ(reserve->ret, RetType::PtrToAllocMemOrNull);
    auto submit = prototype(132);
    ASSERT_TRUE(submit);
    EXPECT_TRUE(submit->args[0].flags & kRelease);
    EXPECT_EQ(submit->ret, RetType::Void);
    EXPECT_EQ(arg_count(*prototype(5)), 0);
    EXPECT_FALSE(prototype(9999));
    EXPECT_FALSE(prototype(0));
}

}  // namespace
}  // namespace xbpf::helpers
