// prog_array, array_of_maps / hash_of_maps and the RCU that keeps what programs hold alive.
#include <atomic>
#include <cerrno>
#include <thread>

#include "map_test_util.hpp"
#include "maps/cpu.hpp"
#include "maps/map_in_map.hpp"
#include "maps/prog_array.hpp"
#include "maps/rcu.hpp"

namespace xbpf::maps::test {
namespace {

/// Counts live instances, to observe when the RCU drops them.
class Prog : public TailCallTarget {
  public:
    Prog(std::uint32_t type, std::uint32_t id, std::atomic<int>* live) : type_(type), id_(id), live_(live) {
        if (live_) ++*live_;
    }
    ~Prog() override {
        if (live_) --*live_;
    }
    std::uint32_t prog_type() const override { return type_; }
    std::uint32_t prog_id() const override { return id_; }

  private:
    std::uint32_t type_, id_;
    std::atomic<int>* live_;
};

TEST(MapProgArray, TailCallTable) {
    auto m = std::static_pointer_cast<ProgArrayMap>(make(spec(MapType::ProgArray, 4, 4, 4)));
    EXPECT_EQ(create_errno(spec(MapType::ProgArray, 4, 8, 4)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::ProgArray, 4, 4, 4, kFRdonlyProg)), -EINVAL);
    auto p = std::make_shared<Prog>(1, 7, nullptr);
    EXPECT_EQ(m->set(4, p), -E2BIG);
    EXPECT_EQ(m->set(1, p), 0);
    EXPECT_EQ(m->tail_call_target(1), p.get());
    EXPECT_EQ(m->tail_call_target(0), nullptr);
    EXPECT_EQ(m->tail_call_target(100), nullptr);
    EXPECT_EQ(m->set(2, std::make_shared<Prog>(6, 8, nullptr)), -EINVAL) << "one program type per map";
    EXPECT_FALSE(m->claim_owner(6));
    EXPECT_TRUE(m->claim_owner(1));
    std::uint32_t k = 1, id = 0;
    EXPECT_EQ(m->lookup_copy(&k, &id), 0);
    EXPECT_EQ(id, 7u);
    // Host updates go through the resolver ("fd" -> program).
    std::uint32_t fd = 5;
    k = 0;
    EXPECT_EQ(m->update_host(&k, &fd), -EBADF);
    m->set_resolver([&](std::uint32_t f) { return f == 5 ? p : nullptr; });
    EXPECT_EQ(m->update_host(&k, &fd, kExist), -EINVAL) << "BPF_ANY only";
    EXPECT_EQ(m->update_host(&k, &fd), 0);
    EXPECT_EQ(m->erase_host(&k), 0);
    EXPECT_EQ(m->erase_host(&k), -ENOENT);
    EXPECT_EQ(m->lookup(&k), nullptr);
}

TEST(MapProgArray, ReplacedProgramsLiveUntilReadersFinish) {
    std::atomic<int> live{0};
    auto m = std::static_pointer_cast<ProgArrayMap>(make(spec(MapType::ProgArray, 4, 4, 1)));
    ASSERT_EQ(m->set(0, std::make_shared<Prog>(1, 1, &live)), 0);
    TailCallTarget* held = nullptr;
    {
        CpuScope running(0);  // a program run is a read-side section
        held = m->tail_call_target(0);
        std::thread([&] { ASSERT_EQ(m->set(0, std::make_shared<Prog>(1, 2, &live)), 0); }).join();
        EXPECT_EQ(live.load(), 2) << "the replaced program stays alive while a run may use it";
        EXPECT_EQ(held->prog_id(), 1u);
    }
    rcu_reclaim();
    EXPECT_EQ(live.load(), 1);
    std::uint32_t k = 0;
    EXPECT_EQ(m->erase_host(&k), 0);
    rcu_synchronize();
    EXPECT_EQ(live.load(), 0);
}

MapSpec outer_spec(MapType type, std::shared_ptr<const MapSpec> inner) {
    MapSpec s = spec(type, 4, 4, 4);
    s.inner = std::move(inner);
    return s;
}

TEST(MapInMap, CreationChecksTheTemplate) {
    auto inner = std::make_shared<MapSpec>(spec(MapType::Array, 4, 8, 2));
    EXPECT_EQ(create_errno(outer_spec(MapType::ArrayOfMaps, nullptr)), -EBADF);
    EXPECT_EQ(create_errno(outer_spec(MapType::ArrayOfMaps, inner)), 0);
    MapSpec wrong_value = outer_spec(MapType::HashOfMaps, inner);
    wrong_value.value_size = 8;
    EXPECT_EQ(create_errno(wrong_value), -EINVAL);
    auto nested = std::make_shared<MapSpec>(outer_spec(MapType::ArrayOfMaps, inner));
    EXPECT_EQ(create_errno(outer_spec(MapType::HashOfMaps, nested)), -EINVAL);
    auto prog_array = std::make_shared<MapSpec>(spec(MapType::ProgArray, 4, 4, 2));
    EXPECT_EQ(create_errno(outer_spec(MapType::ArrayOfMaps, prog_array)), -kENOTSUPP);
}

TEST(MapInMap, InnerMapsMatchTheTemplate) {
    auto tmpl = std::make_shared<MapSpec>(spec(MapType::Array, 4, 8, 2));
    auto outer = std::static_pointer_cast<MapInMap>(make(outer_spec(MapType::ArrayOfMaps, tmpl)));
    auto good = make(spec(MapType::Array, 4, 8, 2));
    auto other_size = make(spec(MapType::Array, 4, 8, 3));
    auto other_type = make(spec(MapType::Hash, 4, 8, 2));
    std::uint32_t k = 0;
    EXPECT_EQ(outer->set_inner(&k, other_size), -EINVAL) << "array inner maps must keep max_entries";
    EXPECT_EQ(outer->set_inner(&k, other_type), -EINVAL);
    EXPECT_EQ(outer->set_inner(&k, nullptr), -EBADF);
    EXPECT_EQ(outer->set_inner(&k, good, kNoExist), -EINVAL) << "fd arrays take BPF_ANY only";
    EXPECT_EQ(outer->set_inner(&k, good), 0);
    EXPECT_EQ(outer->lookup(&k), good.get()) << "programs get the inner Map*";
    EXPECT_EQ(outer->get_inner(&k), good);
    std::uint32_t id = 0;
    EXPECT_EQ(outer->lookup_copy(&k, &id), 0);
    EXPECT_EQ(id, good->id()) << "the host reads inner map ids";
    // BPF_F_INNER_MAP in the template relaxes max_entries.
    auto relaxed = std::make_shared<MapSpec>(spec(MapType::Array, 4, 8, 2, kFInnerMap));
    auto outer2 = std::static_pointer_cast<MapInMap>(make(outer_spec(MapType::ArrayOfMaps, relaxed)));
    EXPECT_EQ(outer2->set_inner(&k, make(spec(MapType::Array, 4, 8, 9, kFInnerMap))), 0);
    // Host updates take ids.
    k = 1;
    std::uint32_t good_id = good->id(), bogus = 0x7ffffff0;
    EXPECT_EQ(outer->update_host(&k, &bogus), -EBADF);
    EXPECT_EQ(outer->update_host(&k, &good_id), 0);
    EXPECT_EQ(outer->erase_host(&k), 0);
    EXPECT_EQ(outer->erase_host(&k), -ENOENT);
    k = 4;
    EXPECT_EQ(outer->erase_host(&k), -E2BIG);
}

TEST(MapInMap, HashOfMapsFlags) {
    auto tmpl = std::make_shared<MapSpec>(spec(MapType::Hash, 4, 8, 2));
    auto outer = std::static_pointer_cast<MapInMap>(make(outer_spec(MapType::HashOfMaps, tmpl)));
    auto a = make(spec(MapType::Hash, 4, 8, 2));
    std::uint32_t k = 42;
    EXPECT_EQ(outer->set_inner(&k, a, kExist), -ENOENT);
    EXPECT_EQ(outer->set_inner(&k, a, kNoExist), 0);
    EXPECT_EQ(outer->set_inner(&k, a, kNoExist), -EEXIST);
    EXPECT_EQ(outer->set_inner(&k, a, 3), -EINVAL);
    for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(outer->set_inner(&i, a), 0);
    std::uint32_t five = 5;
    EXPECT_EQ(outer->set_inner(&five, a), -E2BIG);
    EXPECT_EQ(keys_of(*outer).size(), 4u);
    EXPECT_EQ(outer->erase_host(&k), 0);
    EXPECT_EQ(outer->lookup(&k), nullptr);
}

TEST(MapInMap, RemovedInnerMapsOutliveRunningPrograms) {
    auto tmpl = std::make_shared<MapSpec>(spec(MapType::Array, 4, 8, 1));
    auto outer = std::static_pointer_cast<MapInMap>(make(outer_spec(MapType::ArrayOfMaps, tmpl)));
    std::weak_ptr<Map> weak;
    std::uint32_t k = 0;
    {
        auto inner = make(spec(MapType::Array, 4, 8, 1));
        weak = inner;
        ASSERT_EQ(outer->set_inner(&k, inner), 0);
    }
    {
        CpuScope running(0);
        Map* in = static_cast<Map*>(outer->lookup(&k));
        ASSERT_NE(in, nullptr);
        std::thread([&] { EXPECT_EQ(outer->erase_host(&k), 0); }).join();
        rcu_reclaim();
        EXPECT_FALSE(weak.expired()) << "a running program still uses it";
        std::uint32_t z = 0;
        EXPECT_NE(in->lookup(&z), nullptr);
    }
    rcu_reclaim();
    EXPECT_TRUE(weak.expired());
}

TEST(MapRcu, SynchronizeWaitsForReaders) {
    std::atomic<bool> in_section{false}, release{false};
    std::thread reader([&] {
        RcuReadLock lock;
        in_section = true;
        while (!release) std::this_thread::yield();
    });
    while (!in_section) std::this_thread::yield();
    auto obj = std::make_shared<int>(5);
    std::weak_ptr<int> weak = obj;
    rcu_retire(std::move(obj));
    EXPECT_FALSE(weak.expired());
    std::atomic<bool> synced{false};
    std::thread syncer([&] {
        rcu_synchronize();
        synced = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(synced.load());
    release = true;
    reader.join();
    syncer.join();
    EXPECT_TRUE(synced.load());
    EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace xbpf::maps::test
