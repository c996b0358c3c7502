// Comparisons on Scalars: branch_taken and refine_branch are sound for every CmpOp, JMP and JMP32, both outcomes
// (checked on generated value sets), exact on constants, and precise on hand-derived cases.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "scalar_test_util.hpp"
#include "verifier/domains/scalar.hpp"

namespace xbpf::verifier {
namespace {

using namespace xbpf::verifier::testing;  // NOLINT(google-build-using-namespace)

bool holds(CmpOp op, bool is32, u64 x, u64 y) {
    if (is32) {
        const auto a = static_cast<u32>(x);
        const auto b = static_cast<u32>(y);
        const auto sa = static_cast<s32>(a);
        const auto sb = static_cast<s32>(b);
        switch (op) {
            case CmpOp::Eq: return a == b;
            case CmpOp::Ne: return a != b;
            case CmpOp::Gt: return a > b;
            case CmpOp::Ge: return a >= b;
            case CmpOp::Lt: return a < b;
            case CmpOp::Le: return a <= b;
            case CmpOp::Sgt: return sa > sb;
            case CmpOp::Sge: return sa >= sb;
            case CmpOp::Slt: return sa < sb;
            case CmpOp::Sle: return sa <= sb;
            case CmpOp::Set: return (a & b) != 0;
        }
        return false;
    }
    const auto sx = static_cast<s64>(x);
    const auto sy = static_cast<s64>(y);
    switch (op) {
        case CmpOp::Eq: return x == y;
        case CmpOp::Ne: return x != y;
        case CmpOp::Gt: return x > y;
        case CmpOp::Ge: return x >= y;
        case CmpOp::Lt: return x < y;
        case CmpOp::Le: return x <= y;
        case CmpOp::Sgt: return sx > sy;
        case CmpOp::Sge: return sx >= sy;
        case CmpOp::Slt: return sx < sy;
        case CmpOp::Sle: return sx <= sy;
        case CmpOp::Set: return (x & y) != 0;
    }
    return false;
}

const char* cmp_name(CmpOp op) {
    switch (op) {
        case CmpOp::Eq: return "Eq";
        case CmpOp::Ne: return "Ne";
        case CmpOp::Gt: return "Gt";
        case CmpOp::Ge: return "Ge";
        case CmpOp::Lt: return "Lt";
        case CmpOp::Le: return "Le";
        case CmpOp::Sgt: return "Sgt";
        case CmpOp::Sge: return "Sge";
        case CmpOp::Slt: return "Slt";
        case CmpOp::Sle: return "Sle";
        case CmpOp::Set: return "Set";
    }
    return "?";
}

struct CmpCase {
    CmpOp op;
    bool is32;
};

void PrintTo(const CmpCase& c, std::ostream* os) { *os << cmp_name(c.op) << (c.is32 ? "32" : "64"); }

std::string case_name(const ::testing::TestParamInfo<CmpCase>& info) {
    return std::string(cmp_name(info.param.op)) + (info.param.is32 ? "32" : "64");
}

class ScalarBranchSoundness : public ::testing::TestWithParam<CmpCase> {};

TEST_P(ScalarBranchSoundness, TakenAndRefineKeepEverySatisfyingPair) {
    const auto [op, is32] = GetParam();
    SetGen gen(0xb4a0c4 + static_cast<u64>(op) * 2 + (is32 ? 1 : 0));
    std::size_t decided = 0;
    std::size_t dead = 0;
    std::size_t pairs = 0;
    for (int iter = 0; iter < 150; ++iter) {
        const std::vector<u64> xs = gen.set();
        const std::vector<u64> ys = gen.set();
        for (const Scalar& a : abstractions_with_low32(xs)) {
            const std::vector<u64> xm = members(a, xs, gen);
            for (const Scalar& b : abstractions_with_low32(ys)) {
                const std::vector<u64> ym = members(b, ys, gen);
                const int taken = branch_taken(op, is32, a, b);
                decided += taken >= 0 ? 1 : 0;
                for (bool outcome : {true, false}) {
                    const auto refined = refine_branch(op, is32, outcome, a, b);
                    dead += refined ? 0 : 1;
                    for (u64 x : xm) {
                        for (u64 y : ym) {
                            const bool h = holds(op, is32, x, y);
                            ++pairs;
                            if (taken >= 0 && h != (taken == 1)) {
                                FAIL() << "branch_taken says " << taken << " but " << x << " " << cmp_name(op) << " "
                                       << y << " is " << h << "\n  a " << dump(a) << "\n  b " << dump(b);
                            }
                            if (h != outcome) continue;
                            if (!refined) {
                                FAIL() << "refine(" << outcome << ") says dead but " << x << " " << cmp_name(op) << " "
                                       << y << "\n  a " << dump(a) << "\n  b " << dump(b);
                            }
                            if (!refined->first.contains(x) || !refined->second.contains(y)) {
                                FAIL() << "refine(" << outcome << ") lost " << x << " " << cmp_name(op) << " " << y
                                       << "\n  a " << dump(a) << "\n  -> " << dump(refined->first) << "\n  b "
                                       << dump(b) << "\n  -> " << dump(refined->second);
                            }
                        }
                    }
                }
            }
        }
    }
    EXPECT_GT(pairs, 10000u);
    EXPECT_GT(decided, 50u) << "the generated sets should decide some branches";
    EXPECT_GT(dead, 50u) << "and make some edges dead";
}

TEST_P(ScalarBranchSoundness, ConstantsAreDecidedExactly) {
    const auto [op, is32] = GetParam();
    SetGen gen(0xc0 + static_cast<u64>(op));
    for (int iter = 0; iter < 2000; ++iter) {
        const u64 x = gen.value();
        const u64 y = gen.next() % 2 == 0 ? x + gen.next() % 3 : gen.value();
        const Scalar a = Scalar::constant(x);
        const Scalar b = Scalar::constant(y);
        const bool h = holds(op, is32, x, y);
        ASSERT_EQ(branch_taken(op, is32, a, b), h ? 1 : 0) << x << " " << cmp_name(op) << " " << y;
        ASSERT_FALSE(refine_branch(op, is32, !h, a, b).has_value());
        const auto r = refine_branch(op, is32, h, a, b);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->first, a);
        EXPECT_EQ(r->second, b);
    }
}

std::vector<CmpCase> all_cmp_cases() {
    std::vector<CmpCase> out;
    for (int op = 0; op <= static_cast<int>(CmpOp::Set); ++op) {
        out.push_back({static_cast<CmpOp>(op), false});
        out.push_back({static_cast<CmpOp>(op), true});
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(ScalarEveryCmpOp, ScalarBranchSoundness, ::testing::ValuesIn(all_cmp_cases()), case_name);

// ---- hand-derived ----

Scalar c(u64 v) { return Scalar::constant(v); }

/// The refined first operand of `a op b` on the `outcome` edge (which must be live).
Scalar refined_a(CmpOp op, bool is32, bool outcome, const Scalar& a, const Scalar& b) {
    const auto r = refine_branch(op, is32, outcome, a, b);
    EXPECT_TRUE(r.has_value());
    return r ? r->first : a;
}

TEST(ScalarBranchPrecision, NegateAndSwap) {
    EXPECT_EQ(negate(CmpOp::Lt), CmpOp::Ge);
    EXPECT_EQ(negate(CmpOp::Sgt), CmpOp::Sle);
    EXPECT_EQ(negate(CmpOp::Eq), CmpOp::Ne);
    EXPECT_EQ(negate(CmpOp::Set), std::nullopt);
    EXPECT_EQ(swap_operands(CmpOp::Lt), CmpOp::Gt);
    EXPECT_EQ(swap_operands(CmpOp::Sge), CmpOp::Sle);
    EXPECT_EQ(swap_operands(CmpOp::Set), CmpOp::Set);
    // The tables agree with the concrete relation.
    for (int o = 0; o <= static_cast<int>(CmpOp::Set); ++o) {
        const auto op = static_cast<CmpOp>(o);
        for (u64 x : {u64{0}, u64{1}, ~u64{0}, u64{0x80000000}}) {
            for (u64 y : {u64{0}, u64{1}, ~u64{0}, u64{0x80000000}}) {
                EXPECT_EQ(holds(swap_operands(op), false, y, x), holds(op, false, x, y));
                if (negate(op)) {
                    EXPECT_EQ(holds(*negate(op), false, x, y), !holds(op, false, x, y));
                }
            }
        }
    }
}

TEST(ScalarBranchPrecision, UnsignedLessThanConstant) {
    EXPECT_EQ(refined_a(CmpOp::Lt, false, true, Scalar::unknown(), c(10)).umax, 9u);
    const Scalar f = refined_a(CmpOp::Lt, false, false, Scalar::unknown(), c(10));
    EXPECT_EQ(f.umin, 10u);
    EXPECT_EQ(f.umax, ~u64{0});
    EXPECT_EQ(branch_taken(CmpOp::Lt, false, Scalar::unsigned_range(0, 9), c(10)), 1);
    EXPECT_EQ(branch_taken(CmpOp::Lt, false, Scalar::unsigned_range(10, 20), c(10)), 0);
    EXPECT_EQ(branch_taken(CmpOp::Lt, false, Scalar::unsigned_range(5, 20), c(10)), -1);
    EXPECT_FALSE(refine_branch(CmpOp::Lt, false, true, Scalar::unsigned_range(10, 20), c(5)).has_value());
    EXPECT_FALSE(refine_branch(CmpOp::Lt, false, true, Scalar::unknown(), c(0)).has_value()) << "x < 0 unsigned";
}

TEST(ScalarBranchPrecision, SignedGreaterThan) {
    const Scalar t = refined_a(CmpOp::Sgt, false, true, Scalar::unknown(), c(5));
    EXPECT_EQ(t.smin, 6);
    EXPECT_EQ(t.umin, 6u) << "positive, so unsigned too";
    EXPECT_EQ(t.umax, static_cast<u64>(INT64_MAX));
    const Scalar neg = refined_a(CmpOp::Sle, false, true, Scalar::unknown(), c(~u64{0}));
    EXPECT_EQ(neg.smax, -1);
    EXPECT_EQ(neg.umin, 0x8000000000000000u);
}

TEST(ScalarBranchPrecision, BothSidesOfARegisterCompare) {
    const auto r = refine_branch(CmpOp::Lt, false, true, Scalar::unsigned_range(5, 50), Scalar::unsigned_range(0, 20));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->first.umax, 19u);
    EXPECT_EQ(r->second.umin, 6u);
}

TEST(ScalarBranchPrecision, Jmp32BoundsTheLowHalf) {
    const Scalar w = refined_a(CmpOp::Lt, true, true, Scalar::unknown(), c(100));
    EXPECT_EQ(w.u32_max, 99u);
    EXPECT_EQ(w.umax, 0xffffffff00000063u) << "upper half unknown: the largest value whose low half is 99";
    const Scalar z = refined_a(CmpOp::Lt, true, true, Scalar::of_size(4), c(100));
    EXPECT_EQ(z.umax, 99u) << "a zero-extended value learns the 64-bit bound too";
    const Scalar hi = refined_a(CmpOp::Gt, true, true, Scalar::unsigned_range(0x100000000, 0x1ffffffff), c(10));
    EXPECT_EQ(hi.umin, 0x10000000bu);
    const Scalar eq = refined_a(CmpOp::Eq, true, true, Scalar::unknown(), c(5));
    EXPECT_TRUE(eq.is_const32());
    EXPECT_FALSE(eq.is_const());
    EXPECT_EQ(eq.u32_min, 5u);
    EXPECT_EQ(eq.var_off, (Tnum{5, 0xffffffff00000000}));
}

TEST(ScalarBranchPrecision, Equality) {
    EXPECT_EQ(refined_a(CmpOp::Eq, false, true, Scalar::unknown(), c(5)), c(5));
    const Scalar even = scalar_alu(AluOp::And, true, Scalar::unknown(), c(~u64{1}));
    EXPECT_EQ(branch_taken(CmpOp::Eq, false, even, c(3)), 0) << "an even value never equals 3";
    EXPECT_EQ(branch_taken(CmpOp::Ne, false, even, c(3)), 1);
    EXPECT_EQ(refined_a(CmpOp::Ne, false, true, Scalar::unsigned_range(0, 10), c(0)).umin, 1u);
    EXPECT_EQ(refined_a(CmpOp::Ne, false, true, Scalar::unsigned_range(0, 10), c(10)).umax, 9u);
    EXPECT_EQ(refined_a(CmpOp::Ne, false, true, c(0).join(c(8)), c(0)), c(8)) << "one unknown bit settles";
}

TEST(ScalarBranchPrecision, Jset) {
    EXPECT_EQ(branch_taken(CmpOp::Set, false, c(1).join(c(3)), c(1)), 1);
    EXPECT_EQ(branch_taken(CmpOp::Set, false, Scalar::unsigned_range(0, 7), c(8)), 0);
    const Scalar t = refined_a(CmpOp::Set, false, true, Scalar::unsigned_range(0, 7), c(4));
    EXPECT_EQ(t.var_off, (Tnum{4, 3}));
    EXPECT_EQ(t.umin, 4u);
    const Scalar f = refined_a(CmpOp::Set, false, false, Scalar::unsigned_range(0, 7), c(4));
    EXPECT_EQ(f.var_off, (Tnum{0, 3}));
    EXPECT_EQ(f.umax, 3u);
    const Scalar nz = refined_a(CmpOp::Set, false, true, Scalar::unsigned_range(0, 100), Scalar::unknown());
    EXPECT_EQ(nz.umin, 1u) << "x & y != 0 implies x != 0";
}

}  // namespace
}  // namespace xbpf::verifier
