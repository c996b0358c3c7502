// Map operations from the host, xbpf next to the Linux kernel (bpf() through libbpf), in the same run:
//   maps/<type>/<op>/xbpf      Map::lookup_copy / update_host / erase_host (the syscall's semantics, in-process)
//   maps/<type>/<op>/kernel    BPF_MAP_LOOKUP_ELEM / UPDATE_ELEM / DELETE_ELEM on a kernel map of the same spec
//   maps/<type>/lookup/xbpf_prog   Map::lookup, what a program's bpf_map_lookup_elem costs (no copy)
// Types: hash, array, lru_hash, percpu_array; 1,024 keys present (hash maps sized for 4,096), keys visited in a
// fixed pseudo-random order. "delete" is delete + re-insert of a present key (two operations per iteration), so the
// map stays full. Kernel rows are skipped with the reason when bpf() is unavailable.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernel/bpf_syscall.hpp"
#include "kernel/maps.hpp"
#include "maps/cpu.hpp"
#include "maps/map.hpp"

namespace {

using xbpf::maps::MapSpec;
using xbpf::maps::MapType;

constexpr std::uint32_t kKeys = 1024;

MapSpec spec_for(MapType type) {
    MapSpec s;
    s.name = "bench";
    s.type = type;
    s.key_size = 4;
    s.value_size = 8;
    s.max_entries = (type == MapType::Array || type == MapType::PercpuArray) ? kKeys : 4 * kKeys;
    return s;
}

/// The visiting order: a permutation of 0..kKeys-1.
const std::vector<std::uint32_t>& order() {
    static const std::vector<std::uint32_t> keys = [] {
        std::vector<std::uint32_t> k(kKeys);
        for (std::uint32_t i = 0; i < kKeys; ++i) k[i] = (i * 613u) % kKeys;  // 613 is coprime with 1024
        return k;
    }();
    return keys;
}

std::size_t value_bytes(MapType type) {
    const bool percpu = type == MapType::PercpuArray;
    return percpu ? 8 * xbpf::maps::num_possible_cpus() : 8;
}

bool kernel_ok(benchmark::State& state) {
    static std::string why;
    static const bool ok = xbpf::kernel::available(&why);
    if (!ok) state.SkipWithError(("bpf() unavailable: " + why).c_str());
    return ok;
}

/// One backend behind the three operations.
struct Backend {
    std::shared_ptr<xbpf::maps::Map> x;
    xbpf::kernel::MapFd k;
    int lookup(const void* key, void* v) { return x ? x->lookup_copy(key, v) : xbpf::kernel::map_lookup(k, key, v); }
    int update(const void* key, const void* v) {
        return x ? x->update_host(key, v) : xbpf::kernel::map_update(k, key, v);
    }
    int erase(const void* key) { return x ? x->erase_host(key) : xbpf::kernel::map_delete(k, key); }
};

bool make_backend(benchmark::State& state, MapType type, bool kernel, Backend& b) {
    const MapSpec spec = spec_for(type);
    if (kernel) {
        if (!kernel_ok(state)) return false;
        if (const int rc = xbpf::kernel::create_map_raw(spec, b.k); rc != 0) {
            state.SkipWithError("BPF_MAP_CREATE failed");
            return false;
        }
    } else {
        b.x = xbpf::maps::make_map(spec).value();
    }
    std::vector<std::uint8_t> value(value_bytes(type), 1);
    for (std::uint32_t key = 0; key < kKeys; ++key) b.update(&key, value.data());
    return true;
}

void BM_Lookup(benchmark::State& state, MapType type, bool kernel) {
    Backend b;
    if (!make_backend(state, type, kernel, b)) return;
    std::vector<std::uint8_t> value(value_bytes(type));
    const auto& keys = order();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(b.lookup(&keys[i], value.data()));
        i = (i + 1) % kKeys;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_ProgLookup(benchmark::State& state, MapType type) {
    Backend b;
    if (!make_backend(state, type, false, b)) return;
    const auto& keys = order();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(b.x->lookup(&keys[i]));
        i = (i + 1) % kKeys;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_Update(benchmark::State& state, MapType type, bool kernel) {
    Backend b;
    if (!make_backend(state, type, kernel, b)) return;
    std::vector<std::uint8_t> value(value_bytes(type), 2);
    const auto& keys = order();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(b.update(&keys[i], value.data()));
        i = (i + 1) % kKeys;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_DeleteInsert(benchmark::State& state, MapType type, bool kernel) {
    Backend b;
    if (!make_backend(state, type, kernel, b)) return;
    std::vector<std::uint8_t> value(value_bytes(type), 3);
    const auto& keys = order();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(b.erase(&keys[i]));
        benchmark::DoNotOptimize(b.update(&keys[i], value.data()));
        i = (i + 1) % kKeys;
    }
    state.SetItemsProcessed(state.iterations());
}

void register_all() {
    struct T {
        const char* name;
        MapType type;
        bool deletable;
    };
    const T types[] = {{"hash", MapType::Hash, true},
                       {"array", MapType::Array, false},
                       {"lru_hash", MapType::LruHash, true},
                       {"percpu_array", MapType::PercpuArray, false}};
    for (const T& t : types) {
        for (bool kernel : {false, true}) {
            const std::string backend = kernel ? "kernel" : "xbpf";
            const std::string base = std::string("maps/") + t.name + "/";
            benchmark::RegisterBenchmark((base + "lookup/" + backend).c_str(), BM_Lookup, t.type, kernel);
            benchmark::RegisterBenchmark((base + "update/" + backend).c_str(), BM_Update, t.type, kernel);
            if (t.deletable)
                benchmark::RegisterBenchmark((base + "delete+insert/" + backend).c_str(), BM_DeleteInsert, t.type,
                                             kernel);
        }
        benchmark::RegisterBenchmark((std::string("maps/") + t.name + "/lookup/xbpf_prog").c_str(), BM_ProgLookup,
                                     t.type);
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
