// String helpers (kernel/bpf/helpers.c): bpf_strncmp, bpf_strtol, bpf_strtoul.
//
// bpf_strtol/strtoul follow __bpf_strtoull and lib/kstrtox.c exactly:
// - flags: the base in the low 5 bits (0, 8, 10 or 16), any other bit or base: -EINVAL;
// - leading whitespace (the kernel's isspace: \t \n \v \f \r, space and 0xA0) and one '-' are skipped; nothing
//   left: -EINVAL; at most 63 further characters are looked at (the kernel copies them to a 64-byte buffer);
// - base 0 picks 16 for "0x" followed by a hex digit, 8 for a leading '0', else 10; base 16 skips a "0x" prefix;
// - no digit: -EINVAL; more than 64 bits: -ERANGE; strtol: a value outside s64 after the sign: -ERANGE;
//   strtoul: a '-' sign with a valid number: -EINVAL;
// - *res is set to 0 first, to the value on success; the return value is the number of characters consumed
//   (whitespace, sign, prefix and digits).
// bpf_strncmp is the kernel's strncmp: -1, 0 or 1 comparing unsigned chars (x86-64 has no arch version).
#include "helpers/internal.hpp"

namespace xbpf::helpers::detail {
namespace {

constexpr u64 kBaseMask = 0x1f;
constexpr unsigned kOverflow = 1u << 31;  // KSTRTOX_OVERFLOW

bool kernel_isspace(unsigned char c) { return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0; }
bool is_xdigit(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// _parse_integer_fixup_radix + _parse_integer on a NUL-terminated buffer.
const char* fixup_radix(const char* s, unsigned* base) {
    if (*base == 0) {
        if (s[0] == '0') {
            *base = ((s[1] | 0x20) == 'x' && is_xdigit(static_cast<unsigned char>(s[2]))) ? 16 : 8;
        } else {
            *base = 10;
        }
    }
    if (*base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x') s += 2;
    return s;
}

unsigned parse_integer(const char* s, unsigned base, unsigned long long* out) {
    unsigned long long res = 0;
    unsigned rv = 0;
    for (;; ++s) {
        const unsigned c = static_cast<unsigned char>(*s);
        const unsigned lc = c | 0x20;
        unsigned val;
        if (c >= '0' && c <= '9')
            val = c - '0';
        else if (lc >= 'a' && lc <= 'f')
            val = lc - 'a' + 10;
        else
            break;
        if (val >= base) break;
        if (res & (~0ULL << 60)) {
            if (res > (~0ULL - val) / base) rv |= kOverflow;
        }
        res = res * base + val;
        ++rv;
    }
    *out = res;
    return rv;
}

long strtoull_common(const char* buf, std::size_t buf_len, u64 flags, unsigned long long* res, bool* negative) {
    unsigned base = static_cast<unsigned>(flags & kBaseMask);
    if (!buf || !buf_len) return -EINVAL;
    if (base != 0 && base != 8 && base != 10 && base != 16) return -EINVAL;
    if (flags & ~kBaseMask) return -EINVAL;
    const char* cur = buf;
    const char* end = buf + buf_len;
    while (cur < end && kernel_isspace(static_cast<unsigned char>(*cur))) ++cur;
    *negative = cur < end && *cur == '-';
    if (*negative) ++cur;
    long consumed = cur - buf;
    std::size_t len = buf_len - static_cast<std::size_t>(consumed);
    if (!len) return -EINVAL;
    char str[64];
    if (len > sizeof str - 1) len = sizeof str - 1;
    std::memcpy(str, cur, len);
    str[len] = '\0';
    const char* p = fixup_radix(str, &base);
    const unsigned val_len = parse_integer(p, base, res);
    if (val_len & kOverflow) return -ERANGE;
    if (val_len == 0) return -EINVAL;
    p += val_len;
    consumed += p - str;
    return consumed;
}

u64 strtol(u64 buf, u64 buf_len, u64 flags, u64 res, u64, Context*) {
    auto* out = as_ptr<std::int64_t>(res);
    *out = 0;
    unsigned long long v = 0;
    bool negative = false;
    const long err = strtoull_common(as_ptr<const char>(buf), buf_len, flags, &v, &negative);
    if (err < 0) return ret_err(err);
    if (negative) {
        if (static_cast<long long>(0ULL - v) > 0) return ret_err(-ERANGE);
        *out = static_cast<std::int64_t>(0ULL - v);
    } else {
        if (static_cast<long long>(v) < 0) return ret_err(-ERANGE);
        *out = static_cast<std::int64_t>(v);
    }
    return static_cast<u64>(err);
}

u64 strtoul(u64 buf, u64 buf_len, u64 flags, u64 res, u64, Context*) {
    auto* out = as_ptr<u64>(res);
    *out = 0;
    unsigned long long v = 0;
    bool negative = false;
    const long err = strtoull_common(as_ptr<const char>(buf), buf_len, flags, &v, &negative);
    if (err < 0) return ret_err(err);
    if (negative) return ret_err(-EINVAL);
    *out = v;
    return static_cast<u64>(err);
}

u64 strncmp(u64 s1, u64 s1_sz, u64 s2, u64, u64, Context*) {
    const auto* a = as_ptr<const unsigned char>(s1);
    const auto* b = as_ptr<const unsigned char>(s2);
    for (u32 n = static_cast<u32>(s1_sz); n > 0; --n, ++a, ++b) {
        if (*a != *b) return ret_err(*a < *b ? -1 : 1);
        if (!*a) break;
    }
    return 0;
}

}  // namespace

void register_string_helpers(HelperTable& t) {
    t.add({105, "bpf_strtol", strtol});
    t.add({106, "bpf_strtoul", strtoul});
    t.add({182, "bpf_strncmp", strncmp});
}

}  // namespace xbpf::helpers::detail
