/* Program-side map benchmarks (bench/map_prog_bench.cpp): each program performs kOps map operations on one map per
 * run, so BPF_PROG_TEST_RUN's per-run duration / kOps is the cost of one helper call plus the loop around it, in
 * the kernel's JIT and in xbpf alike. Keys: the same pseudo-random permutation of 0..1023 the host-side benchmark
 * uses ((i * 613) % 1024). The host fills every map with keys 0..1023 before timing.
 *
 * Built with clang -O2 -target bpf -mcpu=v3. XDP programs (the kernel test-runs them with any packet >= 14 bytes);
 * each returns the sum of what it looked up (lookups) or the number of failed operations (updates), so both engines
 * can be checked to have done the same work.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define KEYS 1024
#define OPS 256

#define DECLARE_MAP(name, map_type, entries)      \
    struct {                                      \
        __uint(type, map_type);                   \
        __uint(max_entries, entries);             \
        __type(key, __u32);                       \
        __type(value, __u64);                     \
    } name SEC(".maps")

DECLARE_MAP(hash, BPF_MAP_TYPE_HASH, 4 * KEYS);
DECLARE_MAP(array, BPF_MAP_TYPE_ARRAY, KEYS);
DECLARE_MAP(lru_hash, BPF_MAP_TYPE_LRU_HASH, 4 * KEYS);
DECLARE_MAP(percpu_array, BPF_MAP_TYPE_PERCPU_ARRAY, KEYS);
DECLARE_MAP(percpu_hash, BPF_MAP_TYPE_PERCPU_HASH, 4 * KEYS);

#define LOOKUP_PROG(map)                                          \
    SEC("xdp") int lookup_##map(struct xdp_md *ctx) {             \
        __u64 sum = 0;                                            \
        for (__u32 i = 0; i < OPS; i++) {                         \
            __u32 key = (i * 613u) % KEYS;                        \
            __u64 *v = bpf_map_lookup_elem(&map, &key);           \
            if (v) sum += *v;                                     \
        }                                                         \
        return (int)sum;                                          \
    }

#define UPDATE_PROG(map)                                              \
    SEC("xdp") int update_##map(struct xdp_md *ctx) {                 \
        int failed = 0;                                               \
        for (__u32 i = 0; i < OPS; i++) {                             \
            __u32 key = (i * 613u) % KEYS;                            \
            __u64 value = i;                                          \
            if (bpf_map_update_elem(&map, &key, &value, BPF_ANY)) failed++; \
        }                                                             \
        return failed;                                                \
    }

/* One delete and one re-insert of a present key per iteration: the map stays full. */
#define DELETE_PROG(map)                                                   \
    SEC("xdp") int delete_##map(struct xdp_md *ctx) {                      \
        int failed = 0;                                                    \
        for (__u32 i = 0; i < OPS; i++) {                                  \
            __u32 key = (i * 613u) % KEYS;                                 \
            __u64 value = key;                                             \
            if (bpf_map_delete_elem(&map, &key)) failed++;                 \
            if (bpf_map_update_elem(&map, &key, &value, BPF_NOEXIST)) failed++; \
        }                                                                  \
        return failed;                                                     \
    }

/* The loop alone, to subtract: the same key arithmetic, no helper call. */
SEC("xdp") int loop_only(struct xdp_md *ctx) {
    __u64 sum = 0;
    for (__u32 i = 0; i < OPS; i++) {
        __u32 key = (i * 613u) % KEYS;
        sum += key;
        asm volatile("" : "+r"(sum)); /* keep the loop: one iteration per key */
    }
    return (int)sum;
}

LOOKUP_PROG(hash)
LOOKUP_PROG(array)
LOOKUP_PROG(lru_hash)
LOOKUP_PROG(percpu_array)
LOOKUP_PROG(percpu_hash)
UPDATE_PROG(hash)
UPDATE_PROG(array)
UPDATE_PROG(lru_hash)
UPDATE_PROG(percpu_array)
UPDATE_PROG(percpu_hash)
DELETE_PROG(hash)
DELETE_PROG(lru_hash)
DELETE_PROG(percpu_hash)

char LICENSE[] SEC("license") = "GPL";
