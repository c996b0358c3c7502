// Comparisons on Scalars: the kernel's is_scalar_branch_taken and regs_refine_cond_op + reg_set_min_max
// (kernel/bpf/verifier.c), for JMP (64-bit) and JMP32 (low halves) compares.
//
// Departures from the kernel, all sound (tests/unit/verifier/scalar_branch_test.cpp checks them on generated value
// sets):
//   - equality is also decided by disjoint tnums, and JSET by the known bits of both operands (the kernel needs
//     one side constant);
//   - JSET taken learns a bit when it is the only one that may be set in both operands, and that neither operand is
//     0; JSET not taken clears in each operand the bits known set in the other;
//   - != trims a range end equal to the other side's constant in every view, and settles a tnum with one unknown
//     bit;
//   - a refinement that empties a view reports the edge as dead (nullopt) instead of leaving inconsistent bounds
//     (the kernel's "REG INVARIANTS VIOLATION"); edge values that would wrap (x < 0 unsigned) are dead, not wrapped.
#include <algorithm>
#include <bit>
#include <limits>

#include "verifier/domains/scalar.hpp"
#include "verifier/domains/scalar_internal.hpp"

namespace xbpf::verifier {

namespace {

using detail::View;
using detail::view_of;
using u64 = std::uint64_t;
using u32 = std::uint32_t;

/// The relation known to hold on one edge: a CmpOp, or the negation of JSET.
enum class Rel : std::uint8_t { Eq, Ne, Gt, Ge, Lt, Le, Sgt, Sge, Slt, Sle, Set, NotSet };

Rel rel_of(CmpOp op) {
    switch (op) {
        case CmpOp::Eq: return Rel::Eq;
        case CmpOp::Ne: return Rel::Ne;
        case CmpOp::Gt: return Rel::Gt;
        case CmpOp::Ge: return Rel::Ge;
        case CmpOp::Lt: return Rel::Lt;
        case CmpOp::Le: return Rel::Le;
        case CmpOp::Sgt: return Rel::Sgt;
        case CmpOp::Sge: return Rel::Sge;
        case CmpOp::Slt: return Rel::Slt;
        case CmpOp::Sle: return Rel::Sle;
        case CmpOp::Set: return Rel::Set;
    }
    return Rel::Set;
}

template <class U>
bool is_const_view(const View<U>& v) {
    return v.t.is_const() || v.umin == v.umax;
}

template <class U>
U const_value(const View<U>& v) {
    return v.t.is_const() ? static_cast<U>(v.t.value) : v.umin;
}

/// Views a and b share no value (so a == b never holds).
template <class U>
bool disjoint(const View<U>& a, const View<U>& b) {
    return a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin || !tnum_overlaps(a.t, b.t);
}

template <class U>
int taken(CmpOp op, const View<U>& a, const View<U>& b, bool also_low_halves, const Scalar& sa, const Scalar& sb) {
    switch (op) {
        case CmpOp::Eq:
        case CmpOp::Ne: {
            int eq = -1;
            if (a.t.is_const() && b.t.is_const()) {
                eq = a.t.value == b.t.value ? 1 : 0;
            } else if (disjoint(a, b) || (also_low_halves && disjoint(view_of<u32>(sa), view_of<u32>(sb)))) {
                eq = 0;
            }
            if (eq < 0) return -1;
            return op == CmpOp::Eq ? eq : 1 - eq;
        }
        case CmpOp::Set: {
            const Tnum t = tnum_and(a.t, b.t);
            if (t.value != 0) return 1;   // a bit known set in both
            if (t.umax() == 0) return 0;  // no bit may be set in both
            return -1;
        }
        case CmpOp::Gt:
            if (a.umin > b.umax) return 1;
            if (a.umax <= b.umin) return 0;
            return -1;
        case CmpOp::Ge:
            if (a.umin >= b.umax) return 1;
            if (a.umax < b.umin) return 0;
            return -1;
        case CmpOp::Lt:
            if (a.umax < b.umin) return 1;
            if (a.umin >= b.umax) return 0;
            return -1;
        case CmpOp::Le:
            if (a.umax <= b.umin) return 1;
            if (a.umin > b.umax) return 0;
            return -1;
        case CmpOp::Sgt:
            if (a.smin > b.smax) return 1;
            if (a.smax <= b.smin) return 0;
            return -1;
        case CmpOp::Sge:
            if (a.smin >= b.smax) return 1;
            if (a.smax < b.smin) return 0;
            return -1;
        case CmpOp::Slt:
            if (a.smax < b.smin) return 1;
            if (a.smin >= b.smax) return 0;
            return -1;
        case CmpOp::Sle:
            if (a.smax <= b.smin) return 1;
            if (a.smin > b.smax) return 0;
            return -1;
    }
    return -1;
}

template <class U>
bool nonempty(const View<U>& v) {
    return v.umin <= v.umax && v.smin <= v.smax;
}

/// x != c: trim range ends equal to c; settle a tnum with a single unknown bit. False if x can only be c.
template <class U>
bool refine_ne_const(View<U>& x, U c) {
    using S = std::make_signed_t<U>;
    const auto sc = static_cast<S>(c);
    if (!nonempty(x)) return false;
    if (x.umin == c && x.umax == c) return false;
    if (x.smin == sc && x.smax == sc) return false;
    if (x.umin == c) ++x.umin;
    if (x.umax == c) --x.umax;
    if (x.smin == sc) ++x.smin;
    if (x.smax == sc) --x.smax;
    if (x.t.is_const() && x.t.value == c) return false;
    if (std::has_single_bit(x.t.mask) && x.t.contains(c)) x.t = Tnum::constant(c ^ x.t.mask);
    return true;
}

/// x < y (strict) or x <= y, unsigned.
template <class U>
bool refine_ult(View<U>& x, View<U>& y, bool strict) {
    if (strict) {
        if (y.umax == 0 || x.umin == std::numeric_limits<U>::max()) return false;
        x.umax = std::min<U>(x.umax, y.umax - 1);
        y.umin = std::max<U>(y.umin, x.umin + 1);
    } else {
        x.umax = std::min(x.umax, y.umax);
        y.umin = std::max(y.umin, x.umin);
    }
    return nonempty(x) && nonempty(y);
}

/// x < y (strict) or x <= y, signed.
template <class U>
bool refine_slt(View<U>& x, View<U>& y, bool strict) {
    using S = std::make_signed_t<U>;
    if (strict) {
        if (y.smax == std::numeric_limits<S>::min() || x.smin == std::numeric_limits<S>::max()) return false;
        x.smax = std::min<S>(x.smax, static_cast<S>(y.smax - 1));
        y.smin = std::max<S>(y.smin, static_cast<S>(x.smin + 1));
    } else {
        x.smax = std::min(x.smax, y.smax);
        y.smin = std::max(y.smin, x.smin);
    }
    return nonempty(x) && nonempty(y);
}

template <class U>
bool refine_eq(View<U>& x, View<U>& y) {
    if (!tnum_overlaps(x.t, y.t)) return false;
    View<U> m{tnum_intersect(x.t, y.t), std::max(x.smin, y.smin), std::min(x.smax, y.smax), std::max(x.umin, y.umin),
              std::min(x.umax, y.umax)};
    x = m;
    y = m;
    return nonempty(m);
}

/// (x & y) != 0.
template <class U>
bool refine_set(View<U>& x, View<U>& y) {
    const u64 both = x.t.umax() & y.t.umax();  // bits that may be set in both
    if (both == 0) return false;
    if (std::has_single_bit(both)) {
        // That bit must be set in both.
        x.t = tnum_or(x.t, Tnum::constant(both));
        y.t = tnum_or(y.t, Tnum::constant(both));
    }
    return refine_ne_const<U>(x, 0) && refine_ne_const<U>(y, 0);
}

/// (x & y) == 0: a bit known set in one is clear in the other.
template <class U>
bool refine_not_set(View<U>& x, View<U>& y) {
    const u64 x_ones = x.t.value;
    const u64 y_ones = y.t.value;
    if ((x_ones & y_ones) != 0) return false;
    x.t = tnum_and(x.t, Tnum::constant(~y_ones & detail::kWidthMask<U>));
    y.t = tnum_and(y.t, Tnum::constant(~x_ones & detail::kWidthMask<U>));
    return true;
}

template <class U>
bool refine(Rel rel, View<U>& x, View<U>& y) {
    switch (rel) {
        case Rel::Eq: return refine_eq(x, y);
        case Rel::Ne:
            if (is_const_view(y) && !refine_ne_const(x, const_value(y))) return false;
            if (is_const_view(x) && !refine_ne_const(y, const_value(x))) return false;
            return true;
        case Rel::Lt: return refine_ult(x, y, true);
        case Rel::Le: return refine_ult(x, y, false);
        case Rel::Gt: return refine_ult(y, x, true);
        case Rel::Ge: return refine_ult(y, x, false);
        case Rel::Slt: return refine_slt(x, y, true);
        case Rel::Sle: return refine_slt(x, y, false);
        case Rel::Sgt: return refine_slt(y, x, true);
        case Rel::Sge: return refine_slt(y, x, false);
        case Rel::Set: return refine_set(x, y);
        case Rel::NotSet: return refine_not_set(x, y);
    }
    return true;
}

}  // namespace

std::optional<CmpOp> negate(CmpOp op) {
    switch (op) {
        case CmpOp::Eq: return CmpOp::Ne;
        case CmpOp::Ne: return CmpOp::Eq;
        case CmpOp::Gt: return CmpOp::Le;
        case CmpOp::Ge: return CmpOp::Lt;
        case CmpOp::Lt: return CmpOp::Ge;
        case CmpOp::Le: return CmpOp::Gt;
        case CmpOp::Sgt: return CmpOp::Sle;
        case CmpOp::Sge: return CmpOp::Slt;
        case CmpOp::Slt: return CmpOp::Sge;
        case CmpOp::Sle: return CmpOp::Sgt;
        case CmpOp::Set: return std::nullopt;
    }
    return std::nullopt;
}

CmpOp swap_operands(CmpOp op) {
    switch (op) {
        case CmpOp::Eq:
        case CmpOp::Ne:
        case CmpOp::Set: return op;
        case CmpOp::Gt: return CmpOp::Lt;
        case CmpOp::Ge: return CmpOp::Le;
        case CmpOp::Lt: return CmpOp::Gt;
        case CmpOp::Le: return CmpOp::Ge;
        case CmpOp::Sgt: return CmpOp::Slt;
        case CmpOp::Sge: return CmpOp::Sle;
        case CmpOp::Slt: return CmpOp::Sgt;
        case CmpOp::Sle: return CmpOp::Sge;
    }
    return op;
}

int branch_taken(CmpOp op, bool is32, const Scalar& a, const Scalar& b) {
    if (is32) return taken(op, view_of<u32>(a), view_of<u32>(b), false, a, b);
    return taken(op, view_of<u64>(a), view_of<u64>(b), true, a, b);
}

std::optional<std::pair<Scalar, Scalar>> refine_branch(CmpOp op, bool is32, bool outcome, const Scalar& a,
                                                       const Scalar& b) {
    const int known = branch_taken(op, is32, a, b);
    if (known >= 0 && (known == 1) != outcome) return std::nullopt;
    Rel rel = rel_of(op);
    if (!outcome) {
        const std::optional<CmpOp> neg = negate(op);
        rel = neg ? rel_of(*neg) : Rel::NotSet;
    }
    Scalar x = a;
    Scalar y = b;
    if (is32) {
        View<u32> vx = view_of<u32>(x);
        View<u32> vy = view_of<u32>(y);
        if (!refine(rel, vx, vy)) return std::nullopt;
        detail::assign_view(x, vx);
        detail::assign_view(y, vy);
    } else {
        View<u64> vx = view_of<u64>(x);
        View<u64> vy = view_of<u64>(y);
        if (!refine(rel, vx, vy)) return std::nullopt;
        detail::assign_view(x, vx);
        detail::assign_view(y, vy);
        if (rel == Rel::Eq) {
            // Equal registers have equal low halves.
            View<u32> lx = view_of<u32>(x);
            View<u32> ly = view_of<u32>(y);
            if (!refine_eq(lx, ly)) return std::nullopt;
            detail::assign_view(x, lx);
            detail::assign_view(y, ly);
        }
    }
    if (!detail::sync_checked(x) || !detail::sync_checked(y)) return std::nullopt;
    return std::pair{x, y};
}

}  // namespace xbpf::verifier
