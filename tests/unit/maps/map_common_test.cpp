// What every map shares: creation errors, ids, the host side's syscall checks (flags, BPF_F_RDONLY/WRONLY, frozen
// maps, key-less maps), host value sizes, bpf_spin_lock copy rules, dump, and the per-CPU identity.
#include <cerrno>
#include <thread>

#include "map_test_util.hpp"
#include "maps/cpu.hpp"
#include "maps/lock.hpp"

namespace xbpf::maps::test {
namespace {

TEST(MapCommon, CreateMapNamesTheProblemAndErrno) {
    MapSpec s = spec(MapType::Hash, 0, 8, 10);
    s.name = "counts";
    auto r = create_map(s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message, "map 'counts' (hash): key_size must be > 0 (EINVAL)");

    s = spec(MapType::CgroupArray, 4, 4, 1);
    r = create_map(s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);

    s = spec(static_cast<MapType>(99), 4, 4, 1);
    EXPECT_EQ(create_errno(s), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Unspec, 4, 4, 1)), -EINVAL);
}

TEST(MapCommon, CommonCreationRules) {
    MapSpec s = spec(MapType::Hash, 4, 8, 10);
    s.map_extra = 1;
    EXPECT_EQ(create_errno(s), -EINVAL) << "map_extra only for bloom filters";
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 8, 10, kFRdonly | kFWronly)), -EINVAL);
    s = spec(MapType::Hash, 4, 8, 10);
    s.name = "has space";
    EXPECT_EQ(create_errno(s), -EINVAL);
    s.name = "sixteen_chars_ok-but-truncated";  // only the first 15 characters reach the kernel
    EXPECT_EQ(create_errno(s), 0);
    s.name = "";
    EXPECT_EQ(create_errno(s), 0);
}

TEST(MapCommon, SpinLockRules) {
    MapSpec s = spec(MapType::Hash, 4, 16, 4);
    s.spin_lock_off = 8;
    EXPECT_EQ(create_errno(s), 0);
    s.spin_lock_off = 13;
    EXPECT_EQ(create_errno(s), -EINVAL) << "unaligned";
    s.spin_lock_off = 16;
    EXPECT_EQ(create_errno(s), -EINVAL) << "outside the value";
    s.spin_lock_off = 0;
    s.type = MapType::PercpuArray;
    s.key_size = 4;
    EXPECT_EQ(create_errno(s), -EOPNOTSUPP);
    s.type = MapType::Array;
    s.flags = kFRdonlyProg;
    EXPECT_EQ(create_errno(s), -EACCES);
}

TEST(MapCommon, IdsAndRegistry) {
    auto a = make(spec(MapType::Array, 4, 8, 1));
    auto b = make(spec(MapType::Array, 4, 8, 1));
    EXPECT_GE(a->id(), 1u);
    EXPECT_NE(a->id(), b->id());
    EXPECT_EQ(find_map_by_id(a->id()), a);
    const std::uint32_t id = b->id();
    b.reset();
    EXPECT_EQ(find_map_by_id(id), nullptr);
    EXPECT_EQ(find_map_by_id(0), nullptr);
}

TEST(MapCommon, HostValueSizes) {
    const std::uint32_t n = num_possible_cpus();
    EXPECT_EQ(make(spec(MapType::Hash, 4, 12, 1))->host_value_size(), 12u);
    EXPECT_EQ(make(spec(MapType::PercpuArray, 4, 12, 1))->host_value_size(), 16u * n);
    EXPECT_EQ(make(spec(MapType::PercpuHash, 4, 3, 1))->host_value_size(), 8u * n);
    EXPECT_EQ(make(spec(MapType::LruPercpuHash, 4, 8, 1))->host_value_size(), 8u * n);
    EXPECT_EQ(make(spec(MapType::ProgArray, 4, 4, 1))->host_value_size(), 4u);
}

TEST(MapCommon, HostFlagChecks) {
    auto m = make(spec(MapType::Hash, 4, 8, 4));
    std::uint32_t k = 1;
    std::uint64_t v = 2;
    EXPECT_EQ(m->lookup_copy(&k, &v, 1), -EINVAL) << "lookup takes only BPF_F_LOCK";
    EXPECT_EQ(m->lookup_copy(&k, &v, kFLock), -EINVAL) << "BPF_F_LOCK without a spin lock";
    EXPECT_EQ(m->update_host(&k, &v, kFLock), -EINVAL);
    EXPECT_EQ(m->lookup_and_delete(&k, &v, 8), -EINVAL);
    EXPECT_EQ(m->update_host(nullptr, &v), -EFAULT) << "a keyed map needs a key";
    EXPECT_EQ(m->update_host(&k, &v, 3), -EINVAL);
}

TEST(MapCommon, KeylessMapsRefuseKeys) {
    auto q = make(spec(MapType::Queue, 0, 8, 4));
    std::uint32_t k = 0;
    std::uint64_t v = 1;
    EXPECT_EQ(q->update_host(&k, &v), -EINVAL);
    EXPECT_EQ(q->lookup_copy(&k, &v), -EINVAL);
    EXPECT_EQ(q->erase_host(&k), -EINVAL);
    EXPECT_EQ(q->get_next_key_host(&k, &k), -EINVAL);
    EXPECT_EQ(q->update_host(nullptr, &v), 0);
}

TEST(MapCommon, ReadOnlyAndWriteOnlyMaps) {
    auto ro = make(spec(MapType::Array, 4, 8, 2, kFRdonly));
    std::uint32_t k = 0, next = 0;
    std::uint64_t v = 1;
    EXPECT_EQ(ro->update_host(&k, &v), -EPERM);
    EXPECT_EQ(ro->erase_host(&k), -EPERM);
    EXPECT_EQ(ro->lookup_copy(&k, &v), 0);
    EXPECT_EQ(ro->update(&k, &v, kAny), 0) << "programs may still write (BPF_F_RDONLY_PROG is the verifier's)";
    auto wo = make(spec(MapType::Array, 4, 8, 2, kFWronly));
    EXPECT_EQ(wo->lookup_copy(&k, &v), -EPERM);
    EXPECT_EQ(wo->get_next_key_host(nullptr, &next), -EPERM);
    EXPECT_EQ(wo->lookup_and_delete(&k, &v), -EPERM);
    EXPECT_EQ(wo->update_host(&k, &v), 0);
    EXPECT_TRUE(wo->dump().empty());
}

TEST(MapCommon, Freeze) {
    auto m = make(spec(MapType::Array, 4, 8, 2));
    EXPECT_EQ(put(*m, 0, 5), 0);
    EXPECT_FALSE(m->frozen());
    EXPECT_EQ(m->freeze(), 0);
    EXPECT_TRUE(m->frozen());
    EXPECT_EQ(put(*m, 0, 6), -EPERM);
    EXPECT_EQ(host_u64(*m, 0), 5);
    std::uint32_t k = 0;
    std::uint64_t v = 7;
    EXPECT_EQ(m->update(&k, &v, kAny), 0) << "programs still write frozen maps";
    EXPECT_EQ(host_u64(*m, 0), 7);
    EXPECT_EQ(m->freeze(), -EPERM) << "a frozen map has lost write permission";
    MapSpec locked = spec(MapType::Array, 4, 8, 1);
    locked.spin_lock_off = 0;
    EXPECT_EQ(make(locked)->freeze(), -kENOTSUPP);
}

TEST(MapCommon, SpinLockCopies) {
    MapSpec s = spec(MapType::Array, 4, 16, 1);
    s.spin_lock_off = 4;
    auto m = make(s);
    std::uint32_t k = 0;
    std::uint8_t in[16], out[16];
    for (int i = 0; i < 16; ++i) in[i] = static_cast<std::uint8_t>(0xa0 + i);
    ASSERT_EQ(m->update_host(&k, in, kAny), 0);
    auto* value = static_cast<std::uint8_t*>(m->lookup(&k));
    EXPECT_EQ(load<std::uint32_t>(value + 4), 0u) << "updates never write the lock word";
    EXPECT_EQ(value[0], 0xa0);
    EXPECT_EQ(value[8], 0xa8);
    value_spin_lock(value + 4);
    EXPECT_NE(load<std::uint32_t>(value + 4), 0u);
    std::memset(out, 0xff, sizeof out);
    ASSERT_EQ(m->lookup_copy(&k, out), 0);
    EXPECT_EQ(load<std::uint32_t>(out + 4), 0u) << "lookups zero the lock word (check_and_init_map_value)";
    EXPECT_EQ(out[15], 0xaf);
    // BPF_F_LOCK waits for the program's lock.
    std::thread writer([&] { EXPECT_EQ(m->update_host(&k, out, kFLock), 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    value_spin_unlock(value + 4);
    writer.join();
    EXPECT_EQ(m->lookup_copy(&k, out, kFLock), 0);
    EXPECT_EQ(out[15], 0xaf);
}

TEST(MapCommon, DumpInKeyOrder) {
    auto m = make(spec(MapType::Array, 4, 8, 3));
    for (std::uint32_t i = 0; i < 3; ++i) put(*m, i, 10 + i);
    const auto d = m->dump();
    ASSERT_EQ(d.size(), 3u);
    for (std::uint32_t i = 0; i < 3; ++i) {
        EXPECT_EQ(load<std::uint32_t>(d[i].key.data()), i);
        EXPECT_EQ(load<std::uint64_t>(d[i].value.data()), 10 + i);
    }
}

TEST(MapCommon, HugeSpecsFailCleanly) {
    // A hostile object may ask for billions of entries: creation succeeds (address space only, nothing is touched)
    // or refuses with -ENOMEM; it never throws or aborts.
    const MapSpec huge[] = {
        spec(MapType::ProgArray, 4, 4, UINT32_MAX),  spec(MapType::PerfEventArray, 4, 4, UINT32_MAX),
        spec(MapType::Queue, 0, 64, UINT32_MAX),     spec(MapType::Array, 4, 1 << 20, 1u << 20),
        spec(MapType::Hash, 4, 1024, 1u << 27),      spec(MapType::PercpuArray, 4, 32768, 1u << 20),
        spec(MapType::StackTrace, 4, 1016, 1u << 31)};
    for (const MapSpec& s : huge) {
        const int rc = create_errno(s);
        EXPECT_TRUE(rc == 0 || rc == -ENOMEM) << map_type_name(s.type) << ": " << rc;
    }
}

TEST(MapCommon, ErrnoNames) {
    EXPECT_EQ(errno_name(-EINVAL), "EINVAL");
    EXPECT_EQ(errno_name(E2BIG), "E2BIG");
    EXPECT_EQ(errno_name(-kENOTSUPP), "ENOTSUPP");
    EXPECT_EQ(errno_name(-EOPNOTSUPP), "EOPNOTSUPP");
}

TEST(MapCpu, PossibleCpusAndScopes) {
    const std::uint32_t n = num_possible_cpus();
    EXPECT_GE(n, 1u);
    EXPECT_EQ(current_cpu(), 0u);
    {
        CpuScope outer(1 % n);
        EXPECT_EQ(current_cpu(), 1 % n);
        {
            CpuScope inner(n + 2);  // taken modulo the possible CPUs
            EXPECT_EQ(current_cpu(), (n + 2) % n);
        }
        EXPECT_EQ(current_cpu(), 1 % n);
        std::thread([] { EXPECT_EQ(current_cpu(), 0u) << "per thread"; }).join();
    }
    EXPECT_EQ(current_cpu(), 0u);
}

}  // namespace
}  // namespace xbpf::maps::test
