// Concurrent hammering: programs on several threads (each in its own CpuScope, as the VM runs them) and the host at
// once. Checks: nothing crashes (run under ASan+UBSan too), return codes stay within what the kernel could return,
// atomic read-modify-writes on map values lose no update, counts and iteration stay consistent, records arrive
// whole and in per-producer order, inner maps and programs outlive the runs that use them.
#include <atomic>
#include <cerrno>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "map_test_util.hpp"
#include "maps/cpu.hpp"
#include "maps/hash.hpp"
#include "maps/key_hash.hpp"
#include "maps/lpm_trie.hpp"
#include "maps/map_in_map.hpp"
#include "maps/perf_event_array.hpp"
#include "maps/prog_array.hpp"
#include "maps/rcu.hpp"
#include "maps/ringbuf.hpp"
#include "maps/stack_trace.hpp"

namespace xbpf::maps::test {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kScale = 8;  // sanitizer builds are ~10x slower
#else
constexpr int kScale = 1;
#endif
constexpr int kThreads = 4;

struct Rng {
    std::uint64_t s;
    std::uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return static_cast<std::uint32_t>(s);
    }
};

/// Runs fn(thread_index) on kThreads threads, each inside CpuScope(thread_index).
template <class Fn>
void run_threads(Fn fn, int threads = kThreads) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&fn, t] {
            CpuScope cpu(static_cast<std::uint32_t>(t));
            fn(t);
        });
    for (auto& th : pool) th.join();
}

TEST(MapConcurrency, HashInsertDeleteLookupIterate) {
    constexpr std::uint32_t kMax = 128, kKeys = 256;
    auto m = make(spec(MapType::Hash, 4, 8, kMax));
    std::atomic<bool> stop{false};
    std::atomic<int> bad_rc{0};
    std::thread host([&] {  // the host iterates and reads while programs churn
        std::uint64_t v;
        while (!stop) {
            int n = 0;
            for (const auto& e : m->dump()) {
                ++n;
                if (e.key.size() != 4 || e.value.size() != 8) ++bad_rc;
            }
            if (n > static_cast<int>(kMax)) ++bad_rc;
            std::uint32_t k = 7;
            const int rc = m->lookup_copy(&k, &v);
            if (rc != 0 && rc != -ENOENT) ++bad_rc;
        }
    });
    run_threads([&](int t) {
        Rng rng{0x1234u + static_cast<std::uint64_t>(t)};
        for (int i = 0; i < 200000 / kScale; ++i) {
            std::uint32_t key = rng.next() % kKeys;
            const std::uint64_t value = key;
            switch (rng.next() % 4) {
                case 0: {
                    const int rc = m->update(&key, &value, rng.next() % 3);
                    if (rc != 0 && rc != -EEXIST && rc != -ENOENT && rc != -E2BIG) ++bad_rc;
                    break;
                }
                case 1: {
                    const int rc = m->erase(&key);
                    if (rc != 0 && rc != -ENOENT) ++bad_rc;
                    break;
                }
                default: {
                    // A program's lookup then an atomic add on the value it got (the element may be deleted and
                    // reused meanwhile: still map memory, as in the kernel).
                    if (void* p = m->lookup(&key))
                        __atomic_fetch_add(static_cast<std::uint64_t*>(p), 0, __ATOMIC_RELAXED);
                }
            }
        }
    });
    stop = true;
    host.join();
    EXPECT_EQ(bad_rc.load(), 0);
    auto& h = static_cast<HashMap&>(*m);
    const auto keys = keys_of(*m);
    EXPECT_EQ(keys.size(), h.count()) << "iteration sees every element exactly once when quiet";
    EXPECT_EQ(std::set<std::uint32_t>(keys.begin(), keys.end()).size(), keys.size());
    EXPECT_LE(h.count(), kMax);
    for (std::uint32_t k : keys) EXPECT_EQ(host_u64(*m, k), k) << "values stay with their keys";
}

TEST(MapConcurrency, LocklessLookupsNeverMissPresentKeys) {
    // Program lookups walk chains without locks. Keys that stay present must always be found, with their value,
    // while writers insert and delete other keys of the same chains (8 buckets, so chains are long and shared).
    auto m = make(spec(MapType::Hash, 4, 8, 8));  // 8 buckets...
    auto big = make(spec(MapType::Hash, 4, 8, 64));
    for (auto* map : {m.get(), big.get()}) {
        for (std::uint32_t k = 0; k < 4; ++k) ASSERT_EQ(put(*map, k, k + 1000), 0);
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> misses{0}, wrong{0}, found{0};
    std::thread writer([&] {
        Rng rng{5};
        // On until the readers have done some lookups too (they may start late under ASan); bounded.
        for (int i = 0; i < 300000 / kScale || (found.load() < 1000 && i < 30'000'000); ++i) {
            std::uint32_t k = 100 + rng.next() % 40;  // ...shared by the stable keys and the churning ones
            const std::uint64_t v = k;
            for (auto* map : {m.get(), big.get()}) {
                if (rng.next() % 2)
                    map->update(&k, &v, kAny);
                else
                    map->erase(&k);
            }
        }
        stop = true;
    });
    run_threads(
        [&](int t) {
            std::uint32_t k = static_cast<std::uint32_t>(t) % 4;
            while (!stop) {
                for (auto* map : {m.get(), big.get()}) {
                    const void* p = map->lookup(&k);
                    if (!p)
                        ++misses;
                    else if (load<std::uint64_t>(p) != k + 1000)
                        ++wrong;
                    else
                        ++found;
                }
                k = (k + 1) % 4;
            }
        },
        kThreads - 1);
    writer.join();
    EXPECT_EQ(misses.load(), 0u) << "a present key was reported absent";
    EXPECT_EQ(wrong.load(), 0u);
    EXPECT_GT(found.load(), 0u);
}

TEST(MapConcurrency, LocklessWalkSurvivesElementsMovingBetweenChains) {
    // The hard case for lockless lookups: while a reader walks the chain in front of a present key S, the element it
    // stands on is deleted and reused for a key of another bucket, so its link now leads into that other chain.
    // The bucket's sequence count must make the reader retry; without it the reader reports S absent. Bucket
    // placement is known here: BPF_F_ZERO_SEED and the map's hash function.
    constexpr std::uint32_t kBuckets = 16;
    auto m = make(spec(MapType::Hash, 4, 8, kBuckets, kFZeroSeed));
    auto bucket_of = [](std::uint32_t k) { return hash_bytes(&k, 4, 0) & (kBuckets - 1); };
    const std::uint32_t stable = 7;
    std::vector<std::uint32_t> same, other;  // keys in S's bucket, keys elsewhere
    for (std::uint32_t k = 1000; same.size() < 6 || other.size() < 6; ++k) {
        if (bucket_of(k) == bucket_of(stable)) {
            if (same.size() < 6) same.push_back(k);
        } else if (other.size() < 6) {
            other.push_back(k);
        }
    }
    ASSERT_EQ(put(*m, stable, 1), 0);  // first in, so last in its chain: readers walk the churn to reach it
    for (std::uint32_t k : same) ASSERT_EQ(put(*m, k, 2), 0);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> misses{0}, lookups{0};
    std::thread writer([&] {
        Rng rng{11};
        for (int i = 0; i < 400000 / kScale; ++i) {
            // Move an element from S's chain to another chain and back (the free list reuses it at once).
            std::uint32_t a = same[rng.next() % same.size()], b = other[rng.next() % other.size()];
            const std::uint64_t v = 2;
            if (m->erase(&a) == 0) {
                m->update(&b, &v, kAny);
                m->erase(&b);
                m->update(&a, &v, kAny);
            }
        }
        stop = true;
    });
    run_threads(
        [&](int) {
            std::uint32_t k = stable;
            while (!stop) {
                if (!m->lookup(&k)) ++misses;
                ++lookups;
            }
        },
        2);
    writer.join();
    EXPECT_EQ(misses.load(), 0u) << "of " << lookups.load() << " lookups";
}

TEST(MapConcurrency, AtomicAddsOnValuesAreExact) {
    constexpr int kAdds = 200000 / kScale;
    auto array = make(spec(MapType::Array, 4, 8, 1));
    auto hash = make(spec(MapType::Hash, 4, 8, 64));
    ASSERT_EQ(put(*hash, 1, 0), 0);
    run_threads([&](int t) {
        std::uint32_t zero = 0, one = 1;
        for (int i = 0; i < kAdds; ++i) {
            __atomic_fetch_add(static_cast<std::uint64_t*>(array->lookup(&zero)), 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(static_cast<std::uint64_t*>(hash->lookup(&one)), 1, __ATOMIC_RELAXED);
            std::uint32_t other = 2 + static_cast<std::uint32_t>(t);  // churn other keys of the same table
            const std::uint64_t v = 0;
            hash->update(&other, &v, kAny);
            if (i % 3 == 0) hash->erase(&other);
        }
    });
    EXPECT_EQ(host_u64(*array, 0), std::int64_t{kThreads} * kAdds);
    EXPECT_EQ(host_u64(*hash, 1), std::int64_t{kThreads} * kAdds);
}

TEST(MapConcurrency, PerCpuCountersSum) {
    constexpr int kAdds = 100000 / kScale;
    const std::uint32_t n = num_possible_cpus();
    auto pa = make(spec(MapType::PercpuArray, 4, 8, 1));
    auto ph = make(spec(MapType::PercpuHash, 4, 8, 4));
    std::vector<std::uint64_t> zeros(n);
    std::uint32_t zero = 0;
    ASSERT_EQ(ph->update_host(&zero, zeros.data()), 0);
    run_threads([&](int) {
        std::uint32_t k = 0;
        for (int i = 0; i < kAdds; ++i) {
            // Threads beyond the CPU count share a CPU's slot, so the adds must still be atomic.
            __atomic_fetch_add(static_cast<std::uint64_t*>(pa->lookup(&k)), 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(static_cast<std::uint64_t*>(ph->lookup(&k)), 1, __ATOMIC_RELAXED);
        }
    });
    for (auto* m : {pa.get(), ph.get()}) {
        std::vector<std::uint64_t> all(n);
        ASSERT_EQ(m->lookup_copy(&zero, all.data()), 0);
        std::uint64_t sum = 0;
        for (auto v : all) sum += v;
        EXPECT_EQ(sum, std::uint64_t{kThreads} * kAdds) << map_type_name(m->type());
    }
}

TEST(MapConcurrency, LruUnderPressure) {
    for (std::uint32_t flags : {0u, kFNoCommonLru}) {
        auto m = make(spec(MapType::LruHash, 4, 8, 64, flags));
        std::atomic<int> bad_rc{0}, nomem{0};
        run_threads([&](int t) {
            Rng rng{99u + static_cast<std::uint64_t>(t)};
            for (int i = 0; i < 100000 / kScale; ++i) {
                std::uint32_t key = rng.next() % 1000;
                const std::uint64_t v = key;
                if (rng.next() % 4 == 0) {
                    m->lookup(&key);
                } else if (rng.next() % 8 == 0) {
                    m->erase(&key);
                } else {
                    const int rc = m->update(&key, &v, kAny);
                    if (rc == -ENOMEM)
                        ++nomem;  // only if every element was re-referenced during the sweep
                    else if (rc != 0)
                        ++bad_rc;
                }
            }
        });
        EXPECT_EQ(bad_rc.load(), 0) << "an LRU map never reports E2BIG";
        EXPECT_LT(nomem.load(), 10);
        auto& h = static_cast<HashMap&>(*m);
        EXPECT_LE(h.count(), m->spec().max_entries);
        const auto keys = keys_of(*m);
        EXPECT_EQ(keys.size(), h.count());
        for (std::uint32_t k : keys) EXPECT_EQ(host_u64(*m, k), k);
    }
}

TEST(MapConcurrency, QueueConservesValues) {
    auto q = make(spec(MapType::Queue, 0, 8, 512));
    std::atomic<std::uint64_t> pushed_sum{0}, popped_sum{0};
    std::atomic<bool> producers_done{false};
    std::thread consumer_a, consumer_b;
    auto consume = [&] {
        std::uint64_t v;
        for (;;) {
            if (q->pop(&v) == 0)
                popped_sum += v;
            else if (producers_done)
                return;
        }
    };
    consumer_a = std::thread(consume);
    consumer_b = std::thread(consume);
    run_threads(
        [&](int t) {
            for (std::uint64_t i = 1; i <= 50000 / kScale; ++i) {
                const std::uint64_t v = i * 4 + static_cast<std::uint64_t>(t);
                if (q->push(&v, kAny) == 0) pushed_sum += v;
            }
        },
        2);
    producers_done = true;
    consumer_a.join();
    consumer_b.join();
    std::uint64_t v, rest = 0;
    while (q->pop(&v) == 0) rest += v;
    EXPECT_EQ(pushed_sum.load(), popped_sum.load() + rest);
}

TEST(MapConcurrency, RingbufManyProducersOneConsumer) {
    constexpr int kRecords = 20000 / kScale;
    auto rb = std::static_pointer_cast<RingbufMap>(make(spec(MapType::Ringbuf, 0, 0, 16 * 4096)));
    std::atomic<int> producers_left{kThreads};
    std::vector<std::uint32_t> next_seq(kThreads, 0);
    int bad = 0, received = 0;
    std::thread consumer([&] {
        auto on_record = [&](std::span<const std::byte> s) {
            std::uint32_t rec[4];
            if (s.size() != sizeof rec) {
                ++bad;
                return 0;
            }
            std::memcpy(rec, s.data(), sizeof rec);
            const std::uint32_t producer = rec[0], seq = rec[1];
            if (producer >= kThreads || rec[2] != ~seq || rec[3] != producer * 1000 + 7 || seq < next_seq[producer])
                ++bad;  // torn, foreign or out of order
            else
                next_seq[producer] = seq + 1;
            ++received;
            return 0;
        };
        while (producers_left > 0) rb->poll(on_record, 10);
        rb->consume(on_record);
    });
    std::atomic<int> sent{0};
    run_threads([&](int t) {
        for (std::uint32_t seq = 0; seq < kRecords; ++seq) {
            const std::uint32_t rec[4] = {static_cast<std::uint32_t>(t), seq, ~seq,
                                          static_cast<std::uint32_t>(t) * 1000 + 7};
            if (seq % 3 == 0) {
                if (rb->output(rec, sizeof rec, 0) == 0) ++sent;
            } else if (void* s = rb->reserve(sizeof rec, 0)) {
                std::memcpy(s, rec, sizeof rec);
                if (seq % 7 == 0) {
                    RingbufMap::discard(s, 0);
                } else {
                    RingbufMap::submit(s, 0);
                    ++sent;
                }
            }
        }
        --producers_left;
    });
    consumer.join();
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(received, sent.load()) << "every committed record is delivered once";
    EXPECT_EQ(rb->consumer_pos(), rb->producer_pos());
}

TEST(MapConcurrency, PerfBuffersPerCpu) {
    const std::uint32_t n = std::min<std::uint32_t>(num_possible_cpus(), kThreads);
    auto m = std::static_pointer_cast<PerfEventArrayMap>(make(spec(MapType::PerfEventArray, 4, 4, n)));
    ASSERT_EQ(m->open_all(2), 0);
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> ok{0};
    std::uint64_t samples = 0, lost = 0;
    std::thread reader([&] {
        auto sample = [&](std::uint32_t, std::span<const std::byte> d) { samples += d.size() == 12; };
        auto lost_cb = [&](std::uint32_t, std::uint64_t k) { lost += k; };
        while (!done) m->poll(sample, lost_cb, 10);
        m->consume(sample, lost_cb);
        std::uint64_t one = 0;  // a final sample per CPU flushes pending lost records
        for (std::uint32_t cpu = 0; cpu < n; ++cpu) {
            CpuScope scope(cpu);
            if (m->output(kFCurrentCpu, &one, 8) == 0) ++ok;
        }
        m->consume(sample, lost_cb);
    });
    run_threads(
        [&](int) {
            const std::uint64_t payload = 42;
            for (int i = 0; i < 20000 / kScale; ++i) {
                const int rc = m->output(kFCurrentCpu, &payload, 8);
                if (rc == 0)
                    ++ok;
                else
                    EXPECT_EQ(rc, -ENOSPC);
            }
        },
        static_cast<int>(n));
    done = true;
    reader.join();
    EXPECT_EQ(samples, ok.load());
    EXPECT_EQ(samples + lost, std::uint64_t{n} * (20000 / kScale) + n);
}

TEST(MapConcurrency, LpmReadersAndWriters) {
    auto m = make(spec(MapType::LpmTrie, 8, 8, 256, kFNoPrealloc));
    std::atomic<int> bad{0};
    run_threads([&](int t) {
        Rng rng{7u + static_cast<std::uint64_t>(t)};
        struct {
            std::uint32_t prefixlen;
            std::uint8_t data[4];
        } key;
        for (int i = 0; i < 50000 / kScale; ++i) {
            key.prefixlen = rng.next() % 33;
            const std::uint32_t addr = 0x0a000000u | (rng.next() & 0x00ffffffu);
            for (int b = 0; b < 4; ++b) key.data[b] = static_cast<std::uint8_t>(addr >> (24 - 8 * b));
            const std::uint64_t v = key.prefixlen;
            if (t % 2 == 0) {
                const int rc = rng.next() % 2 ? m->update(&key, &v, kAny) : m->erase(&key);
                if (rc != 0 && rc != -ENOENT && rc != -ENOSPC) ++bad;
            } else if (void* p = m->lookup(&key)) {
                if (load<std::uint64_t>(p) > 32) ++bad;  // a value a writer could have stored
            }
        }
    });
    EXPECT_EQ(bad.load(), 0);
    // Quiet again: a walk visits every stored prefix exactly once.
    std::uint64_t cur = 0, next = 0;
    std::set<std::uint64_t> seen;
    for (int rc = m->get_next_key(nullptr, &next); rc == 0 && seen.size() <= 256; rc = m->get_next_key(&cur, &next)) {
        seen.insert(next);
        cur = next;
    }
    EXPECT_EQ(seen.size(), static_cast<LpmTrieMap&>(*m).count());
}

TEST(MapConcurrency, InnerMapsSwappedUnderRunningPrograms) {
    auto tmpl = std::make_shared<MapSpec>(spec(MapType::Array, 4, 8, 1));
    MapSpec outer_s = spec(MapType::ArrayOfMaps, 4, 4, 1);
    outer_s.inner = tmpl;
    auto outer = std::static_pointer_cast<MapInMap>(make(outer_s));
    std::uint32_t zero = 0;
    ASSERT_EQ(outer->set_inner(&zero, make(*tmpl)), 0);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> runs{0};
    std::thread host([&] {
        // At least 2000 / kScale swaps, and on until the program threads have run (a slow start under ASan or a
        // loaded machine must not end the test before they begin); bounded all the same.
        for (int i = 0; i < 2000 / kScale || (runs.load() < 100 && i < 2'000'000); ++i) {
            if (i % 5 == 0)
                outer->erase_host(&zero);
            else
                outer->set_inner(&zero, make(*tmpl));  // the replaced map is released through RCU
        }
        stop = true;
    });
    run_threads([&](int) {
        std::uint32_t k = 0;
        while (!stop) {
            CpuScope run(current_cpu());  // one program run
            if (auto* inner = static_cast<Map*>(outer->lookup(&k))) {
                auto* v = static_cast<std::uint64_t*>(inner->lookup(&k));
                __atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
                ++runs;
            }
        }
    });
    host.join();
    rcu_synchronize();
    EXPECT_GT(runs.load(), 0u);
}

TEST(MapConcurrency, TailCallTargetsSwapped) {
    struct P : TailCallTarget {
        std::uint32_t id;
        explicit P(std::uint32_t i) : id(i) {}
        std::uint32_t prog_type() const override { return 1; }
        std::uint32_t prog_id() const override { return id; }
    };
    auto m = std::static_pointer_cast<ProgArrayMap>(make(spec(MapType::ProgArray, 4, 4, 2)));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> calls{0};
    std::thread host([&] {
        for (std::uint32_t i = 0; i < 5000 / kScale || calls < 1000; ++i) {
            m->set(i % 2, std::make_shared<P>(i));
            if (i % 7 == 0) {
                std::uint32_t k = i % 2;
                m->erase_host(&k);
            }
        }
        stop = true;
    });
    run_threads([&](int t) {
        while (!stop) {
            CpuScope run(static_cast<std::uint32_t>(t));
            if (TailCallTarget* p = m->tail_call_target(static_cast<std::uint32_t>(t) % 2))
                calls += p->prog_id() < 0x7fffffffu;
        }
    });
    host.join();
    rcu_synchronize();
    EXPECT_GT(calls.load(), 0u);
}

TEST(MapConcurrency, StackIdsFromManyThreads) {
    auto m = std::static_pointer_cast<StackTraceMap>(make(spec(MapType::StackTrace, 4, 8 * 4, 64)));
    std::atomic<int> bad{0};
    run_threads([&](int t) {
        for (std::uint64_t i = 0; i < 20000 / kScale; ++i) {
            const std::uint64_t ips[3] = {i % 50, static_cast<std::uint64_t>(t), 3};
            const long id = m->get_stackid(ips, 3, i % 2 ? kFReuseStackId : 0);
            if (id < 0 && id != -EEXIST && id != -ENOMEM) ++bad;
            if (i % 10 == 0) {
                std::uint32_t k = static_cast<std::uint32_t>(i % 64);
                m->erase_host(&k);
            }
        }
    });
    EXPECT_EQ(bad.load(), 0);
    for (const auto& e : m->dump()) EXPECT_EQ(load<std::uint64_t>(e.value.data() + 16), 3u);
}

}  // namespace
}  // namespace xbpf::maps::test
