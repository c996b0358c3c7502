// bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf (kernel/trace/bpf_trace.c, kernel/bpf/helpers.c) and their
// shared core: bpf_bprintf_prepare's format check plus bstr_printf's formatting (lib/vsprintf.c).
//
// The format rules are the kernel's, checked left to right, with -EINVAL for the first violation:
// - every character must be printable ASCII or whitespace;
// - "%%" prints '%'; any other '%' needs an argument left (at most 3 for trace_printk, data_len / 8 <= 12 for
//   vprintk/snprintf);
// - after '%': optional flags "0+- ", an optional width (digits not starting with 0), then one of
//   d i u x X with an optional l or ll (no h, hh, z, o, no precision);
//   c;
//   s, which must be followed by NUL, whitespace or punctuation;
//   p alone (followed by NUL, whitespace or punctuation), pK, px, ps, pS, pB, pks, pus (strings, with the same
//   follow rule as s), pi4, pI4, pi6, pI6 (the address is read from the pointer argument).
// The kernel copies string and IP arguments into a 512-byte buffer together with the numeric ones (4 bytes, or
// 8 for l/ll and pointers, 4-byte aligned): arguments that do not fit give -ENOSPC and strings are truncated to
// the room left, exactly as here.
//
// Deliberate differences (user space has no kernel symbols or pointer hashing): %p and %pK print the raw value as
// %px does (16 hex digits); %ps, %pS and %pB print "0x<hex>" (what the kernel prints for an address without a
// symbol). String (%s, %ks) and IP arguments are read from this process's memory (the program's stack and maps
// live there), %us from the traced process (Environment::read_user); an unreadable string prints as "".
#include <cstdio>

#include "helpers/internal.hpp"

namespace xbpf::helpers::detail {
namespace {

constexpr std::size_t kBinArgs = 512;                   // MAX_BPRINTF_BIN_ARGS
constexpr std::size_t kBprintfBuf = 1024;               // MAX_BPRINTF_BUF: trace_printk's output buffer
constexpr std::size_t kFieldWidthMax = (1u << 23) - 1;  // lib/vsprintf.c FIELD_WIDTH_MAX
constexpr u32 kTracePrintkArgs = 3;                     // MAX_TRACE_PRINTK_VARARGS

bool is_ascii(unsigned char c) { return c <= 0x7f; }
bool is_print(unsigned char c) { return c >= 0x20 && c <= 0x7e; }
bool is_space(unsigned char c) { return (c >= 9 && c <= 13) || c == ' '; }
bool is_punct(unsigned char c) {
    return is_print(c) && c != ' ' && !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// Output of bounded capacity that still counts the full length (bstr_printf's return value).
class Out {
  public:
    Out(std::string& s, std::size_t cap) : s_(s), cap_(cap) { s_.clear(); }
    void put(char c) { repeat(c, 1); }
    void put(std::string_view v) {
        const std::size_t room = cap_ > s_.size() ? cap_ - s_.size() : 0;
        s_.append(v.substr(0, room));
        len_ += v.size();
    }
    void repeat(char c, std::size_t n) {
        const std::size_t room = cap_ > s_.size() ? cap_ - s_.size() : 0;
        s_.append(n < room ? n : room, c);
        len_ += n;
    }
    [[nodiscard]] std::size_t length() const { return len_; }

  private:
    std::string& s_;
    std::size_t cap_;
    std::size_t len_ = 0;
};

struct Spec {
    bool left = false, zero = false, plus = false, space = false;
    std::size_t width = 0;
};

// A field of `core`, padded to the width: spaces on the left (right with '-'), or zeros after the sign for
// numbers with '0' (the kernel drops ZEROPAD under LEFT, and pads strings and chars with spaces only).
void field(Out& o, std::string_view core, const Spec& spec, bool numeric) {
    if (core.size() >= spec.width) {
        o.put(core);
        return;
    }
    const std::size_t pad = spec.width - core.size();
    if (spec.left) {
        o.put(core);
        o.repeat(' ', pad);
    } else if (spec.zero && numeric) {
        if (!core.empty() && (core[0] == '-' || core[0] == '+' || core[0] == ' ')) {
            o.put(core[0]);
            core.remove_prefix(1);
        }
        o.repeat('0', pad);
        o.put(core);
    } else {
        o.repeat(' ', pad);
        o.put(core);
    }
}

std::string format(const char* fmt, unsigned long long v) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, fmt, v);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string integer(u64 arg, bool wide, char conv, const Spec& spec) {
    if (conv == 'd' || conv == 'i') {
        const long long v = wide ? static_cast<long long>(arg) : static_cast<int>(static_cast<u32>(arg));
        std::string digits =
            format("%llu", v < 0 ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v));
        if (v < 0) return "-" + digits;
        if (spec.plus) return "+" + digits;
        if (spec.space) return " " + digits;
        return digits;
    }
    const unsigned long long v = wide ? arg : static_cast<u32>(arg);
    return format(conv == 'u' ? "%llu" : conv == 'x' ? "%llx" : "%llX", v);
}

std::string ip_string(const unsigned char* ip, bool v6, bool leading_zeros) {
    char buf[48];
    if (!v6) {
        std::snprintf(buf, sizeof buf, leading_zeros ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", ip[0], ip[1], ip[2],
                      ip[3]);
        return buf;
    }
    std::string s;
    for (int i = 0; i < 8; ++i) {
        if (i && !leading_zeros) s += ':';  // %pI6: colons; %pi6: none
        std::snprintf(buf, sizeof buf, "%02x%02x", ip[2 * i], ip[2 * i + 1]);
        s += buf;
    }
    return s;
}

}  // namespace

long bprintf(const Context* ctx, const char* fmt, std::size_t fmt_size, const u64* args, u32 num_args, std::size_t cap,
             std::string& out) {
    const void* nul = std::memchr(fmt, 0, fmt_size);
    if (!nul) return -EINVAL;
    const std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nul) - fmt);
    const auto at = [&](std::size_t j) -> unsigned char { return j < n ? static_cast<unsigned char>(fmt[j]) : 0; };

    Out o(out, cap);
    std::size_t bin = 0;  // bytes of the kernel's argument buffer in use
    const auto reserve_scalar = [&](std::size_t size) {
        bin = (bin + 3) & ~std::size_t{3};
        if (kBinArgs - bin < size) return false;
        bin += size;
        return true;
    };
    u32 spec_no = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = at(i);
        if ((!is_print(c) && !is_space(c)) || !is_ascii(c)) return -EINVAL;
        if (c != '%') {
            o.put(static_cast<char>(c));
            continue;
        }
        if (at(i + 1) == '%') {
            o.put('%');
            ++i;
            continue;
        }
        if (spec_no >= num_args) return -EINVAL;
        ++i;
        Spec spec;
        for (;; ++i) {
            const unsigned char f = at(i);
            if (f == '0')
                spec.zero = true;
            else if (f == '+')
                spec.plus = true;
            else if (f == '-')
                spec.left = true;
            else if (f == ' ')
                spec.space = true;
            else
                break;
        }
        if (at(i) >= '1' && at(i) <= '9') {
            while (at(i) >= '0' && at(i) <= '9') {
                spec.width = spec.width * 10 + (at(i) - '0');
                if (spec.width > kFieldWidthMax) spec.width = kFieldWidthMax;
                ++i;
            }
        }
        const u64 arg = args[spec_no];
        char ptype = 0;
        if (at(i) == 'p') {
            const unsigned char next = at(i + 1);
            if (next == 0 || is_space(next) || is_punct(next) || next == 'K' || next == 'x') {
                if (next == 'K' || next == 'x') ++i;
                if (!reserve_scalar(8)) return -ENOSPC;
                field(o, format("%016llx", arg), spec, false);
                ++spec_no;
                continue;
            }
            if ((next == 'k' || next == 'u') && at(i + 2) == 's') {
                ptype = static_cast<char>(next);
                i += 2;
            } else if (next == 's' || next == 'S' || next == 'B') {
                ++i;
                const std::string sym = format("0x%llx", arg);
                if (next == 'B') {
                    bin += sym.size() + 1;  // the kernel pre-formats %pB into the buffer
                    if (bin > kBinArgs) bin = kBinArgs;
                } else if (!reserve_scalar(8)) {
                    return -ENOSPC;
                }
                field(o, sym, spec, false);
                ++spec_no;
                continue;
            } else {
                if ((next != 'i' && next != 'I') || (at(i + 2) != '4' && at(i + 2) != '6')) return -EINVAL;
                i += 2;
                const bool v6 = at(i) == '6';
                const std::size_t ip_size = v6 ? 16 : 4;
                if (kBinArgs - bin < ip_size) return -ENOSPC;
                unsigned char ip[16] = {};
                if (read_host(ctx, ip, arg, ip_size) != static_cast<long>(ip_size)) std::memset(ip, 0, sizeof ip);
                const std::string text = ip_string(ip, v6, next == 'i');
                bin += text.size() + 1;
                if (bin > kBinArgs) bin = kBinArgs;
                field(o, text, spec, false);
                ++spec_no;
                continue;
            }
        } else if (at(i) == 's') {
            ptype = 's';
        }
        if (ptype) {
            const unsigned char follow = at(i + 1);
            if (follow != 0 && !is_space(follow) && !is_punct(follow)) return -EINVAL;
            if (bin == kBinArgs) return -ENOSPC;
            char str[kBinArgs];
            long got = copy_string(ctx, str, arg, kBinArgs - bin, ptype == 'u');
            if (got <= 0) {
                str[0] = '\0';
                got = 1;
            }
            bin += static_cast<std::size_t>(got);
            field(o, std::string_view(str, static_cast<std::size_t>(got) - 1), spec, false);
            ++spec_no;
            continue;
        }
        if (at(i) == 'c') {
            if (bin == kBinArgs) return -ENOSPC;
            ++bin;
            const char ch = static_cast<char>(arg);
            field(o, std::string_view(&ch, 1), spec, false);
            ++spec_no;
            continue;
        }
        bool wide = false;
        if (at(i) == 'l') {
            wide = true;
            ++i;
        }
        if (at(i) == 'l') ++i;
        const unsigned char conv = at(i);
        if (conv != 'i' && conv != 'd' && conv != 'u' && conv != 'x' && conv != 'X') return -EINVAL;
        if (!reserve_scalar(wide ? 8 : 4)) return -ENOSPC;
        field(o, integer(arg, wide, static_cast<char>(conv), spec), spec, true);
        ++spec_no;
    }
    return static_cast<long>(o.length());
}

namespace {

void emit_trace(const Context* ctx, std::string_view message) {
    const Environment& env = env_of(ctx);
    if (env.trace) env.trace(message);
}

u64 trace_printk(u64 fmt, u64 fmt_size, u64 a1, u64 a2, u64 a3, Context* ctx) {
    const u64 args[kTracePrintkArgs] = {a1, a2, a3};
    std::string text;
    const long ret = bprintf(ctx, as_ptr<const char>(fmt), static_cast<u32>(fmt_size), args, kTracePrintkArgs,
                             kBprintfBuf - 1, text);
    if (ret < 0) return ret_err(ret);
    emit_trace(ctx, text);
    return static_cast<u64>(ret);
}

bool bad_data(u64 data, u32 data_len) {
    return (data_len & 7) || data_len > kMaxBprintfVarargs * 8 || (data_len && !data);
}

u64 trace_vprintk(u64 fmt, u64 fmt_size, u64 data, u64 data_len, u64, Context* ctx) {
    const u32 len = static_cast<u32>(data_len);
    if (bad_data(data, len)) return ret_err(-EINVAL);
    u64 args[kMaxBprintfVarargs] = {};
    if (len) std::memcpy(args, as_ptr(data), len);
    std::string text;
    const long ret =
        bprintf(ctx, as_ptr<const char>(fmt), static_cast<u32>(fmt_size), args, len / 8, kBprintfBuf - 1, text);
    if (ret < 0) return ret_err(ret);
    emit_trace(ctx, text);
    return static_cast<u64>(ret);
}

u64 snprintf(u64 str, u64 str_size, u64 fmt, u64 data, u64 data_len, Context* ctx) {
    const u32 len = static_cast<u32>(data_len);
    const u32 size = static_cast<u32>(str_size);
    if (bad_data(data, len)) return ret_err(-EINVAL);
    u64 args[kMaxBprintfVarargs] = {};
    if (len) std::memcpy(args, as_ptr(data), len);
    const char* f = as_ptr<const char>(fmt);
    std::string text;
    // ARG_PTR_TO_CONST_STR: the format is NUL-terminated.
    const long ret = bprintf(ctx, f, std::strlen(f) + 1, args, len / 8, size ? size - 1 : 0, text);
    if (ret < 0) return ret_err(ret);
    if (size) {
        char* dst = as_ptr<char>(str);
        std::memcpy(dst, text.data(), text.size());
        dst[text.size()] = '\0';
    }
    return static_cast<u64>(ret + 1);
}

}  // namespace

void register_printk_helpers(HelperTable& t) {
    t.add({6, "bpf_trace_printk", trace_printk});
    t.add({165, "bpf_snprintf", snprintf});
    t.add({177, "bpf_trace_vprintk", trace_vprintk});
}

}  // namespace xbpf::helpers::detail
