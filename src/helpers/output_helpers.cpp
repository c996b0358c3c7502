// Output to user space: bpf_perf_event_output (kernel/trace/bpf_trace.c) and the ring buffer helpers
// (kernel/bpf/ringbuf.c), on maps::PerfEventArrayMap and maps::RingbufMap.
//
// The verifier guarantees the map argument has the right type; a map of another type is still refused here
// (-EINVAL, or NULL from ringbuf_reserve, 0 from ringbuf_query) rather than trusted, so a wrong map can never be
// misused. bpf_perf_event_output accepts only BPF_F_INDEX_MASK bits in flags (the BPF_F_CTXLEN_MASK bits belong
// to the skb/xdp variants): anything else is -EINVAL, as in the kernel.
#include "helpers/internal.hpp"
#include "maps/perf_event_array.hpp"
#include "maps/ringbuf.hpp"

namespace xbpf::helpers::detail {
namespace {

maps::RingbufMap* ringbuf(u64 map) {
    maps::Map* m = as_map(map);
    return m->type() == maps::MapType::Ringbuf ? static_cast<maps::RingbufMap*>(m) : nullptr;
}

u64 perf_event_output(u64, u64 map, u64 flags, u64 data, u64 size, Context*) {
    if (flags & ~maps::kFIndexMask) return ret_err(-EINVAL);
    maps::Map* m = as_map(map);
    if (m->type() != maps::MapType::PerfEventArray) return ret_err(-EINVAL);
    return ret_err(static_cast<maps::PerfEventArrayMap*>(m)->output(flags, as_ptr(data), size));
}

u64 ringbuf_output(u64 map, u64 data, u64 size, u64 flags, u64, Context*) {
    maps::RingbufMap* rb = ringbuf(map);
    if (!rb) return ret_err(-EINVAL);
    return ret_err(rb->output(as_ptr(data), size, flags));
}

u64 ringbuf_reserve(u64 map, u64 size, u64 flags, u64, u64, Context* ctx) {
    maps::RingbufMap* rb = ringbuf(map);
    if (!rb) return 0;
    void* sample = rb->reserve(size, flags);
    grant(ctx, sample, size, true);
    return ret_ptr(sample);
}

u64 ringbuf_submit(u64 sample, u64 flags, u64, u64, u64, Context*) {
    maps::RingbufMap::submit(as_ptr(sample), flags);
    return 0;
}

u64 ringbuf_discard(u64 sample, u64 flags, u64, u64, u64, Context*) {
    maps::RingbufMap::discard(as_ptr(sample), flags);
    return 0;
}

u64 ringbuf_query(u64 map, u64 flags, u64, u64, u64, Context*) {
    maps::RingbufMap* rb = ringbuf(map);
    return rb ? rb->query(flags) : 0;
}

}  // namespace

void register_output_helpers(HelperTable& t) {
    t.add({25, "bpf_perf_event_output", perf_event_output});
    t.add({130, "bpf_ringbuf_output", ringbuf_output});
    t.add({131, "bpf_ringbuf_reserve", ringbuf_reserve});
    t.add({132, "bpf_ringbuf_submit", ringbuf_submit});
    t.add({133, "bpf_ringbuf_discard", ringbuf_discard});
    t.add({134, "bpf_ringbuf_query", ringbuf_query});
}

}  // namespace xbpf::helpers::detail
