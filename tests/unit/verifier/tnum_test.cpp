// Tnum operations: soundness checked exhaustively (every tnum with 4 trits in a window and fixed other bits, every
// concrete member, every pair), optimality where the operation is known to be optimal, and hand-derived cases.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "verifier/domains/tnum.hpp"

namespace xbpf::verifier {
namespace {

using u64 = std::uint64_t;
using s64 = std::int64_t;
using u32 = std::uint32_t;
using s32 = std::int32_t;

/// A tnum and all its members (at most 16: only the 4 window bits may be unknown).
struct Sample {
    Tnum t;
    std::vector<u64> values;
};

std::vector<u64> concretize(Tnum t) {
    std::vector<u64> out;
    u64 sub = 0;
    do {
        out.push_back(t.value | sub);
        sub = (sub - t.mask) & t.mask;  // next subset of the mask
    } while (sub != 0);
    return out;
}

/// The 81 tnums whose bits [pos, pos + 4) are each 0, 1 or unknown and whose other bits are those of `fill`.
std::vector<Sample> samples(unsigned pos, u64 fill) {
    std::vector<Sample> out;
    const u64 window = u64{0xf} << pos;
    for (int i = 0; i < 81; ++i) {
        u64 value = fill & ~window;
        u64 mask = 0;
        int code = i;
        for (unsigned bit = 0; bit < 4; ++bit, code /= 3) {
            const u64 b = u64{1} << (pos + bit);
            if (code % 3 == 1) value |= b;
            if (code % 3 == 2) mask |= b;
        }
        const Tnum t{value, mask};
        out.push_back({t, concretize(t)});
    }
    return out;
}

/// Windows: low bits, across the 32-bit boundary, the top bits. Fills: zeros, ones, sign bit, bit 31, bit 32.
constexpr std::array<unsigned, 3> kWindows = {0, 30, 60};
constexpr std::array<u64, 5> kFills = {0, ~u64{0}, u64{1} << 63, u64{1} << 31, u64{1} << 32};

Tnum hull(const std::vector<u64>& values) {
    Tnum h = Tnum::constant(values.front());
    for (u64 v : values) h = tnum_union(h, Tnum::constant(v));
    return h;
}

using BinTnum = std::function<Tnum(Tnum, Tnum)>;
using BinConcrete = std::function<u64(u64, u64)>;

/// Checks op over all pairs; if `optimal`, also that the result is the smallest tnum holding every result.
void check_binary(const char* name, const BinTnum& abs, const BinConcrete& conc, bool optimal) {
    std::vector<u64> results;
    for (unsigned pos : kWindows) {
        for (u64 fa : kFills) {
            const auto as = samples(pos, fa);
            for (u64 fb : kFills) {
                const auto bs = samples(pos, fb);
                for (const Sample& a : as) {
                    for (const Sample& b : bs) {
                        const Tnum r = abs(a.t, b.t);
                        ASSERT_EQ(r.value & r.mask, 0u) << name;
                        results.clear();
                        for (u64 x : a.values) {
                            for (u64 y : b.values) {
                                const u64 z = conc(x, y);
                                if (!r.contains(z)) {
                                    FAIL() << name << "(" << a.t.to_string() << ", " << b.t.to_string()
                                           << ") = " << r.to_string() << " misses " << x << " op " << y << " = " << z;
                                }
                                results.push_back(z);
                            }
                        }
                        if (optimal) {
                            ASSERT_EQ(r, hull(results))
                                << name << "(" << a.t.to_string() << ", " << b.t.to_string() << ") is not optimal";
                        }
                    }
                }
            }
        }
    }
}

TEST(TnumSoundness, Add) {
    check_binary(
        "add", tnum_add, [](u64 x, u64 y) { return x + y; }, true);
}

TEST(TnumSoundness, Sub) {
    check_binary(
        "sub", tnum_sub, [](u64 x, u64 y) { return x - y; }, true);
}

TEST(TnumSoundness, Mul) {
    check_binary(
        "mul", tnum_mul, [](u64 x, u64 y) { return x * y; }, false);
}

TEST(TnumSoundness, And) {
    check_binary(
        "and", tnum_and, [](u64 x, u64 y) { return x & y; }, true);
}

TEST(TnumSoundness, Or) {
    check_binary(
        "or", tnum_or, [](u64 x, u64 y) { return x | y; }, true);
}

TEST(TnumSoundness, Xor) {
    check_binary(
        "xor", tnum_xor, [](u64 x, u64 y) { return x ^ y; }, true);
}

TEST(TnumSoundness, WithSubreg) {
    check_binary(
        "with_subreg", tnum_with_subreg, [](u64 x, u64 y) { return (x & ~u64{0xffffffff}) | (y & 0xffffffff); }, true);
}

TEST(TnumSoundness, UnionHoldsBothAndIsOptimal) {
    for (unsigned pos : kWindows) {
        for (u64 fa : kFills) {
            const auto as = samples(pos, fa);
            for (u64 fb : kFills) {
                for (const Sample& a : as) {
                    for (const Sample& b : samples(pos, fb)) {
                        const Tnum u = tnum_union(a.t, b.t);
                        std::vector<u64> all = a.values;
                        all.insert(all.end(), b.values.begin(), b.values.end());
                        for (u64 x : all) ASSERT_TRUE(u.contains(x));
                        ASSERT_EQ(u, hull(all));
                        ASSERT_TRUE(u.includes(a.t));
                        ASSERT_TRUE(u.includes(b.t));
                    }
                }
            }
        }
    }
}

TEST(TnumSoundness, IntersectAndOverlaps) {
    // overlaps is exact; when true, intersect holds exactly the common values.
    for (unsigned pos : kWindows) {
        for (u64 fa : kFills) {
            const auto as = samples(pos, fa);
            for (u64 fb : kFills) {
                const auto bs = samples(pos, fb);
                for (const Sample& a : as) {
                    for (const Sample& b : bs) {
                        std::vector<u64> common;
                        for (u64 x : a.values) {
                            if (b.t.contains(x)) common.push_back(x);
                        }
                        ASSERT_EQ(tnum_overlaps(a.t, b.t), !common.empty());
                        if (common.empty()) continue;
                        const Tnum m = tnum_intersect(a.t, b.t);
                        ASSERT_EQ(concretize(m), common) << a.t.to_string() << " meet " << b.t.to_string();
                    }
                }
            }
        }
    }
}

/// Checks a unary op over every sample and every parameter in [0, max_param].
void check_unary(const char* name, const std::function<Tnum(Tnum, unsigned)>& abs,
                 const std::function<u64(u64, unsigned)>& conc, unsigned max_param, bool optimal) {
    std::vector<u64> results;
    for (unsigned pos : kWindows) {
        for (u64 fill : kFills) {
            for (const Sample& a : samples(pos, fill)) {
                for (unsigned p = 0; p <= max_param; ++p) {
                    const Tnum r = abs(a.t, p);
                    ASSERT_EQ(r.value & r.mask, 0u) << name;
                    results.clear();
                    for (u64 x : a.values) {
                        const u64 z = conc(x, p);
                        ASSERT_TRUE(r.contains(z)) << name << "(" << a.t.to_string() << ", " << p
                                                   << ") = " << r.to_string() << " misses " << z << " from " << x;
                        results.push_back(z);
                    }
                    if (optimal) {
                        ASSERT_EQ(r, hull(results)) << name << "(" << a.t.to_string() << ", " << p << ")";
                    }
                }
            }
        }
    }
}

TEST(TnumSoundness, Shifts) {
    check_unary(
        "lshift", [](Tnum t, unsigned k) { return tnum_lshift(t, static_cast<std::uint8_t>(k)); },
        [](u64 x, unsigned k) { return x << k; }, 63, true);
    check_unary(
        "rshift", [](Tnum t, unsigned k) { return tnum_rshift(t, static_cast<std::uint8_t>(k)); },
        [](u64 x, unsigned k) { return x >> k; }, 63, true);
    check_unary(
        "arshift64", [](Tnum t, unsigned k) { return tnum_arshift(t, static_cast<std::uint8_t>(k), 64); },
        [](u64 x, unsigned k) { return static_cast<u64>(static_cast<s64>(x) >> k); }, 63, true);
    check_unary(
        "arshift32", [](Tnum t, unsigned k) { return tnum_arshift(t, static_cast<std::uint8_t>(k), 32); },
        [](u64 x, unsigned k) { return u64{static_cast<u32>(static_cast<s32>(static_cast<u32>(x)) >> k)}; }, 31, true);
}

TEST(TnumSoundness, ShiftsPastTheWidth) {
    EXPECT_EQ(tnum_lshift(Tnum::unknown(), 64), Tnum::constant(0));
    EXPECT_EQ(tnum_rshift(Tnum::unknown(), 200), Tnum::constant(0));
    // Arithmetic shifts saturate at width - 1: every bit a copy of the sign bit.
    EXPECT_EQ(tnum_arshift(Tnum::constant(0x8000000000000000), 64, 64), Tnum::constant(~u64{0}));
    EXPECT_EQ(tnum_arshift(Tnum::constant(0x80000000), 40, 32), Tnum::constant(0xffffffff));
}

TEST(TnumSoundness, UnaryOps) {
    check_unary(
        "neg", [](Tnum t, unsigned) { return tnum_neg(t); }, [](u64 x, unsigned) { return 0 - x; }, 0, true);
    check_unary(
        "cast", [](Tnum t, unsigned size) { return tnum_cast(t, static_cast<std::uint8_t>(1U << size)); },
        [](u64 x, unsigned size) { return size == 3 ? x : x & ((u64{1} << (8U << size)) - 1); }, 3, true);
    check_unary(
        "subreg", [](Tnum t, unsigned) { return tnum_subreg(t); }, [](u64 x, unsigned) { return x & 0xffffffff; }, 0,
        true);
    check_unary(
        "clear_subreg", [](Tnum t, unsigned) { return tnum_clear_subreg(t); },
        [](u64 x, unsigned) { return x & ~u64{0xffffffff}; }, 0, true);
    check_unary(
        "const_subreg", [](Tnum t, unsigned) { return tnum_const_subreg(t, 0x12345678); },
        [](u64 x, unsigned) { return (x & ~u64{0xffffffff}) | 0x12345678; }, 0, true);
    check_unary(
        "bswap", [](Tnum t, unsigned w) { return tnum_bswap(t, static_cast<std::uint8_t>(16U << w)); },
        [](u64 x, unsigned w) -> u64 {
            switch (w) {
                case 0: return __builtin_bswap16(static_cast<std::uint16_t>(x));
                case 1: return __builtin_bswap32(static_cast<u32>(x));
                default: return __builtin_bswap64(x);
            }
        },
        2, true);
}

TEST(TnumSoundness, RangeHoldsEveryValueAndIsOptimal) {
    const u64 points[] = {0,
                          1,
                          2,
                          5,
                          7,
                          8,
                          0xff,
                          0x100,
                          0x7fffffff,
                          0x80000000,
                          0xffffffff,
                          u64{1} << 32,
                          0x7fffffffffffffff,
                          0x8000000000000000,
                          ~u64{0} - 1,
                          ~u64{0}};
    for (u64 lo : points) {
        for (u64 hi : points) {
            if (lo > hi) continue;
            const Tnum r = Tnum::range(lo, hi);
            if (lo == hi) {
                EXPECT_EQ(r, Tnum::constant(lo));
                continue;
            }
            // [lo, hi] holds mid - 1 and mid, where mid is hi with the bits below the highest differing bit k
            // cleared: they differ in every bit up to k, so the smallest tnum holding [lo, hi] is the hull of these.
            const int k = 63 - __builtin_clzll(lo ^ hi);
            const u64 mid = hi & ~((u64{1} << k) - 1);
            EXPECT_EQ(r, hull({lo, hi, mid - 1, mid})) << lo << ".." << hi;
        }
    }
    EXPECT_EQ(Tnum::range(0, 255), (Tnum{0, 0xff}));
    EXPECT_EQ(Tnum::range(5, 5), Tnum::constant(5));
    EXPECT_EQ(Tnum::range(4, 7), (Tnum{4, 3}));
    EXPECT_EQ(Tnum::range(0, ~u64{0}), Tnum::unknown());
    EXPECT_EQ(Tnum::range(0x8000000000000000, ~u64{0}), (Tnum{0x8000000000000000, 0x7fffffffffffffff}));
    EXPECT_EQ(Tnum::range(7, 3), Tnum::unknown()) << "an empty range claims nothing";
}

TEST(TnumPrecision, HandDerived) {
    EXPECT_EQ(tnum_add(Tnum::constant(3), Tnum::constant(4)), Tnum::constant(7));
    EXPECT_EQ(tnum_add((Tnum{0, 1}), (Tnum{0, 1})), (Tnum{0, 3}));  // {0,1} + {0,1} = {0,1,2}
    EXPECT_EQ(tnum_mul(Tnum::constant(6), Tnum::constant(7)), Tnum::constant(42));
    EXPECT_EQ(tnum_mul((Tnum{0, 0xff}), Tnum::constant(4)), (Tnum{0, 0x3fc}));  // x * 4 keeps 2 low zero bits
    EXPECT_EQ(tnum_and(Tnum::unknown(), Tnum::constant(0xff)), (Tnum{0, 0xff}));
    EXPECT_EQ(tnum_or(Tnum::unknown(), Tnum::constant(1)), (Tnum{1, ~u64{1}}));
    EXPECT_EQ(tnum_neg(Tnum::constant(1)), Tnum::constant(~u64{0}));
    EXPECT_EQ(tnum_lshift((Tnum{1, 2}), 4), (Tnum{0x10, 0x20}));
    EXPECT_EQ(tnum_arshift((Tnum{0, 0x80000000}), 4, 32), (Tnum{0, 0xf8000000}));
    EXPECT_EQ(tnum_bswap(Tnum::constant(0x1234), 16), Tnum::constant(0x3412));
    EXPECT_EQ(tnum_bswap((Tnum{0xab00, 0xff}), 16), (Tnum{0xab, 0xff00}));
    EXPECT_EQ(tnum_cast(Tnum::constant(0x123456789), 4), Tnum::constant(0x23456789));
    EXPECT_EQ(tnum_union(Tnum::constant(1), Tnum::constant(3)), (Tnum{1, 2}));
}

TEST(TnumPrecision, ContainsIncludesAndText) {
    const Tnum odd{1, ~u64{1}};
    EXPECT_TRUE(odd.contains(7));
    EXPECT_FALSE(odd.contains(8));
    EXPECT_TRUE(odd.includes(Tnum::constant(9)));
    EXPECT_TRUE(odd.includes((Tnum{1, 6})));
    EXPECT_FALSE(odd.includes(Tnum::unknown()));
    EXPECT_FALSE((Tnum{1, 6}).includes(odd));
    EXPECT_EQ(Tnum::constant(16).to_string(), "0x10");
    EXPECT_EQ((Tnum{0, 0xff}).to_string(), "(0x0; 0xff)");
    EXPECT_EQ(odd.umin(), 1u);
    EXPECT_EQ(odd.umax(), ~u64{0});
    EXPECT_TRUE((Tnum{0, 0xf0}).is_aligned(16));
    EXPECT_FALSE((Tnum{0, 0xf8}).is_aligned(16));
}

}  // namespace
}  // namespace xbpf::verifier
