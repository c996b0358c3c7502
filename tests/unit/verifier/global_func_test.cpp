// Global functions verified once, on their own (the kernel's do_check_subprogs with btf_prepare_func_args), on
// clang output: tests/programs/global_funcs.bpf.c. Each program is verified by xbpf with the object's BTF (the
// default of options_for) and, where bpf() works, loaded into the kernel, whose verdict must be the same. Without
// the program's BTF xbpf falls back to verifying every function in its calling context, which accepts what the
// kernel refuses: that contrast is checked too. The golden cases (tests/golden/verifier/calls.txt, "Global
// functions") cover each argument kind and message.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "object/object_spec.hpp"
#include "verifier/global_func.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::verifier {
namespace {

std::filesystem::path object_path() {
    return std::filesystem::path(XBPF_BINARY_DIR) / "tests/programs/global_funcs.bpf.o";
}

const object::ProgramSpec* program_named(const object::ObjectSpec& obj, const std::string& name) {
    for (const auto& p : obj.programs)
        if (p.name == name) return &p;
    return nullptr;
}

class VerifierGlobalFunctions : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::filesystem::exists(object_path())) GTEST_SKIP() << object_path() << " not built (no clang?)";
        auto parsed = object::parse_object_file(object_path().string());
        ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
        obj_ = std::move(*parsed);
        ASSERT_NE(obj_.btf, nullptr) << "the object has no BTF";
    }

    VerifyReport verify_program(const std::string& name, bool with_btf) {
        const object::ProgramSpec* p = program_named(obj_, name);
        EXPECT_NE(p, nullptr) << name;
        if (!p) return {};
        VerifyOptions o = options_for(obj_, *p);
        if (!with_btf) o.program_btf = nullptr;
        return verify(p->insns, o);
    }

    /// The kernel's verdict on one program of the object, or nullopt without bpf().
    std::optional<bool> kernel_accepts(const std::string& name) {
        std::string why;
        if (!kernel::available(&why)) return std::nullopt;
        object::ObjectSpec one = obj_;
        one.programs = {*program_named(obj_, name)};
        return kernel::Object::load(one).has_value();
    }

    object::ObjectSpec obj_;
};

TEST_F(VerifierGlobalFunctions, SignaturesFromBtf) {
    const object::ProgramSpec* p = program_named(obj_, "global_ok");
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(p->func_info.size(), 4u);  // global_ok, then pair_sum, skb_len_of, clamp_small as linked
    std::map<std::string, GlobalFunc> by_name;
    for (const auto& fi : p->func_info) by_name[fi.name] = global_function(obj_.btf.get(), *p, fi.insn, p->type);
    EXPECT_FALSE(by_name["global_ok"].is_global);  // the entry is the program itself
    const GlobalFunc& pair_sum = by_name["pair_sum"];
    ASSERT_TRUE(pair_sum.is_global);
    EXPECT_TRUE(pair_sum.error.empty()) << pair_sum.error;
    ASSERT_EQ(pair_sum.args.size(), 1u);
    EXPECT_EQ(pair_sum.args[0].kind, GlobalArg::Kind::Mem);
    EXPECT_EQ(pair_sum.args[0].size, 8u);
    EXPECT_TRUE(pair_sum.args[0].nullable);
    ASSERT_EQ(by_name["skb_len_of"].args.size(), 1u);
    EXPECT_EQ(by_name["skb_len_of"].args[0].kind, GlobalArg::Kind::Ctx);
    ASSERT_EQ(by_name["clamp_small"].args.size(), 1u);
    EXPECT_EQ(by_name["clamp_small"].args[0].kind, GlobalArg::Kind::Scalar);
}

TEST_F(VerifierGlobalFunctions, AcceptedProgramAgreesWithKernel) {
    const VerifyReport r = verify_program("global_ok", true);
    EXPECT_TRUE(r.accepted) << r.summary();
    if (auto k = kernel_accepts("global_ok")) {
        EXPECT_TRUE(*k);
    }
}

TEST_F(VerifierGlobalFunctions, GlobalFunctionIsVerifiedWithoutItsCaller) {
    // first_word reads through its pointer argument without a NULL check: on its own the pointer may be NULL.
    const VerifyReport r = verify_program("global_needs_null_check", true);
    ASSERT_FALSE(r.accepted);
    ASSERT_FALSE(r.findings.empty());
    EXPECT_EQ(r.findings.front().message, "R1 invalid mem access 'mem_or_null'");
    if (auto k = kernel_accepts("global_needs_null_check")) {
        EXPECT_FALSE(*k) << "the kernel accepts it";
    }
    // In its caller's context (no BTF: every function is verified per call) the pointer is the caller's stack.
    const VerifyReport contextual = verify_program("global_needs_null_check", false);
    EXPECT_TRUE(contextual.accepted) << contextual.summary();
}

TEST_F(VerifierGlobalFunctions, CallersGetAnUnknownScalar) {
    // clamp_small(3) returns 3 in context; as a global function its result is any number, so the walk of
    // global_ok cannot fold it: both modes accept, and the global mode walks each function once.
    const VerifyReport global = verify_program("global_ok", true);
    const VerifyReport contextual = verify_program("global_ok", false);
    ASSERT_TRUE(global.accepted && contextual.accepted);
    // clamp_small is called twice: in context its 4 instructions are walked per call (and per branch), globally
    // once (both branches of its comparison) from its own entry.
    EXPECT_LT(global.insns_processed, contextual.insns_processed);
}

}  // namespace
}  // namespace xbpf::verifier
