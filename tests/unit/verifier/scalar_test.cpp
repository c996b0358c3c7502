// Scalar: soundness of sync, join, the factories and every ALU and byte-order transfer function (checked on
// generated value sets: each concrete result of each pair of members must lie in the abstract result), then
// hand-derived precision cases.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "scalar_test_util.hpp"
#include "verifier/domains/scalar.hpp"
#include "verifier/domains/scalar_internal.hpp"

namespace xbpf::verifier {
namespace {

using namespace xbpf::verifier::testing;  // NOLINT(google-build-using-namespace)

// ---- concrete semantics (RFC 9669), written independently of the interpreter ----

u64 sdiv64(u64 x, u64 y) {
    if (y == 0) return 0;
    if (static_cast<s64>(y) == -1) return 0 - x;
    return static_cast<u64>(static_cast<s64>(x) / static_cast<s64>(y));
}
u64 smod64(u64 x, u64 y) {
    if (y == 0) return x;
    if (static_cast<s64>(y) == -1) return 0;
    return static_cast<u64>(static_cast<s64>(x) % static_cast<s64>(y));
}
u32 sdiv32(u32 x, u32 y) {
    if (y == 0) return 0;
    if (static_cast<s32>(y) == -1) return 0 - x;
    return static_cast<u32>(static_cast<s32>(x) / static_cast<s32>(y));
}
u32 smod32(u32 x, u32 y) {
    if (y == 0) return x;
    if (static_cast<s32>(y) == -1) return 0;
    return static_cast<u32>(static_cast<s32>(x) % static_cast<s32>(y));
}

u64 alu64(AluOp op, u64 x, u64 y) {
    switch (op) {
        case AluOp::Add: return x + y;
        case AluOp::Sub: return x - y;
        case AluOp::Mul: return x * y;
        case AluOp::Div: return y == 0 ? 0 : x / y;
        case AluOp::SDiv: return sdiv64(x, y);
        case AluOp::Mod: return y == 0 ? x : x % y;
        case AluOp::SMod: return smod64(x, y);
        case AluOp::Or: return x | y;
        case AluOp::And: return x & y;
        case AluOp::Lsh: return x << (y & 63);
        case AluOp::Rsh: return x >> (y & 63);
        case AluOp::Arsh: return static_cast<u64>(static_cast<s64>(x) >> (y & 63));
        case AluOp::Xor: return x ^ y;
        case AluOp::Mov: return y;
        case AluOp::MovSx8: return static_cast<u64>(static_cast<s64>(static_cast<std::int8_t>(y)));
        case AluOp::MovSx16: return static_cast<u64>(static_cast<s64>(static_cast<std::int16_t>(y)));
        case AluOp::MovSx32: return static_cast<u64>(static_cast<s64>(static_cast<s32>(y)));
        case AluOp::Neg: return 0 - x;
    }
    return 0;
}

u64 alu32(AluOp op, u64 x64, u64 y64) {
    const auto x = static_cast<u32>(x64);
    const auto y = static_cast<u32>(y64);
    switch (op) {
        case AluOp::Add: return u32{x + y};
        case AluOp::Sub: return u32{x - y};
        case AluOp::Mul: return u32{x * y};
        case AluOp::Div: return y == 0 ? 0 : x / y;
        case AluOp::SDiv: return sdiv32(x, y);
        case AluOp::Mod: return y == 0 ? x : x % y;
        case AluOp::SMod: return smod32(x, y);
        case AluOp::Or: return x | y;
        case AluOp::And: return x & y;
        case AluOp::Lsh: return u32{x << (y & 31)};
        case AluOp::Rsh: return x >> (y & 31);
        case AluOp::Arsh: return static_cast<u32>(static_cast<s32>(x) >> (y & 31));
        case AluOp::Xor: return x ^ y;
        case AluOp::Mov: return y;
        case AluOp::MovSx8: return static_cast<u32>(static_cast<s32>(static_cast<std::int8_t>(y)));
        case AluOp::MovSx16: return static_cast<u32>(static_cast<s32>(static_cast<std::int16_t>(y)));
        case AluOp::MovSx32: return y;  // sign-extending 32 bits into 32 bits: documented as plain mov32
        case AluOp::Neg: return u32{0 - x};
    }
    return 0;
}

const char* op_name(AluOp op) {
    switch (op) {
        case AluOp::Add: return "Add";
        case AluOp::Sub: return "Sub";
        case AluOp::Mul: return "Mul";
        case AluOp::Div: return "Div";
        case AluOp::SDiv: return "SDiv";
        case AluOp::Mod: return "Mod";
        case AluOp::SMod: return "SMod";
        case AluOp::Or: return "Or";
        case AluOp::And: return "And";
        case AluOp::Lsh: return "Lsh";
        case AluOp::Rsh: return "Rsh";
        case AluOp::Arsh: return "Arsh";
        case AluOp::Xor: return "Xor";
        case AluOp::Mov: return "Mov";
        case AluOp::MovSx8: return "MovSx8";
        case AluOp::MovSx16: return "MovSx16";
        case AluOp::MovSx32: return "MovSx32";
        case AluOp::Neg: return "Neg";
    }
    return "?";
}

// ---- soundness: ALU ----

struct AluCase {
    AluOp op;
    bool is64;
};

void PrintTo(const AluCase& c, std::ostream* os) { *os << op_name(c.op) << (c.is64 ? "64" : "32"); }

std::string case_name(const ::testing::TestParamInfo<AluCase>& info) {
    return std::string(op_name(info.param.op)) + (info.param.is64 ? "64" : "32");
}

class ScalarAluSoundness : public ::testing::TestWithParam<AluCase> {};

TEST_P(ScalarAluSoundness, EveryConcreteResultIsContained) {
    const auto [op, is64] = GetParam();
    SetGen gen(0x5eed0000 + static_cast<u64>(op) * 2 + (is64 ? 1 : 0));
    std::size_t checked = 0;
    for (int iter = 0; iter < 150; ++iter) {
        const std::vector<u64> xs = gen.set();
        const std::vector<u64> ys = gen.set();
        for (const Scalar& a : abstractions_with_low32(xs)) {
            const std::vector<u64> xm = members(a, xs, gen);
            for (const Scalar& b : abstractions_with_low32(ys)) {
                const std::vector<u64> ym = members(b, ys, gen);
                const Scalar r = scalar_alu(op, is64, a, b);
                for (u64 x : xm) {
                    for (u64 y : ym) {
                        const u64 z = is64 ? alu64(op, x, y) : alu32(op, x, y);
                        ++checked;
                        if (!r.contains(z)) {
                            FAIL() << op_name(op) << (is64 ? "64" : "32") << ": " << x << " op " << y << " = " << z
                                   << " not in " << dump(r) << "\n  dst " << dump(a) << "\n  src " << dump(b);
                        }
                    }
                }
            }
        }
    }
    EXPECT_GT(checked, 10000u);
}

std::vector<AluCase> all_alu_cases() {
    std::vector<AluCase> out;
    for (int op = 0; op <= static_cast<int>(AluOp::Neg); ++op) {
        out.push_back({static_cast<AluOp>(op), true});
        out.push_back({static_cast<AluOp>(op), false});
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(ScalarEveryAluOp, ScalarAluSoundness, ::testing::ValuesIn(all_alu_cases()), case_name);

// ---- soundness: byte order, sync, join, includes, factories ----

TEST(ScalarEndianSoundness, EveryConcreteResultIsContained) {
    SetGen gen(0xe4d1a4);
    for (int iter = 0; iter < 300; ++iter) {
        const std::vector<u64> xs = gen.set();
        for (const Scalar& a : abstractions_with_low32(xs)) {
            const std::vector<u64> xm = members(a, xs, gen);
            for (EndianOp op : {EndianOp::ToLe, EndianOp::ToBe, EndianOp::Swap}) {
                for (std::uint8_t width : {16, 32, 64}) {
                    const Scalar r = scalar_endian(op, width, a);
                    for (u64 x : xm) {
                        u64 z = 0;
                        if (op == EndianOp::ToLe) {
                            z = width == 64 ? x : x & ((u64{1} << width) - 1);
                        } else {
                            z = width == 16   ? __builtin_bswap16(static_cast<std::uint16_t>(x))
                                : width == 32 ? __builtin_bswap32(static_cast<u32>(x))
                                              : __builtin_bswap64(x);
                        }
                        ASSERT_TRUE(r.contains(z))
                            << "endian op " << static_cast<int>(op) << " width " << int{width} << " of " << x << " = "
                            << z << " not in " << dump(r) << " from " << dump(a);
                    }
                }
            }
        }
    }
}

/// A Scalar with every view loosened at random around the exact bounds of `values`, not yet synced.
Scalar loose_constraints(const std::vector<u64>& values, SetGen& gen) {
    Scalar s = join_of(values);  // exact bounds of the set, tnum = hull
    auto slack = [&]() { return gen.next() % 4 == 0 ? gen.next() : gen.next() % 3; };
    auto pick = [&]() { return gen.next() % 3 == 0; };
    if (pick()) s.var_off = tnum_union(s.var_off, Tnum{0, gen.next() & gen.next()});
    if (pick()) {
        const u64 d = slack();
        s.umin = s.umin >= d ? s.umin - d : 0;
    }
    if (pick()) {
        const u64 d = slack();
        s.umax = s.umax <= ~d ? s.umax + d : ~u64{0};
    }
    if (pick()) s.smin = s.smin >= INT64_MIN + 1000 ? s.smin - static_cast<s64>(gen.next() % 1000) : INT64_MIN;
    if (pick()) s.smax = s.smax <= INT64_MAX - 1000 ? s.smax + static_cast<s64>(gen.next() % 1000) : INT64_MAX;
    if (pick()) s.u32_min = 0;
    if (pick()) s.u32_max = UINT32_MAX;
    if (pick()) s.s32_min = INT32_MIN;
    if (pick()) s.s32_max = INT32_MAX;
    if (pick()) s.umin = 0;
    if (pick()) s.umax = ~u64{0};
    if (pick()) s.smin = INT64_MIN;
    if (pick()) s.smax = INT64_MAX;
    return s;
}

TEST(ScalarSyncSoundness, KeepsEveryMemberAndNeverReportsEmpty) {
    SetGen gen(0x5c);
    int idempotent = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        const std::vector<u64> xs = gen.set();
        const Scalar before = loose_constraints(xs, gen);
        for (u64 x : xs) ASSERT_TRUE(before.contains(x));
        Scalar s = before;
        ASSERT_TRUE(detail::sync_checked(s)) << dump(before) << " holds " << show(xs);
        for (u64 x : xs) ASSERT_TRUE(s.contains(x)) << x << " lost by sync: " << dump(before) << " -> " << dump(s);
        Scalar again = s;
        again.sync();
        idempotent += again == s ? 1 : 0;
    }
    EXPECT_EQ(idempotent, 20000) << "sync should reach a fixed point";
}

TEST(ScalarSyncSoundness, ReportsContradictionsAsEmpty) {
    Scalar s = Scalar::unknown();
    s.umin = 10;
    s.umax = 5;
    EXPECT_FALSE(detail::sync_checked(s));
    s = Scalar::unknown();
    s.var_off = Tnum{0, 2};  // {0, 2}
    s.umin = 1;
    s.umax = 1;
    EXPECT_FALSE(detail::sync_checked(s)) << "tnum and range share no value";
    s = Scalar::unknown();
    s.smin = -5;
    s.smax = -1;
    s.u32_min = 0;
    s.u32_max = 100;  // negative 64-bit values near 0 have low halves >= 0xfffffffb
    EXPECT_FALSE(detail::sync_checked(s));
}

TEST(ScalarLatticeSoundness, JoinAndIncludes) {
    SetGen gen(0x701);
    for (int iter = 0; iter < 3000; ++iter) {
        const std::vector<u64> xs = gen.set();
        const std::vector<u64> ys = gen.set();
        const auto as = abstractions_with_low32(xs);
        const auto bs = abstractions_with_low32(ys);
        for (const Scalar& a : as) {
            for (u64 x : xs) ASSERT_TRUE(a.contains(x)) << "abstraction of " << show(xs) << " = " << dump(a);
            for (const Scalar& b : bs) {
                const Scalar j = a.join(b);
                for (u64 x : members(a, xs, gen)) ASSERT_TRUE(j.contains(x));
                for (u64 y : members(b, ys, gen)) ASSERT_TRUE(j.contains(y));
                if (a.includes(b)) {
                    for (u64 y : members(b, ys, gen)) ASSERT_TRUE(a.contains(y)) << dump(a) << " includes " << dump(b);
                }
            }
        }
    }
}

TEST(ScalarFactorySoundness, OfSize) {
    for (std::uint8_t bytes : {1, 2}) {
        const Scalar u = Scalar::of_size(bytes);
        const Scalar s = Scalar::of_size(bytes, true);
        const unsigned bits = bytes * 8U;
        for (u64 v = 0; v < (u64{1} << bits); ++v) {
            ASSERT_TRUE(u.contains(v)) << v;
            const s64 sv = static_cast<s64>(v << (64 - bits)) >> (64 - bits);
            ASSERT_TRUE(s.contains(static_cast<u64>(sv))) << sv;
        }
        EXPECT_FALSE(u.contains(u64{1} << bits));
        EXPECT_FALSE(s.contains(u64{1} << (bits - 1)));
    }
    SetGen gen(0x0f);
    for (int i = 0; i < 10000; ++i) {
        const u64 v = gen.value();
        ASSERT_TRUE(Scalar::of_size(4).contains(v & 0xffffffff));
        ASSERT_TRUE(Scalar::of_size(4, true).contains(static_cast<u64>(static_cast<s64>(static_cast<s32>(v)))));
        ASSERT_TRUE(Scalar::of_size(8).contains(v));
        ASSERT_TRUE(Scalar::of_size(8, true).contains(v));
    }
}

TEST(ScalarRobustness, ArbitraryFieldsNeverTrap) {
    // Unsynced, possibly contradictory Scalars (as a buggy caller might pass): no operation may trap or hit
    // undefined behaviour (run under UBSan in CI). Results are not checked: there may be no concrete value.
    SetGen gen(0xbad);
    auto random_scalar = [&]() {
        Scalar s;
        s.var_off = Tnum{gen.value(), 0};
        s.var_off.mask = gen.next() % 2 == 0 ? gen.value() & ~s.var_off.value : 0;
        s.smin = static_cast<s64>(gen.value());
        s.smax = static_cast<s64>(gen.value());
        s.umin = gen.value();
        s.umax = gen.value();
        s.s32_min = static_cast<s32>(gen.value());
        s.s32_max = static_cast<s32>(gen.value());
        s.u32_min = static_cast<u32>(gen.value());
        s.u32_max = static_cast<u32>(gen.value());
        return s;
    };
    std::size_t live = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        const Scalar a = random_scalar();
        const Scalar b = random_scalar();
        for (int op = 0; op <= static_cast<int>(AluOp::Neg); ++op) {
            live += scalar_alu(static_cast<AluOp>(op), iter % 2 == 0, a, b).is_const() ? 1 : 0;
        }
        for (int op = 0; op <= static_cast<int>(CmpOp::Set); ++op) {
            live += branch_taken(static_cast<CmpOp>(op), iter % 2 == 0, a, b) == 1 ? 1 : 0;
            live += refine_branch(static_cast<CmpOp>(op), iter % 2 == 0, iter % 3 == 0, a, b) ? 1 : 0;
        }
        live += scalar_endian(EndianOp::ToLe, 16, a).is_const() ? 1 : 0;
        live += a.join(b).to_string().size() + a.to_string().size();
        Scalar s = a;
        s.sync();
    }
    EXPECT_GT(live, 0u);
}

// ---- precision: hand-derived ----

Scalar c(u64 v) { return Scalar::constant(v); }
Scalar alu(AluOp op, const Scalar& a, const Scalar& b) { return scalar_alu(op, true, a, b); }
Scalar alu_w(AluOp op, const Scalar& a, const Scalar& b) { return scalar_alu(op, false, a, b); }

TEST(ScalarPrecision, ConstantFolding64) {
    EXPECT_EQ(alu(AluOp::Add, c(3), c(4)), c(7));
    EXPECT_EQ(alu(AluOp::Sub, c(0), c(1)), c(~u64{0}));
    EXPECT_EQ(alu(AluOp::Mul, c(6), c(7)), c(42));
    EXPECT_EQ(alu(AluOp::Mul, c(0x100000000), c(0x100000000)), c(0)) << "wraps";
    EXPECT_EQ(alu(AluOp::Div, c(100), c(7)), c(14));
    EXPECT_EQ(alu(AluOp::Div, c(100), c(0)), c(0)) << "RFC 9669: x / 0 = 0";
    EXPECT_EQ(alu(AluOp::Mod, c(100), c(7)), c(2));
    EXPECT_EQ(alu(AluOp::Mod, c(100), c(0)), c(100)) << "RFC 9669: x % 0 = x";
    EXPECT_EQ(alu(AluOp::SDiv, c(static_cast<u64>(-7)), c(2)), c(static_cast<u64>(-3)));
    EXPECT_EQ(alu(AluOp::SDiv, c(0x8000000000000000), c(~u64{0})), c(0x8000000000000000)) << "S64_MIN / -1";
    EXPECT_EQ(alu(AluOp::SMod, c(static_cast<u64>(-7)), c(2)), c(static_cast<u64>(-1)));
    EXPECT_EQ(alu(AluOp::SMod, c(0x8000000000000000), c(~u64{0})), c(0)) << "S64_MIN % -1";
    EXPECT_EQ(alu(AluOp::SMod, c(9), c(0)), c(9));
    EXPECT_EQ(alu(AluOp::And, c(0xf0), c(0x3c)), c(0x30));
    EXPECT_EQ(alu(AluOp::Or, c(0xf0), c(0x0f)), c(0xff));
    EXPECT_EQ(alu(AluOp::Xor, c(0xff), c(0x0f)), c(0xf0));
    EXPECT_EQ(alu(AluOp::Lsh, c(1), c(65)), c(2)) << "amount masked to 65 & 63";
    EXPECT_EQ(alu(AluOp::Rsh, c(0x80), c(4)), c(8));
    EXPECT_EQ(alu(AluOp::Arsh, c(static_cast<u64>(-16)), c(2)), c(static_cast<u64>(-4)));
    EXPECT_EQ(alu(AluOp::Neg, c(5), c(0)), c(static_cast<u64>(-5)));
    EXPECT_EQ(alu(AluOp::MovSx8, c(0), c(0x80)), c(static_cast<u64>(-128)));
    EXPECT_EQ(alu(AluOp::MovSx32, c(0), c(0x1ffffffff)), c(~u64{0}));
}

TEST(ScalarPrecision, ConstantFolding32ZeroExtends) {
    EXPECT_EQ(alu_w(AluOp::Add, c(0xffffffff), c(1)), c(0));
    EXPECT_EQ(alu_w(AluOp::Mov, c(0), c(~u64{0})), c(0xffffffff));
    EXPECT_EQ(alu_w(AluOp::Sub, c(0x100000000), c(1)), c(0xffffffff)) << "only the low halves take part";
    EXPECT_EQ(alu_w(AluOp::MovSx8, c(0), c(0x80)), c(0xffffff80));
    EXPECT_EQ(alu_w(AluOp::SDiv, c(0x80000000), c(0xffffffff)), c(0x80000000)) << "S32_MIN / -1";
    EXPECT_EQ(alu_w(AluOp::Lsh, c(1), c(33)), c(2)) << "amount masked to 33 & 31";
    EXPECT_EQ(alu_w(AluOp::Arsh, c(0x80000000), c(31)), c(0xffffffff));
    EXPECT_EQ(alu_w(AluOp::Neg, c(1), c(0)), c(0xffffffff));
}

TEST(ScalarPrecision, AndWithMaskBoundsTheResult) {
    const Scalar r = alu(AluOp::And, Scalar::unknown(), c(0xff));
    EXPECT_EQ(r.umin, 0u);
    EXPECT_EQ(r.umax, 255u);
    EXPECT_EQ(r.smin, 0);
    EXPECT_EQ(r.smax, 255);
    EXPECT_EQ(r.u32_max, 255u);
    EXPECT_EQ(r.var_off, (Tnum{0, 0xff}));
    EXPECT_EQ(r.to_string(), "scalar(var_off=(0x0; 0xff))");
}

TEST(ScalarPrecision, AddOfRanges) {
    const Scalar a = Scalar::unsigned_range(0, 100);
    const Scalar r = alu(AluOp::Add, a, a);
    EXPECT_EQ(r.umin, 0u);
    EXPECT_EQ(r.umax, 200u);
    EXPECT_EQ(r.smin, 0);
    EXPECT_EQ(r.smax, 200);
    // An add that overflows as a whole stays a range: [2^64 - 2, 2^64 - 1] + 2 = [0, 1].
    const Scalar w = alu(AluOp::Add, Scalar::unsigned_range(~u64{0} - 1, ~u64{0}), c(2));
    EXPECT_EQ(w.umin, 0u);
    EXPECT_EQ(w.umax, 1u);
}

TEST(ScalarPrecision, SubAndNegOfRanges) {
    const Scalar r = alu(AluOp::Sub, Scalar::unsigned_range(10, 20), Scalar::unsigned_range(0, 5));
    EXPECT_EQ(r.umin, 5u);
    EXPECT_EQ(r.umax, 20u);
    const Scalar n = alu(AluOp::Neg, Scalar::unsigned_range(1, 5), c(0));
    EXPECT_EQ(n.smin, -5);
    EXPECT_EQ(n.smax, -1);
    EXPECT_EQ(n.umin, static_cast<u64>(-5));
}

TEST(ScalarPrecision, MulOfRanges) {
    const Scalar u = alu(AluOp::Mul, Scalar::unsigned_range(0, 10), Scalar::unsigned_range(3, 10));
    EXPECT_EQ(u.umin, 0u);
    EXPECT_EQ(u.umax, 100u);
    // Signed corners: -3 * 4 = -12 and -3 * -5 = 15.
    const Scalar s = alu(AluOp::Mul, Scalar::signed_range(-3, 2), Scalar::signed_range(-5, 4));
    EXPECT_EQ(s.smin, -12);
    EXPECT_EQ(s.smax, 15);
}

TEST(ScalarPrecision, Shifts) {
    const Scalar l = alu(AluOp::Lsh, Scalar::unsigned_range(0, 15), c(4));
    EXPECT_EQ(l.umax, 240u);
    EXPECT_EQ(l.var_off, (Tnum{0, 0xf0}));
    const Scalar r = alu(AluOp::Rsh, Scalar::unknown(), c(60));
    EXPECT_EQ(r.umax, 15u);
    EXPECT_EQ(r.smin, 0);
    const Scalar a = alu(AluOp::Arsh, Scalar::signed_range(-16, 15), c(2));
    EXPECT_EQ(a.smin, -4);
    EXPECT_EQ(a.smax, 3);
    // A variable amount below the width: [1, 3] << [0, 2] = [1, 12], even values not guaranteed.
    const Scalar v = alu(AluOp::Lsh, Scalar::unsigned_range(1, 3), Scalar::unsigned_range(0, 2));
    EXPECT_EQ(v.umin, 1u);
    EXPECT_EQ(v.umax, 12u);
    // The classic sign-extension idiom: (x << 32) s>> 32 for x in [0, 100].
    const Scalar idiom = alu(AluOp::Arsh, alu(AluOp::Lsh, Scalar::unsigned_range(0, 100), c(32)), c(32));
    EXPECT_EQ(idiom.smin, 0);
    EXPECT_EQ(idiom.smax, 100);
    // Only the low half matters to << 32: a JMP32-bounded value, upper half unknown, s32 in [-5, 100].
    Scalar low = Scalar::unknown();
    low.s32_min = -5;
    low.s32_max = 100;
    low.sync();
    const Scalar up = alu(AluOp::Lsh, low, c(32));
    EXPECT_EQ(up.smin, -(s64{5} << 32));
    EXPECT_EQ(up.smax, s64{100} << 32);
    const Scalar back = alu(AluOp::Arsh, up, c(32));
    EXPECT_EQ(back.smin, -5);
    EXPECT_EQ(back.smax, 100);
}

TEST(ScalarPrecision, DivisionAndModulo) {
    const Scalar d = alu(AluOp::Div, Scalar::unsigned_range(100, 200), c(10));
    EXPECT_EQ(d.umin, 10u);
    EXPECT_EQ(d.umax, 20u);
    const Scalar d16 = alu(AluOp::Div, Scalar::unknown(), c(16));
    EXPECT_EQ(d16.umax, ~u64{0} >> 4);
    const Scalar m = alu(AluOp::Mod, Scalar::unknown(), c(10));
    EXPECT_EQ(m.umin, 0u);
    EXPECT_EQ(m.umax, 9u);
    const Scalar small = alu(AluOp::Mod, Scalar::unsigned_range(0, 5), c(10));
    EXPECT_EQ(small, Scalar::unsigned_range(0, 5)) << "x % 10 == x for x < 10";
    const Scalar maybe_zero = alu(AluOp::Mod, Scalar::unsigned_range(50, 60), Scalar::unsigned_range(0, 7));
    EXPECT_EQ(maybe_zero.umax, 60u) << "a zero divisor keeps the dividend";
    const Scalar sd = alu(AluOp::SDiv, Scalar::signed_range(-100, -50), c(10));
    EXPECT_EQ(sd.smin, -10);
    EXPECT_EQ(sd.smax, -5);
    const Scalar sm = alu(AluOp::SMod, Scalar::signed_range(-100, 100), c(10));
    EXPECT_EQ(sm.smin, -9);
    EXPECT_EQ(sm.smax, 9);
    const Scalar sm_pos = alu(AluOp::SMod, Scalar::signed_range(0, 100), c(static_cast<u64>(-7)));
    EXPECT_EQ(sm_pos.smin, 0) << "the result has the dividend's sign";
    EXPECT_EQ(sm_pos.smax, 6);
}

TEST(ScalarPrecision, Alu32OnWideValues) {
    // The 32-bit add sees only low halves and zero-extends: [0x1'0000'0000, 0x1'0000'0010] + 1 = [1, 0x11].
    const Scalar r = alu_w(AluOp::Add, Scalar::unsigned_range(0x100000000, 0x100000010), c(1));
    EXPECT_EQ(r.umin, 1u);
    EXPECT_EQ(r.umax, 0x11u);
    // A 64-bit add keeps 32-bit bounds too: low halves of [0, 10] + 0x1'0000'0000 stay [0, 10].
    const Scalar w = alu(AluOp::Add, Scalar::unsigned_range(0, 10), c(0x100000000));
    EXPECT_EQ(w.u32_min, 0u);
    EXPECT_EQ(w.u32_max, 10u);
    EXPECT_EQ(w.umin, 0x100000000u);
}

TEST(ScalarPrecision, SignExtensionAndTruncation) {
    const Scalar sx = alu(AluOp::MovSx8, c(0), Scalar::unsigned_range(0, 0xff));
    EXPECT_EQ(sx.smin, -128);
    EXPECT_EQ(sx.smax, 127);
    const Scalar keep = alu(AluOp::MovSx16, c(0), Scalar::unsigned_range(0, 100));
    EXPECT_EQ(keep, Scalar::unsigned_range(0, 100)) << "no sign bit: movsx is a copy";
    const Scalar sx32 = alu_w(AluOp::MovSx16, c(0), Scalar::signed_range(-1, 0));
    EXPECT_EQ(sx32.umin, 0u);
    EXPECT_EQ(sx32.umax, 0xffffffffu);
    EXPECT_TRUE(sx32.contains(0) && sx32.contains(0xffffffff));
    EXPECT_EQ(scalar_endian(EndianOp::ToLe, 16, c(0x12345678)), c(0x5678));
    EXPECT_EQ(scalar_endian(EndianOp::ToBe, 16, c(0x12345678)), c(0x7856));
    EXPECT_EQ(scalar_endian(EndianOp::Swap, 64, c(0x0102030405060708)), c(0x0807060504030201));
    const Scalar le = scalar_endian(EndianOp::ToLe, 32, Scalar::unsigned_range(0x100000005, 0x100000009));
    EXPECT_EQ(le.umin, 5u);
    EXPECT_EQ(le.umax, 9u);
}

TEST(ScalarPrecision, FactoriesAndSync) {
    const Scalar u8 = Scalar::of_size(1);
    EXPECT_EQ(u8.umax, 255u);
    EXPECT_EQ(u8.smin, 0);
    EXPECT_EQ(u8.var_off, (Tnum{0, 0xff}));
    const Scalar s16 = Scalar::of_size(2, true);
    EXPECT_EQ(s16.smin, -32768);
    EXPECT_EQ(s16.smax, 32767);
    EXPECT_EQ(s16.s32_min, -32768);
    EXPECT_EQ(Scalar::of_size(8), Scalar::unknown());
    // A non-negative signed range is the same unsigned range.
    const Scalar nn = Scalar::signed_range(0, 1000);
    EXPECT_EQ(nn.umin, 0u);
    EXPECT_EQ(nn.umax, 1000u);
    EXPECT_EQ(nn.u32_max, 1000u);
    // A negative one too: -3..-1 is 0xff..fd..0xff..ff unsigned, and its low halves are s32 -3..-1.
    const Scalar neg = Scalar::signed_range(-3, -1);
    EXPECT_EQ(neg.umin, static_cast<u64>(-3));
    EXPECT_EQ(neg.umax, ~u64{0});
    EXPECT_EQ(neg.s32_min, -3);
    EXPECT_EQ(neg.s32_max, -1);
    // Known-zero upper half from a u32 range that fits: umax follows.
    Scalar low = Scalar::unknown();
    low.umax = 0xffffffff;
    low.u32_max = 10;
    low.sync();
    EXPECT_EQ(low.umax, 10u);
    // Crossing the upper halves: umin 0x1'0000'0005 with low halves in [0, 3] means at least 0x2'0000'0000.
    Scalar mixed = Scalar::unsigned_range(0x100000005, 0x300000000);
    mixed.u32_max = 3;
    mixed.sync();
    EXPECT_EQ(mixed.umin, 0x200000000u);
    EXPECT_EQ(mixed.umax, 0x300000000u);
}

TEST(ScalarPrecision, JoinIncludesAndContains) {
    const Scalar j = c(1).join(c(3));
    EXPECT_EQ(j.var_off, (Tnum{1, 2}));
    EXPECT_EQ(j.umin, 1u);
    EXPECT_EQ(j.umax, 3u);
    EXPECT_TRUE(j.contains(1) && j.contains(3));
    EXPECT_FALSE(j.contains(2)) << "the tnum {1, 3} excludes 2";
    EXPECT_TRUE(Scalar::unsigned_range(0, 10).includes(Scalar::unsigned_range(2, 5)));
    EXPECT_FALSE(Scalar::unsigned_range(2, 5).includes(Scalar::unsigned_range(0, 10)));
    EXPECT_TRUE(Scalar::unknown().includes(c(42)));
    EXPECT_FALSE(c(42).includes(Scalar::unknown()));
    EXPECT_TRUE(c(7).is_const32());
    EXPECT_TRUE(Scalar::unsigned_range(0x100000007, 0x200000007).contains(0x100000007));
}

TEST(ScalarPrecision, LogText) {
    EXPECT_EQ(c(5).to_string(), "5");
    EXPECT_EQ(c(static_cast<u64>(-3)).to_string(), "-3");
    EXPECT_EQ(c(0x10000).to_string(), "0x10000");
    EXPECT_EQ(Scalar::unknown().to_string(), "scalar()");
    EXPECT_EQ(Scalar::unsigned_range(0, 100).to_string(), "scalar(smax=umax=smax32=umax32=100,var_off=(0x0; 0x7f))");
    EXPECT_EQ(Scalar::signed_range(-8, 7).to_string(), "scalar(smin=smin32=-8,smax=smax32=7)");
    EXPECT_EQ(Scalar::unsigned_range(1, 0x100000000).to_string(),
              "scalar(smin=umin=1,smax=umax=0x100000000,var_off=(0x0; 0x1ffffffff))");
}

}  // namespace
}  // namespace xbpf::verifier
