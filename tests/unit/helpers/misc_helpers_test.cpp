// Time, CPU, task and string helpers.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "helper_test_util.hpp"
#include "helpers/internal.hpp"
#include "maps/cpu.hpp"

namespace xbpf::helpers::test {
namespace {

u64 now_ns(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<u64>(ts.tv_sec) * 1000000000ULL + static_cast<u64>(ts.tv_nsec);
}

TEST(TimeHelpers, ClocksFollowTheirPosixClock) {
    TestContext t;
    struct Case {
        std::int32_t id;
        clockid_t clock;
    };
    for (const Case c : {Case{5, CLOCK_MONOTONIC}, Case{125, CLOCK_BOOTTIME}, Case{160, CLOCK_MONOTONIC_COARSE},
                         Case{208, CLOCK_TAI}}) {
        const u64 before = now_ns(c.clock);
        const u64 got = t.call(c.id);
        const u64 after = now_ns(c.clock);
        // The coarse clock ticks once per jiffy: allow one tick either way.
        const u64 slack = c.clock == CLOCK_MONOTONIC_COARSE ? 20'000'000 : 0;
        EXPECT_GE(got + slack, before) << c.id;
        EXPECT_LE(got, after + slack) << c.id;
    }
}

TEST(TimeHelpers, EnvironmentClockOverrides) {
    TestContext t;
    t.env.clock = [](int id) -> u64 { return id == CLOCK_MONOTONIC ? 4'000'000'000ULL : 7; };
    EXPECT_EQ(t.call(5), 4'000'000'000ULL);
    EXPECT_EQ(t.call(125), 7u);
    // jiffies64 = (u32)(-300 * HZ) + ns / (1e9 / HZ): 4 s = 4 * HZ jiffies after INITIAL_JIFFIES.
    const u64 hz = detail::jiffies_hz();
    EXPECT_EQ(t.call(118), static_cast<u64>(static_cast<std::uint32_t>(-300 * static_cast<std::int64_t>(hz))) + 4 * hz);
}

TEST(TimeHelpers, JiffiesTrackTheKernel) {
    // /proc/timer_list shows the kernel's jiffies (root only); compare when readable.
    FILE* f = fopen("/proc/timer_list", "r");
    if (!f) GTEST_SKIP() << "/proc/timer_list not readable";
    char line[256];
    unsigned long long kernel_jiffies = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "jiffies: %llu", &kernel_jiffies) == 1) break;
    fclose(f);
    if (!kernel_jiffies) GTEST_SKIP() << "no jiffies line";
    TestContext t;
    const u64 ours = t.call(118);
    const u64 hz = detail::jiffies_hz();
    EXPECT_NEAR(static_cast<double>(ours), static_cast<double>(kernel_jiffies), static_cast<double>(2 * hz));
}

TEST(TimeHelpers, PrandomVariesAndSmpIdFollowsTheCpuScope) {
    TestContext t;
    std::set<u64> seen;
    for (int i = 0; i < 64; ++i) {
        const u64 r = t.call(7);
        EXPECT_LE(r, 0xffffffffULL);
        seen.insert(r);
    }
    EXPECT_GT(seen.size(), 60u);
    EXPECT_EQ(t.call(8), 0u);
    {
        maps::CpuScope scope(maps::num_possible_cpus() - 1);
        EXPECT_EQ(t.call(8), maps::num_possible_cpus() - 1);
    }
    EXPECT_LT(t.call(42), 1024u);  // a NUMA node number
}

TEST(TaskHelpers, TheCallingThread) {
    TestContext t;
    const u64 pid_tgid = t.call(14);
    EXPECT_EQ(pid_tgid >> 32, static_cast<u64>(getpid()));
    EXPECT_EQ(pid_tgid & 0xffffffff, static_cast<u64>(syscall(SYS_gettid)));
    std::thread([&] {
        const u64 other = t.call(14);
        EXPECT_EQ(other >> 32, static_cast<u64>(getpid()));
        EXPECT_EQ(other & 0xffffffff, static_cast<u64>(syscall(SYS_gettid)));
        EXPECT_NE(other & 0xffffffff, pid_tgid & 0xffffffff);
    }).join();
    EXPECT_EQ(t.call(15), static_cast<u64>(getgid()) << 32 | getuid());

    char name[16] = {};
    prctl(PR_GET_NAME, name);
    char buf[20];
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(t.call(16, arg(buf), sizeof buf), 0u);
    EXPECT_STREQ(buf, name);
    for (std::size_t i = std::strlen(name); i < sizeof buf; ++i) EXPECT_EQ(buf[i], 0) << i;  // zero-filled
    EXPECT_EQ(t.call(35), 0u);  // no task_struct in user space
}

TEST(TaskHelpers, CommIsTruncatedLikeStrscpyPad) {
    TestContext t;
    t.env.current_task = [] {
        TaskIdentity id;
        id.pid = 11;
        id.tgid = 10;
        id.uid = 1000;
        id.gid = 100;
        std::memcpy(id.comm, "fifteen-chars-x", 16);
        return id;
    };
    EXPECT_EQ(t.call(14), (10ULL << 32) | 11);
    EXPECT_EQ(t.call(15), (100ULL << 32) | 1000);
    char buf[8];
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(t.call(16, arg(buf), 5), 0u);
    EXPECT_EQ(std::string(buf, 5), std::string("fift\0", 5));
    EXPECT_EQ(buf[5], 'x');  // nothing past size
    char big[32];
    std::memset(big, 'x', sizeof big);
    EXPECT_EQ(t.call(16, arg(big), sizeof big), 0u);
    EXPECT_STREQ(big, "fifteen-chars-x");
    for (std::size_t i = 15; i < sizeof big; ++i) EXPECT_EQ(big[i], 0);
}

// ---- strtol / strtoul / strncmp ----

struct StrtoCase {
    const char* text;
    std::size_t len;  // 0: strlen
    u64 flags;
    std::int64_t ret;  // consumed characters or -errno
    std::int64_t value;
};

std::int64_t run_strtol(TestContext& t, const StrtoCase& c, std::int64_t* value) {
    const std::size_t len = c.len ? c.len : std::strlen(c.text);
    *value = 12345;
    return static_cast<std::int64_t>(t.call(105, arg(c.text), len, c.flags, arg(value)));
}

TEST(StringHelpers, StrtolFollowsTheKernel) {
    const StrtoCase cases[] = {
        {"123", 0, 0, 3, 123},
        {"  -42abc", 0, 0, 5, -42},
        {"\t\n+5", 0, 0, -EINVAL, 0},  // the kernel takes no '+'
        {"0x1f", 0, 0, 4, 31},
        {"0x1f", 0, 16, 4, 31},
        {"0x", 0, 16, -EINVAL, 0},  // prefix skipped, no digit
        {"0xg", 0, 0, 1, 0},        // base 0: "0x" needs a hex digit, so octal "0"
        {"0777", 0, 0, 4, 511},
        {"0778", 0, 0, 3, 63},
        {"0777", 0, 10, 4, 777},
        {"1f", 0, 16, 2, 31},
        {"ff", 0, 10, -EINVAL, 0},
        {"9223372036854775807", 0, 0, 19, INT64_MAX},
        {"9223372036854775808", 0, 0, -ERANGE, 0},
        {"-9223372036854775808", 0, 0, 20, INT64_MIN},
        {"-9223372036854775809", 0, 0, -ERANGE, 0},
        {"18446744073709551616", 0, 0, -ERANGE, 0},
        {"", 1, 0, -EINVAL, 0},  // a lone NUL
        {"   ", 0, 0, -EINVAL, 0},
        {"-", 0, 0, -EINVAL, 0},
        {"12", 0, 2, -EINVAL, 0},     // base 2 is not allowed
        {"12", 0, 0x20, -EINVAL, 0},  // bits above the base
        {"1234", 2, 0, 2, 12},        // buf_len bounds the text
        {"\xa0"
         "7",
         0, 0, 2, 7},  // 0xA0 is a space to the kernel
    };
    TestContext t;
    for (const StrtoCase& c : cases) {
        std::int64_t value;
        EXPECT_EQ(run_strtol(t, c, &value), c.ret) << '"' << c.text << "\" flags " << c.flags;
        EXPECT_EQ(value, c.value) << '"' << c.text << '"';
    }
    // Only 63 characters after the sign are looked at: 70 zeros then 1 parse as 0, consuming 63 + 1.
    std::string zeros(70, '0');
    zeros += '1';
    std::int64_t value;
    EXPECT_EQ(run_strtol(t, StrtoCase{zeros.c_str(), 0, 10, 0, 0}, &value), 63);
    EXPECT_EQ(value, 0);
}

TEST(StringHelpers, StrtoulFollowsTheKernel) {
    TestContext t;
    u64 value = 7;
    const char* max = "18446744073709551615";
    EXPECT_EQ(t.call(106, arg(max), std::strlen(max), 0, arg(&value)), 20u);
    EXPECT_EQ(value, ~0ULL);
    const char* neg_text = "-1";
    EXPECT_EQ(t.call(106, arg(neg_text), 2, 0, arg(&value)), neg(EINVAL));
    EXPECT_EQ(value, 0u);
    const char* hex = " 0XfF!";
    EXPECT_EQ(t.call(106, arg(hex), std::strlen(hex), 16, arg(&value)), 5u);
    EXPECT_EQ(value, 255u);
    const char* big = "0x10000000000000000";
    EXPECT_EQ(t.call(106, arg(big), std::strlen(big), 0, arg(&value)), neg(ERANGE));
}

TEST(StringHelpers, StrncmpIsTheKernels) {
    TestContext t;
    const char a[] = "abcdef";
    EXPECT_EQ(t.call(182, arg(a), 6, arg("abcdef")), 0u);
    EXPECT_EQ(t.call(182, arg(a), 3, arg("abc")), 0u);
    EXPECT_EQ(t.call(182, arg(a), 3, arg("abd")), neg(1));
    EXPECT_EQ(t.call(182, arg(a), 6, arg("abc")), 1u);  // 'd' > NUL
    EXPECT_EQ(t.call(182, arg(a), 2, arg("abc")), 0u);
    const unsigned char hi[] = {0xff, 0};
    EXPECT_EQ(t.call(182, arg(hi), 2, arg("a")), 1u);  // unsigned comparison
}

}  // namespace
}  // namespace xbpf::helpers::test
