// The object differential cases (cases.cpp) in the Linux kernel: each case loads its object afresh with
// kernel::Object (the maps and instructions xbpf parsed, through bpf()), runs the program with BPF_PROG_TEST_RUN and
// checks the hand-derived expectations. This validates the expectations themselves against the reference
// implementation; xbpf_programs_test.cpp holds xbpf to the same cases. Skips, with the reason, without bpf().
#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <string>

#include "cases.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/maps.hpp"
#include "kernel/object_loader.hpp"

namespace xbpf::test::programs {
namespace {

bool kernel_available(std::string* why) {
    static std::string reason;
    static const bool ok = kernel::available(&reason);
    if (why) *why = reason;
    return ok;
}

class KernelPrograms : public ::testing::TestWithParam<Case> {};

TEST_P(KernelPrograms, MatchesExpectations) {
    const Case& c = GetParam();
    std::string why;
    if (!kernel_available(&why)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why;
    auto spec = load_spec(c.object, &why);
    if (!spec) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << why;
    auto obj = kernel::Object::load(*spec);
    ASSERT_TRUE(obj.has_value()) << obj.error().to_string();
    vm::TestRunInput in;
    in.data_in = c.data_in;
    in.ctx_in = c.ctx_in;
    in.repeat = c.repeat;
    auto out = (*obj)->test_run(c.program, in);
    ASSERT_TRUE(out.has_value()) << out.error().to_string();
    const auto bad = check_case(c, *spec, *out, [&](std::string_view name) { return (*obj)->dump_map(name); });
    for (const auto& m : bad) ADD_FAILURE() << c.object << "/" << c.program << ": " << m;
}

#define SKIP_WITHOUT_KERNEL_OR_OBJECT(spec, object)                                                     \
    std::string why_;                                                                                   \
    if (!kernel_available(&why_)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why_; \
    auto spec = load_spec(object, &why_);                                                               \
    if (!spec) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << why_

// Global data: the initial contents are written at load, and .rodata is frozen (the host can no longer write it,
// so the verifier may read its contents as constants).
TEST(KernelObjectLoader, GlobalDataInitialisedAndRodataFrozen) {
    SKIP_WITHOUT_KERNEL_OR_OBJECT(spec, "gdata");
    auto obj = kernel::Object::load(*spec);
    ASSERT_TRUE(obj.has_value()) << obj.error().to_string();
    EXPECT_TRUE((*obj)->has_btf());
    auto data = (*obj)->dump_map("gdata.data");
    ASSERT_TRUE(data.has_value());
    ASSERT_EQ(data->size(), 1u);
    EXPECT_EQ(hex(data->at(0).value), "64 00 00 00");  // runs = 100
    auto rodata = (*obj)->dump_map("gdata.rodata");
    ASSERT_TRUE(rodata.has_value());
    ASSERT_EQ(rodata->size(), 1u);
    EXPECT_EQ(hex(rodata->at(0).value), "03 00 00 00 01 02 03 04");  // factor = 3, tag = {1, 2, 3, 4}
    kernel::MapFd fd(::dup((*obj)->map_fd("gdata.rodata")));
    const std::uint32_t zero = 0;
    const Bytes value(8, 0);
    EXPECT_EQ(kernel::map_update(fd, &zero, value.data()), -EPERM);
    EXPECT_EQ(kernel::map_update(kernel::MapFd(::dup((*obj)->map_fd("gdata.data"))), &zero, value.data()), 0);
}

// A program the verifier refuses: the error names the program and carries the verifier log's verdict.
TEST(KernelObjectLoader, RejectedProgramReportsTheVerifierLog) {
    SKIP_WITHOUT_KERNEL_OR_OBJECT(spec, "calls");
    object::ProgramSpec& p = spec->programs.at(0);
    p.insns = {{0x79, 0, 2, 0, 0}, {0x95, 0, 0, 0, 0}};  // r0 = *(u64 *)(r2 + 0); exit: r2 is not initialised
    p.func_info.resize(1);
    p.line_info.clear();
    auto obj = kernel::Object::load(*spec);
    ASSERT_FALSE(obj.has_value());
    EXPECT_NE(obj.error().message.find("program '" + p.name + "'"), std::string::npos) << obj.error().message;
    EXPECT_NE(obj.error().message.find("R2 !read_ok"), std::string::npos) << obj.error().message;
}

INSTANTIATE_TEST_SUITE_P(Cases, KernelPrograms, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace xbpf::test::programs
