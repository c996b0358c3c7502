// bpf_csum_diff (net/core/filter.c, Linux 6.12 and later).
//
// from_size and to_size must be multiples of 4 (-EINVAL). The result is
//   to and from:  fold16(csum_sub(csum_partial(to, seed), csum_partial(from, 0)))
//   to only:      fold16(csum_partial(to, seed))
//   from only:    fold16(~csum_partial(from, ~seed))
//   neither:      seed (32 bits)
// where csum_partial is the 32-bit one's-complement sum of the buffer's 32-bit words (in memory order) plus the
// seed, and fold16 is csum_from32to16: the 16-bit one's-complement sum of the two halves, not inverted. A
// one's-complement sum is 0 only when every input is 0, so the value is the same on every architecture; this is
// what the kernel fixed in 6.12 (before, x86 returned the unfolded 32-bit csum_partial of ~from and to).
#include "helpers/internal.hpp"

namespace xbpf::helpers::detail {
namespace {

u32 add32(u32 a, u32 b) {
    const u64 s = static_cast<u64>(a) + b;
    return static_cast<u32>(s + (s >> 32));
}

u32 csum_partial(const unsigned char* p, u32 size, u32 seed) {
    u64 sum = seed;
    for (u32 i = 0; i + 4 <= size; i += 4) {
        u32 w;
        std::memcpy(&w, p + i, 4);
        sum += w;
    }
    while (sum >> 32) sum = (sum & 0xffffffffULL) + (sum >> 32);
    return static_cast<u32>(sum);
}

u32 fold16(u32 sum) {
    sum += (sum >> 16) | (sum << 16);
    return sum >> 16;
}

u64 csum_diff(u64 from, u64 from_size, u64 to, u64 to_size, u64 seed_arg, Context*) {
    const auto fs = static_cast<u32>(from_size);
    const auto ts = static_cast<u32>(to_size);
    const auto seed = static_cast<u32>(seed_arg);
    if ((fs | ts) & 3) return ret_err(-EINVAL);
    const auto* f = as_ptr<const unsigned char>(from);
    const auto* t = as_ptr<const unsigned char>(to);
    if (fs && ts) return fold16(add32(csum_partial(t, ts, seed), ~csum_partial(f, fs, 0)));
    if (ts) return fold16(csum_partial(t, ts, seed));
    if (fs) return fold16(~csum_partial(f, fs, ~seed));
    return seed;
}

}  // namespace

void register_checksum_helpers(HelperTable& t) { t.add({28, "bpf_csum_diff", csum_diff}); }

}  // namespace xbpf::helpers::detail
