// bpf_trace_printk / bpf_trace_vprintk / bpf_snprintf: the kernel's format rules and output.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "helper_test_util.hpp"

namespace xbpf::helpers::test {
namespace {

// trace_printk with a NUL-terminated format (fmt_size includes the NUL, as clang emits it).
u64 printk(TestContext& t, const char* fmt, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0) {
    return t.call(6, arg(fmt), std::strlen(fmt) + 1, a1, a2, a3);
}

TEST(TracePrintk, FormatsIntegersLikeTheKernel) {
    TestContext t;
    EXPECT_EQ(printk(t, "x=%d y=%u z=%x\n", static_cast<u64>(-5), 0xffffffffULL, 0xabcULL), 24u);
    ASSERT_EQ(t.lines.size(), 1u);
    EXPECT_EQ(t.lines[0], "x=-5 y=4294967295 z=abc\n");
    t.lines.clear();
    // int-sized conversions use the low 32 bits; l and ll all 64.
    printk(t, "%d %ld %lld", 0x1'0000'0005ULL, static_cast<u64>(-1), 1ULL << 40);
    EXPECT_EQ(t.lines.back(), "5 -1 1099511627776");
    printk(t, "%lu %llx %X", ~0ULL, 0xdeadbeefcafeULL, 0xabcdefULL);
    EXPECT_EQ(t.lines.back(), "18446744073709551615 deadbeefcafe ABCDEF");
    // three arguments only: the 4th and 5th conversions have none -> -EINVAL
    EXPECT_EQ(printk(t, "%d %d %d %d", 1, 2, 3), neg(EINVAL));
    t.lines.clear();
    printk(t, "[%5d|%-5d|%05d]", 42, 42, static_cast<u64>(-42));
    EXPECT_EQ(t.lines.back(), "[   42|42   |-0042]");
    printk(t, "[%+d|% d|%-05x]", 7, 7, 7);
    EXPECT_EQ(t.lines.back(), "[+7| 7|7    ]");
    printk(t, "[%+u|%3c|%-3c]", 7, 'a', 'b');
    EXPECT_EQ(t.lines.back(), "[7|  a|b  ]");
    printk(t, "%i%%%c%c", 9, 'o', 'k');
    EXPECT_EQ(t.lines.back(), "9%ok");
}

TEST(TracePrintk, StringsPointersAndAddresses) {
    TestContext t;
    const char* s = "hello";
    EXPECT_EQ(printk(t, "<%s> <%8s> <%-7s>", arg(s), arg(s), arg(s)), 28u);
    EXPECT_EQ(t.lines.back(), "<hello> <   hello> <hello  >");
    EXPECT_EQ(printk(t, "%ks", arg(s)), neg(EINVAL));  // only %pks / %pus
    printk(t, "%s|%pks|%pus", 0, arg(s), arg(s));      // NULL: unreadable -> ""
    EXPECT_EQ(t.lines.back(), "|hello|hello");
    printk(t, "%p %px %pK", 0x1234, 0xffff888012345678ULL, 0);
    EXPECT_EQ(t.lines.back(), "0000000000001234 ffff888012345678 0000000000000000");
    printk(t, "%ps %pS %pB", 0x401000, 0x401000, 0x10);
    EXPECT_EQ(t.lines.back(), "0x401000 0x401000 0x10");
    const unsigned char v4[4] = {192, 168, 1, 20};
    printk(t, "%pI4 %pi4", arg(v4), arg(v4));
    EXPECT_EQ(t.lines.back(), "192.168.1.20 192.168.001.020");
    const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    printk(t, "%pI6 %pi6", arg(v6), arg(v6));
    EXPECT_EQ(t.lines.back(), "2001:0db8:0000:0000:0000:0000:0000:0001 20010db8000000000000000000000001");
    printk(t, "%pI4", 0);  // unreadable address: zeros
    EXPECT_EQ(t.lines.back(), "0.0.0.0");
}

TEST(TracePrintk, RejectsWhatTheKernelRejects) {
    TestContext t;
    for (const char* bad :
         {"%hd",  "%hhd", "%zu",   "%o", "%.3d", "%5.1d", "%a",  "%f",      "%n",   "%pa",        "%pi5",
          "%pIx", "%sx",  "%pksx", "%",  "abc%", "%#x",   "%lf", "%lld%Lf", "\x01", "caf\xc3\xa9"}) {
        EXPECT_EQ(printk(t, bad, 1, 2, 3), neg(EINVAL)) << '"' << bad << '"';
    }
    EXPECT_TRUE(t.lines.empty());
    // Allowed follow-ups of %s and %p: NUL, whitespace, punctuation.
    const char* s = "s";
    EXPECT_EQ(printk(t, "%s.%p,%s", arg(s), 1, arg(s)), 20u);
    // No NUL within fmt_size.
    const char fmt[4] = {'a', 'b', 'c', 'd'};
    EXPECT_EQ(t.call(6, arg(fmt), sizeof fmt, 0, 0, 0), neg(EINVAL));
    // The NUL may come early: the rest is ignored.
    const char early[8] = {'o', 'k', 0, '%', 'q', 0, 0, 0};
    EXPECT_EQ(t.call(6, arg(early), sizeof early, 0, 0, 0), 2u);
    EXPECT_EQ(t.lines.back(), "ok");
}

TEST(TracePrintk, OutputIsCappedAt1023BytesButTheLengthIsNot) {
    TestContext t;
    EXPECT_EQ(printk(t, "%2000d", 1), 2000u);
    ASSERT_EQ(t.lines.size(), 1u);
    EXPECT_EQ(t.lines[0].size(), 1023u);
    EXPECT_EQ(t.lines[0].back(), ' ');
}

TEST(TracePrintk, LongStringsShareThe512ByteArgumentBuffer) {
    TestContext t;
    const std::string big(600, 'a');
    // The first string takes all 512 bytes (511 chars + NUL); the second has no room: -ENOSPC.
    EXPECT_EQ(printk(t, "%s", arg(big.c_str())), 511u);
    EXPECT_EQ(t.lines.back(), std::string(511, 'a'));
    EXPECT_EQ(printk(t, "%s%s", arg(big.c_str()), arg(big.c_str())), neg(ENOSPC));
    EXPECT_EQ(printk(t, "%s%d", arg(big.c_str()), 1), neg(ENOSPC));
}

TEST(TraceVprintk, TakesUpTo12ArgumentsFromAnArray) {
    TestContext t;
    const char* fmt = "%d %d %d %d %d %d %d %d %d %d %d %d";
    u64 args[13];
    for (int i = 0; i < 13; ++i) args[i] = static_cast<u64>(i + 1);
    EXPECT_EQ(t.call(177, arg(fmt), std::strlen(fmt) + 1, arg(args), 96), 26u);
    EXPECT_EQ(t.lines.back(), "1 2 3 4 5 6 7 8 9 10 11 12");
    EXPECT_EQ(t.call(177, arg(fmt), std::strlen(fmt) + 1, arg(args), 104), neg(EINVAL));  // 13 args
    EXPECT_EQ(t.call(177, arg(fmt), std::strlen(fmt) + 1, arg(args), 12), neg(EINVAL));   // not a multiple of 8
    EXPECT_EQ(t.call(177, arg(fmt), std::strlen(fmt) + 1, 0, 8), neg(EINVAL));            // NULL with a length
    EXPECT_EQ(t.call(177, arg(fmt), std::strlen(fmt) + 1, arg(args), 88), neg(EINVAL));   // 11 < 12 specs
    const char* plain = "no args";
    EXPECT_EQ(t.call(177, arg(plain), std::strlen(plain) + 1, 0, 0), 7u);
}

TEST(Snprintf, ReturnsTheLengthWithTheNulAndTruncates) {
    TestContext t;
    const u64 args[2] = {42, static_cast<u64>(-1)};
    char buf[8];
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(t.call(165, arg(buf), sizeof buf, arg("v=%d/%d"), arg(args), 16), 8u);  // "v=42/-1" + NUL
    EXPECT_STREQ(buf, "v=42/-1");
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(t.call(165, arg(buf), 4, arg("v=%d/%d"), arg(args), 16), 8u);
    EXPECT_STREQ(buf, "v=4");
    EXPECT_EQ(buf[4], 'x');
    EXPECT_EQ(t.call(165, 0, 0, arg("v=%d/%d"), arg(args), 16), 8u);  // size only
    EXPECT_EQ(t.call(165, arg(buf), sizeof buf, arg("%d %d %d"), arg(args), 16), neg(EINVAL));
    EXPECT_EQ(t.call(165, arg(buf), sizeof buf, arg("%q"), arg(args), 16), neg(EINVAL));
    EXPECT_EQ(t.call(165, arg(buf), sizeof buf, arg("%d"), arg(args), 7), neg(EINVAL));
    EXPECT_TRUE(t.lines.empty());  // snprintf does not trace
}

}  // namespace
}  // namespace xbpf::helpers::test
