// ExecMemory: packed arenas (memfd mapped read+execute, written with pwrite, freed slots invalidated with int3), the
// mprotect fallback, thread safety, fork safety and W^X as /proc/self/maps shows it.
#include "jit/exec_memory.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <asmjit/x86.h>
#include <gtest/gtest.h>

namespace xbpf::jit {
namespace {

/// `mov eax, value; ret` followed by int3 up to `size` bytes (at least the 6 bytes of the code), assembled by asmjit.
std::vector<std::uint8_t> ret_const(std::uint32_t value, std::size_t size = 0) {
    asmjit::CodeHolder code;
    code.init(asmjit::Environment::host());
    asmjit::x86::Assembler a(&code);
    a.mov(asmjit::x86::eax, value);
    a.ret();
    while (code.codeSize() < size) a.int3();
    std::vector<std::uint8_t> out(code.codeSize());
    EXPECT_EQ(code.flatten(), asmjit::kErrorOk);
    EXPECT_EQ(code.copyFlattenedData(out.data(), out.size()), asmjit::kErrorOk);
    return out;
}

std::uint32_t call(const ExecMemory& m) { return reinterpret_cast<std::uint32_t (*)()>(m.data())(); }

/// Every byte of [from, to) is int3.
bool all_int3(const std::uint8_t* from, const std::uint8_t* to) {
    return std::all_of(from, to, [](std::uint8_t b) { return b == 0xcc; });
}

struct Mapping {
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    std::string perms;
    std::string name;
};

std::vector<Mapping> read_maps() {
    std::vector<Mapping> out;
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        Mapping m;
        char perms[5] = {};
        int name_at = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx %4s %*s %*s %*s %n", &m.lo, &m.hi, perms, &name_at) < 3) continue;
        m.perms = perms;
        if (name_at > 0) m.name = line.substr(static_cast<std::size_t>(name_at));
        out.push_back(m);
    }
    return out;
}

const Mapping* mapping_of(const std::vector<Mapping>& maps, const void* p) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    for (const Mapping& m : maps)
        if (a >= m.lo && a < m.hi) return &m;
    return nullptr;
}

/// Sets the packing switch for one test and restores it.
class Packing {
  public:
    explicit Packing(bool on) : old_(ExecMemory::set_packing(on)) {}
    ~Packing() { ExecMemory::set_packing(old_); }
    Packing(const Packing&) = delete;
    Packing& operator=(const Packing&) = delete;

  private:
    bool old_;
};

ExecMemory must_write(std::span<const std::uint8_t> bytes) {
    auto m = ExecMemory::allocate(bytes.size());
    EXPECT_TRUE(m) << m.error().to_string();
    if (!m) return {};
    auto w = m->write(bytes);
    EXPECT_TRUE(w) << w.error().to_string();
    return std::move(*m);
}

TEST(JitExecMemory, PackedWriteAndRun) {
    Packing on(true);
    const auto code = ret_const(42);
    auto m = ExecMemory::allocate(code.size());
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->packed());
    EXPECT_EQ(m->size(), code.size());
    EXPECT_EQ(m->reserved(), ExecMemory::kUnit);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->data()) % ExecMemory::kUnit, 0u);
    // Reserved but not written: the slot is int3 already, and executable at its final address.
    EXPECT_TRUE(all_int3(m->data(), m->data() + m->reserved()));
    ASSERT_TRUE(m->write(code));
    EXPECT_TRUE(std::equal(code.begin(), code.end(), m->data()));
    EXPECT_TRUE(all_int3(m->data() + m->size(), m->data() + m->reserved()));
    EXPECT_EQ(call(*m), 42u);
    // write() is once, with exactly size() bytes.
    EXPECT_FALSE(m->write(code));
    auto n = ExecMemory::allocate(code.size() + 1);
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->write(code));
    ASSERT_TRUE(n->write(ret_const(7, code.size() + 1)));
    EXPECT_EQ(call(*n), 7u);
    // Moves transfer the slot.
    ExecMemory moved = std::move(*n);
    EXPECT_EQ(n->data(), nullptr);
    EXPECT_EQ(call(moved), 7u);
}

TEST(JitExecMemory, MixedSizesPackedDisjointFreedAsInt3AndReused) {
    Packing on(true);
    std::mt19937 rng(1234);
    std::vector<ExecMemory> mem;
    for (std::uint32_t i = 0; i < 120; ++i) {
        const std::size_t size = std::uniform_int_distribution<std::size_t>(6, 9000)(rng);
        mem.push_back(must_write(ret_const(i, size)));
        ASSERT_TRUE(mem.back().packed());
        EXPECT_EQ(mem.back().reserved() % ExecMemory::kUnit, 0u);
        EXPECT_GE(mem.back().reserved(), size);
        EXPECT_LT(mem.back().reserved(), size + ExecMemory::kUnit);
    }
    auto check_disjoint = [](const std::vector<ExecMemory>& v) {
        std::vector<std::pair<const std::uint8_t*, const std::uint8_t*>> r;
        for (const ExecMemory& m : v)
            if (m.data()) r.emplace_back(m.data(), m.data() + m.reserved());
        std::sort(r.begin(), r.end());
        for (std::size_t i = 1; i < r.size(); ++i) EXPECT_LE(r[i - 1].second, r[i].first) << "overlapping slots";
    };
    check_disjoint(mem);
    for (std::uint32_t i = 0; i < mem.size(); ++i) ASSERT_EQ(call(mem[i]), i);
    // Many programs share an arena: all of these fit in two.
    const auto maps = read_maps();
    std::vector<const Mapping*> arenas;
    for (const ExecMemory& m : mem) arenas.push_back(mapping_of(maps, m.data()));
    std::sort(arenas.begin(), arenas.end());
    arenas.erase(std::unique(arenas.begin(), arenas.end()), arenas.end());
    EXPECT_LE(arenas.size(), 2u);

    // Free every other one: their code bytes become int3 (read back while the arena stays mapped: its other slots
    // are alive; invalidate_freed ends the batching).
    std::vector<std::pair<std::uint8_t*, std::size_t>> freed;
    for (std::size_t i = 1; i < mem.size(); i += 2) {
        freed.emplace_back(mem[i].data(), mem[i].size());
        mem[i] = ExecMemory{};
    }
    ExecMemory::invalidate_freed();
    const auto maps_after = read_maps();
    std::size_t checked = 0;
    for (auto [p, n] : freed) {
        if (!mapping_of(maps_after, p)) continue;
        EXPECT_TRUE(all_int3(p, p + n)) << "freed code not invalidated";
        ++checked;
    }
    EXPECT_GT(checked, freed.size() / 2);
    // The survivors still run.
    for (std::uint32_t i = 0; i < mem.size(); i += 2) ASSERT_EQ(call(mem[i]), i);
    // New allocations of the freed sizes reuse freed slots (first fit), stay disjoint from the live ones and run.
    std::size_t reused = 0;
    for (std::size_t k = 0; k < freed.size(); ++k) {
        const std::size_t i = 2 * k + 1;
        mem[i] = must_write(ret_const(static_cast<std::uint32_t>(1000 + i), freed[k].second));
        for (auto [p, n] : freed) reused += mem[i].data() == p;
    }
    EXPECT_GT(reused, freed.size() / 2);
    check_disjoint(mem);
    for (std::uint32_t i = 0; i < mem.size(); ++i) ASSERT_EQ(call(mem[i]), i % 2 ? 1000 + i : i);
}

TEST(JitExecMemory, FreedCodeIsInvalidatedInBatchesAndNeverReusedFirst) {
    Packing on(true);
    ExecMemory::invalidate_freed();
    ExecMemory keep = must_write(ret_const(7, 100));  // keeps the arena mapped
    // Freed slots wait for invalidation: no allocation gets them meanwhile.
    std::vector<std::uint8_t*> freed;
    for (int i = 0; i < 15; ++i) {
        ExecMemory m = must_write(ret_const(static_cast<std::uint32_t>(i), 100));
        freed.push_back(m.data());
    }  // (each freed at the end of its iteration)
    std::sort(freed.begin(), freed.end());
    EXPECT_EQ(std::adjacent_find(freed.begin(), freed.end()), freed.end()) << "a freed slot was reused before int3";
    // The 16th free invalidates the batch: every freed slot's code is int3.
    {
        ExecMemory m = must_write(ret_const(99, 100));
        freed.push_back(m.data());
    }
    for (std::uint8_t* p : freed) EXPECT_TRUE(all_int3(p, p + 100)) << "freed code not invalidated";
    // Then the slots are free again.
    ExecMemory again = must_write(ret_const(5, 100));
    EXPECT_NE(std::find(freed.begin(), freed.end(), again.data()), freed.end());
    EXPECT_EQ(call(again), 5u);
    EXPECT_EQ(call(keep), 7u);
}

TEST(JitExecMemory, ConcurrentAllocateWriteRunFree) {
    Packing on(true);
    constexpr int kThreads = 4;
    constexpr int kRounds = 400;
    std::vector<int> errors(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([t, &errors] {
            std::mt19937 rng(static_cast<unsigned>(t));
            std::vector<std::pair<ExecMemory, std::uint32_t>> live;
            for (int i = 0; i < kRounds; ++i) {
                const auto value = static_cast<std::uint32_t>(t * 100000 + i);
                const std::size_t size = std::uniform_int_distribution<std::size_t>(6, 3000)(rng);
                auto m = ExecMemory::allocate(size);
                if (!m || !m->write(ret_const(value, size))) {
                    ++errors[t];
                    continue;
                }
                live.emplace_back(std::move(*m), value);
                if (live.size() > 8) live.erase(live.begin() + static_cast<long>(rng() % live.size()));
                for (auto& [mem, v] : live) errors[t] += call(mem) != v;
            }
        });
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
}

TEST(JitExecMemory, FallbackWhenPackingIsOffAndForLargeCode) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    {
        Packing off(false);
        auto m = ExecMemory::allocate(1000);
        ASSERT_TRUE(m);
        EXPECT_FALSE(m->packed());
        EXPECT_EQ(m->reserved() % page, 0u);
        // Reserved: read-write and not executable.
        const auto maps_before = read_maps();
        const Mapping* before = mapping_of(maps_before, m->data());
        ASSERT_NE(before, nullptr);
        EXPECT_EQ(before->perms.substr(0, 3), "rw-");
        ASSERT_TRUE(m->write(ret_const(5, 1000)));
        EXPECT_EQ(call(*m), 5u);
        EXPECT_TRUE(all_int3(m->data() + m->size(), m->data() + m->reserved()));
        EXPECT_FALSE(m->write(ret_const(5, 1000)));
        const auto maps = read_maps();
        const Mapping* after = mapping_of(maps, m->data());
        ASSERT_NE(after, nullptr);
        EXPECT_EQ(after->perms, "r-xp");
        // A freed fallback mapping is pooled and reused (this one, or another of the pool): its old bytes past the new
        // code become int3.
        *m = ExecMemory{};
        auto again = ExecMemory::allocate(600);
        ASSERT_TRUE(again);
        ASSERT_TRUE(again->write(ret_const(6, 600)));
        EXPECT_EQ(call(*again), 6u);
        EXPECT_TRUE(all_int3(again->data() + 600, again->data() + again->reserved()));
    }
    Packing on(true);
    auto big = ExecMemory::allocate(ExecMemory::kMaxPacked + 1);
    ASSERT_TRUE(big);
    EXPECT_FALSE(big->packed());
    ASSERT_TRUE(big->write(ret_const(9, ExecMemory::kMaxPacked + 1)));
    EXPECT_EQ(call(*big), 9u);
    auto largest_packed = ExecMemory::allocate(ExecMemory::kMaxPacked);
    ASSERT_TRUE(largest_packed);
    EXPECT_TRUE(largest_packed->packed());
}

// memfd_create refused (as a seccomp sandbox may): allocations fall back to the mprotect scheme and still run. In a
// child, since the filter cannot be removed.
TEST(JitExecMemory, FallbackWhenMemfdCreateIsRefused) {
    Packing on(true);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_create, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(100);
        int fail = 0;
        for (std::uint32_t i = 0; i < 3; ++i) {
            auto m = ExecMemory::allocate(100);
            if (!m || !m->write(ret_const(i, 100))) {
                fail |= 1;
                break;
            }
            if (m->packed()) fail |= 2;
            if (call(*m) != i) fail |= 4;
        }
        _exit(fail);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 100) GTEST_SKIP() << "cannot install a seccomp filter here";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child failure bits (1 allocate/write, 2 packed, 4 wrong result)";
}

TEST(JitExecMemory, EmptyArenasBeyondOneAreUnmapped) {
    Packing on(true);
    auto count_arenas = [] {
        std::size_t n = 0;
        for (const Mapping& m : read_maps()) n += m.name.find("memfd:xbpf-jit") != std::string::npos;
        return n;
    };
    const std::size_t before = count_arenas();
    std::vector<ExecMemory> mem;
    // Four of the largest packed slots fill an arena; the arenas there already hold at most 4 * before of them, so
    // the rest need at least four new arenas.
    const std::size_t n = 16 + 4 * before;
    for (std::size_t i = 0; i < n; ++i)
        mem.push_back(must_write(ret_const(static_cast<std::uint32_t>(i), ExecMemory::kMaxPacked)));
    for (const ExecMemory& m : mem) ASSERT_TRUE(m.packed());
    EXPECT_GE(count_arenas(), before + 4);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(call(mem[i]), i);
    mem.clear();
    EXPECT_LE(count_arenas(), before + 1);
}

TEST(JitExecMemory, ForkedChildNeverWritesInheritedArenas) {
    Packing on(true);
    const auto code_a = ret_const(42, 200);
    ExecMemory a = must_write(code_a);
    ExecMemory hole = must_write(ret_const(1, 300));
    ASSERT_TRUE(a.packed() && hole.packed());
    const std::uint8_t* hole_at = hole.data();
    hole = ExecMemory{};  // a free slot in the parent's arena, before fork
    auto unwritten = ExecMemory::allocate(64);
    ASSERT_TRUE(unwritten && unwritten->packed());
    const auto maps = read_maps();
    const Mapping* arena = mapping_of(maps, a.data());
    ASSERT_NE(arena, nullptr);
    const Mapping parent_arena = *arena;

    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int fail = 0;
        // The child cannot write a slot its parent reserved.
        if (unwritten->write(ret_const(3, 64))) fail |= 1;
        // Its copy of the parent's code runs; dropping that copy must not invalidate the parent's bytes.
        if (call(a) != 42) fail |= 2;
        { ExecMemory drop = std::move(a); }
        { ExecMemory drop = std::move(*unwritten); }
        // New code goes into a new arena, not into the parent's free slot.
        for (int i = 0; i < 20; ++i) {
            auto m = ExecMemory::allocate(300);
            if (!m || !m->write(ret_const(static_cast<std::uint32_t>(i), 300))) {
                fail |= 4;
                break;
            }
            if (!m->packed()) fail |= 8;
            const auto p = reinterpret_cast<std::uintptr_t>(m->data());
            if (m->data() == hole_at || (p >= parent_arena.lo && p < parent_arena.hi)) fail |= 16;
            if (call(*m) != static_cast<std::uint32_t>(i)) fail |= 32;
        }
        _exit(fail);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child failure bits (1 wrote a parent's slot, 2 inherited code, 4 alloc, "
                                         "8 not packed, 16 used the parent's arena, 32 wrong result)";
    // The parent's code and its reserved slot are intact; the parent can still write it.
    EXPECT_TRUE(std::equal(code_a.begin(), code_a.end(), a.data()));
    EXPECT_EQ(call(a), 42u);
    EXPECT_TRUE(all_int3(unwritten->data(), unwritten->data() + unwritten->reserved()));
    ASSERT_TRUE(unwritten->write(ret_const(3, 64)));
    EXPECT_EQ(call(*unwritten), 3u);
}

TEST(JitExecMemory, NoMappingIsWritableAndExecutable) {
    ExecMemory packed;
    ExecMemory fallback;
    {
        Packing on(true);
        packed = must_write(ret_const(1));
    }
    {
        Packing off(false);
        fallback = must_write(ret_const(2));
    }
    ASSERT_TRUE(packed.packed());
    ASSERT_FALSE(fallback.packed());
    const auto maps = read_maps();
    for (const Mapping& m : maps) EXPECT_FALSE(m.perms[1] == 'w' && m.perms[2] == 'x') << "w+x: " << m.name;
    const Mapping* p = mapping_of(maps, packed.data());
    const Mapping* f = mapping_of(maps, fallback.data());
    ASSERT_TRUE(p && f);
    EXPECT_EQ(p->perms, "r-xs");  // the arena: a shared mapping of the memfd, never writable
    EXPECT_NE(p->name.find("memfd:xbpf-jit"), std::string::npos) << p->name;
    EXPECT_EQ(f->perms, "r-xp");
    EXPECT_EQ(call(packed), 1u);
    EXPECT_EQ(call(fallback), 2u);
}

}  // namespace
}  // namespace xbpf::jit
