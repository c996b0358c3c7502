// Internals shared by scalar.cpp (sync, transfer functions) and scalar_branch.cpp (comparisons): one width's view of
// a Scalar and the emptiness-reporting form of sync. Not part of the verifier's interface.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "verifier/domains/scalar.hpp"

namespace xbpf::verifier::detail {

/// The bits of a U-wide quantity, as a 64-bit mask.
template <class U>
inline constexpr std::uint64_t kWidthMask = static_cast<std::uint64_t>(std::numeric_limits<U>::max());

/// One width (U = uint64_t: the whole register; U = uint32_t: the low 32 bits) of a Scalar: its tnum (bits above
/// the width zero) and its signed and unsigned bounds at that width.
template <class U>
struct View {
    using S = std::make_signed_t<U>;
    Tnum t;
    S smin;
    S smax;
    U umin;
    U umax;
};

/// Every U-wide value.
template <class U>
View<U> full_view() {
    using S = std::make_signed_t<U>;
    return {Tnum{0, kWidthMask<U>}, std::numeric_limits<S>::min(), std::numeric_limits<S>::max(), 0,
            std::numeric_limits<U>::max()};
}

/// The single value v.
template <class U>
View<U> const_view(U v) {
    using S = std::make_signed_t<U>;
    return {Tnum::constant(v), static_cast<S>(v), static_cast<S>(v), v, v};
}

/// The U-wide view of s.
template <class U>
View<U> view_of(const Scalar& s) {
    if constexpr (std::is_same_v<U, std::uint64_t>) {
        return {s.var_off, s.smin, s.smax, s.umin, s.umax};
    } else {
        return {tnum_subreg(s.var_off), s.s32_min, s.s32_max, s.u32_min, s.u32_max};
    }
}

/// Replace the U-wide part of s by v (the 32-bit form keeps the upper 32 bits of the tnum and the 64-bit bounds).
template <class U>
void assign_view(Scalar& s, const View<U>& v) {
    if constexpr (std::is_same_v<U, std::uint64_t>) {
        s.var_off = v.t;
        s.smin = v.smin;
        s.smax = v.smax;
        s.umin = v.umin;
        s.umax = v.umax;
    } else {
        s.var_off = tnum_with_subreg(s.var_off, v.t);
        s.s32_min = v.smin;
        s.s32_max = v.smax;
        s.u32_min = v.umin;
        s.u32_max = v.umax;
    }
}

/// reg_bounds_sync that also reports emptiness: returns false when it proved that no 64-bit value satisfies all
/// five views at once (then s is left in an unspecified state). Returning true does not promise a value exists.
bool sync_checked(Scalar& s);

}  // namespace xbpf::verifier::detail
