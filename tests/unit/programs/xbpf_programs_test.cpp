// The object differential cases (cases.cpp) in xbpf: each case loads its object afresh with vm::Object::load, runs
// the program with vm::test_run and checks the same hand-derived expectations as kernel_programs_test.cpp. Where
// the kernel's bpf() is available the case also runs there (kernel::Object, a fresh load of the same ObjectSpec)
// and the two runs must agree: the same retval, the same data_out and the same contents of every map, compared as
// each map type allows (compare_maps in cases.cpp: per-CPU values summed over CPUs, fd maps by key only, ring
// buffers, perf event arrays and bloom filters not compared, since their contents are not readable or depend on a
// random seed).
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "cases.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "vm/object.hpp"

namespace xbpf::test::programs {
namespace {

bool kernel_available(std::string* why) {
    static std::string reason;
    static const bool ok = kernel::available(&reason);
    if (why) *why = reason;
    return ok;
}

vm::TestRunInput input_of(const Case& c) {
    vm::TestRunInput in;
    in.data_in = c.data_in;
    in.ctx_in = c.ctx_in;
    in.repeat = c.repeat;
    return in;
}

class XbpfPrograms : public ::testing::TestWithParam<Case> {};

TEST_P(XbpfPrograms, MatchesExpectationsAndKernel) {
    const Case& c = GetParam();
    std::string why;
    auto spec = load_spec(c.object, &why);
    if (!spec) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << why;
    const std::string where = c.object + "/" + c.program;

    auto obj = vm::Object::load(*spec);
    ASSERT_TRUE(obj.has_value()) << where << ": " << obj.error().to_string();
    const vm::LoadedProgram* prog = (*obj)->program(c.program);
    ASSERT_NE(prog, nullptr) << where;
    auto out = vm::test_run(*prog, input_of(c));
    ASSERT_TRUE(out.has_value()) << where << ": " << out.error().to_string();
    const DumpFn xbpf_dump = [&](std::string_view name) -> Result<std::vector<maps::MapEntry>> {
        auto m = (*obj)->map(name);
        if (!m) return make_error(ErrorCode::kInvalidArgument, "no map '" + std::string(name) + "'");
        return m->dump();
    };
    for (const auto& m : check_case(c, *spec, *out, xbpf_dump)) ADD_FAILURE() << where << ": " << m;

    if (!kernel_available(&why)) {
        std::cout << "note: " << where
                  << ": kernel comparison skipped, the kernel bpf() back end is unavailable: " << why << "\n";
        return;
    }
    auto kobj = kernel::Object::load(*spec);
    ASSERT_TRUE(kobj.has_value()) << where << ": " << kobj.error().to_string();
    auto kout = (*kobj)->test_run(c.program, input_of(c));
    ASSERT_TRUE(kout.has_value()) << where << ": " << kout.error().to_string();
    EXPECT_EQ(static_cast<std::uint32_t>(out->retval), static_cast<std::uint32_t>(kout->retval))
        << where << ": retval, xbpf vs kernel";
    EXPECT_EQ(hex(out->data_out), hex(kout->data_out)) << where << ": data_out, xbpf vs kernel";
    const DumpFn kernel_dump = [&](std::string_view name) { return (*kobj)->dump_map(name); };
    for (const auto& m : compare_maps(*spec, xbpf_dump, kernel_dump)) ADD_FAILURE() << where << ": " << m;
}

INSTANTIATE_TEST_SUITE_P(Cases, XbpfPrograms, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace xbpf::test::programs
