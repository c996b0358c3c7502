// vm::test_run: BPF_PROG_TEST_RUN in xbpf, after the kernel's net/bpf/test_run.c.
//
// Contexts per program type:
//  - xdp: bpf_prog_test_run_xdp. The packet sits in a 4096-byte frame below 4 GiB (struct xdp_md holds u32
//    addresses) after XDP_PACKET_HEADROOM (256) bytes of headroom; data may grow up to the frame minus the 320 bytes
//    the kernel reserves for skb_shared_info. ctx_in (struct xdp_md) follows the kernel's rules (verified against
//    Linux 6.18 BPF_PROG_TEST_RUN in tests/unit/vm/test_run_test.cpp): data_meta 0; data = metadata length
//    (a multiple of 4); data_end <= data_in size is the linear length, the rest being fragments the program does
//    not see (an all-zero xdp_md is valid: empty linear part); egress_ifindex 0; ingress_ifindex must name an
//    existing device (else ENODEV) and rx_queue_index one of its queues. The program sees ingress_ifindex 1
//    (loopback) unless ctx_in sets it. data_out is [data_meta, data_end) after the run followed by the fragment
//    bytes; ctx_out gives data and data_end relative to data_meta, as ctx_in (xdp_convert_buff_to_md).
//  - socket_filter, sched_cls, sched_act: bpf_prog_test_run_skb. The frame gets NET_SKB_PAD (64) bytes of
//    headroom; eth_type_trans on the loopback device sets protocol and pkt_type and pulls the Ethernet header;
//    sched_cls/act (is_l2) push it back, so their skb->data is the frame start and len the whole frame, while a
//    socket filter sees len = size - 14 and, after the run, data_out starts with 14 zero bytes where the Ethernet
//    header was (the kernel zeroes the pushed header). ctx_in (struct __sk_buff) may set mark, priority,
//    ingress_ifindex, ifindex (an existing device, else ENODEV; default loopback, 1), cb, tstamp, wire_len,
//    gso_segs, gso_size and hwtstamp; anything else nonzero is -EINVAL (convert___skb_to_skb).
//  - raw programs (type 0): r1 = the data_in buffer, r2 = its size; data_out is the buffer after the run.
//  - kprobe, tracepoint, perf_event, raw_tracepoint, syscall: r1 = a copy of ctx_in (kprobe and perf_event padded
//    with zeros to struct pt_regs / bpf_perf_event_data). DIFFERENCE from the kernel: it refuses test runs of
//    kprobe, tracepoint and perf_event programs (-ENOTSUPP); xbpf runs them, as a way to test tracing programs.
//    Their context is read-only, except for syscall programs (whose ctx_out is returned, as the kernel does).
// Each run holds a maps::CpuScope; with repeat N the program runs N times on the same context and packet (as the
// kernel's bpf_test_run loop, whose packet changes persist between repetitions), and the duration is the average.
#include <linux/bpf.h>
#include <net/if.h>
#include <sys/mman.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "maps/cpu.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

using object::ProgramType;

constexpr std::size_t kPageSize = 4096;
constexpr std::size_t kXdpHeadroom = 256;    // XDP_PACKET_HEADROOM
constexpr std::size_t kSharedInfo = 320;     // SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64
constexpr std::size_t kSkbHeadroom = 64;     // NET_SKB_PAD + NET_IP_ALIGN (x86-64)
constexpr std::size_t kEthHlen = 14;         // ETH_HLEN
constexpr std::size_t kPtRegsSize = 21 * 8;  // struct pt_regs on x86-64
constexpr std::size_t kMaxMetaLen = 252;     // multiple of 4 up to the kernel's 255-byte limit

Error einval(std::string what) { return Error{ErrorCode::kInvalidArgument, fmt::format("{} (EINVAL)", what), {}}; }

/// Two pages below 4 GiB (MAP_32BIT): the packet frame, then the context struct. One per thread, reused; a nested
/// test_run on the same thread (a helper running another program) gets its own.
class LowArena {
  public:
    LowArena() {
        void* p = mmap(nullptr, 2 * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        base_ = p == MAP_FAILED ? nullptr : static_cast<std::uint8_t*>(p);
    }
    ~LowArena() {
        if (base_) munmap(base_, 2 * kPageSize);
    }
    LowArena(const LowArena&) = delete;
    LowArena& operator=(const LowArena&) = delete;
    [[nodiscard]] std::uint8_t* frame() const { return base_; }
    [[nodiscard]] std::uint8_t* ctx() const { return base_ + kPageSize; }
    [[nodiscard]] bool ok() const { return base_ != nullptr; }
    bool in_use = false;

  private:
    std::uint8_t* base_ = nullptr;
};

/// A lease on the thread's arena (or a private one when it is taken), zeroed.
class ArenaLease {
  public:
    ArenaLease() {
        static thread_local LowArena shared;
        if (!shared.in_use && shared.ok()) {
            arena_ = &shared;
        } else {
            own_ = std::make_unique<LowArena>();
            arena_ = own_.get();
        }
        arena_->in_use = true;
        if (arena_->ok()) std::memset(arena_->frame(), 0, 2 * kPageSize);
    }
    ~ArenaLease() { arena_->in_use = false; }
    ArenaLease(const ArenaLease&) = delete;
    ArenaLease& operator=(const ArenaLease&) = delete;
    LowArena* operator->() const { return arena_; }

  private:
    LowArena* arena_;
    std::unique_ptr<LowArena> own_;
};

std::uint64_t addr(const void* p) { return reinterpret_cast<std::uint64_t>(p); }

/// bpf_ctx_init: ctx_in longer than the struct must be zero past it.
template <class T>
Result<T> read_ctx(const std::vector<std::uint8_t>& ctx_in, const char* what) {
    T ctx{};
    if (ctx_in.size() > sizeof(T)) {
        for (std::size_t i = sizeof(T); i < ctx_in.size(); ++i)
            if (ctx_in[i] != 0)
                return std::unexpected(
                    einval(fmt::format("ctx_in: {} bytes given, struct {} has {}; the extra bytes "
                                       "must be zero",
                                       ctx_in.size(), what, sizeof(T))));
    }
    std::memcpy(&ctx, ctx_in.data(), std::min(ctx_in.size(), sizeof(T)));
    return ctx;
}

/// Runs `input` `repeat` times under a CpuScope; returns the last result and the average duration.
Result<std::pair<RunResult, std::uint64_t>> run_repeated(const LoadedProgram& program, const RunInput& input,
                                                         const TestRunInput& in) {
    RunOptions options;
    options.checked = in.checked;
    options.insn_budget = in.insn_budget;
    options.engine = in.engine;
    const std::uint32_t repeat = in.repeat == 0 ? 1 : in.repeat;
    RunResult last;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < repeat; ++i) {
        maps::CpuScope cpu(maps::current_cpu());
        auto r = run(program.program(), input, options);
        if (!r) return std::unexpected(r.error());
        last = *r;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
    return std::pair{last, static_cast<std::uint64_t>(ns.count()) / repeat};
}

/// The packet memory a checked run may touch: the whole frame (headroom and tailroom: the kernel's buffer is there,
/// only the verifier keeps programs inside [data, data_end)) or, with TestRunInput::strict_packet, exactly
/// [data_meta, data_end) as the run starts (vm/counterexample.cpp: reads past the end fault).
MemoryRegion packet_region(const helpers::Packet& packet, bool strict) {
    if (!strict) return {addr(packet.frame_start), kPageSize - kSharedInfo, true, "packet"};
    return {addr(packet.data_meta), static_cast<std::uint64_t>(packet.data_end - packet.data_meta), true, "packet"};
}

RunInput base_input(const LoadedProgram& program, const TestRunInput& in) {
    RunInput input;
    input.env = in.env;
    input.prog_type = program.prog_type();
    return input;
}

// ---- xdp ----

/// The number of receive queues of network device `ifindex` (/sys/class/net/NAME/queues/rx-*), or 0 when there
/// is no such device: the kernel's test run looks the device up in the caller's network namespace.
std::uint32_t device_rx_queues(std::uint32_t ifindex) {
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(ifindex, name)) return 0;
    std::uint32_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(fmt::format("/sys/class/net/{}/queues", name), ec))
        if (e.path().filename().string().starts_with("rx-")) ++n;
    return n == 0 ? 1 : n;
}

Result<TestRunOutput> run_xdp(const LoadedProgram& program, const TestRunInput& in) {
    const std::size_t size = in.data_in.size();
    xdp_md md{};
    const bool has_ctx = !in.ctx_in.empty();
    std::size_t meta_len = 0;
    std::size_t linear = size;  // bytes in the frame (metadata included); the rest are fragments
    if (has_ctx) {
        auto ctx = read_ctx<xdp_md>(in.ctx_in, "xdp_md");
        if (!ctx) return std::unexpected(ctx.error());
        md = *ctx;
        if (md.data_meta != 0) return std::unexpected(einval("xdp: ctx_in.data_meta must be 0"));
        if (md.data_end > size)
            return std::unexpected(
                einval(fmt::format("xdp: ctx_in.data_end {} is past the data_in size {}", md.data_end, size)));
        if (md.data > md.data_end) return std::unexpected(einval("xdp: ctx_in.data is past ctx_in.data_end"));
        if ((md.data & 3) != 0 || md.data > kMaxMetaLen)
            return std::unexpected(
                einval(fmt::format("xdp: ctx_in.data (the metadata length, {}) must be a multiple "
                                   "of 4, at most {}",
                                   md.data, kMaxMetaLen)));
        if (md.egress_ifindex != 0) return std::unexpected(einval("xdp: ctx_in.egress_ifindex must be 0"));
        if (md.ingress_ifindex == 0 && md.rx_queue_index != 0)
            return std::unexpected(einval("xdp: ctx_in.rx_queue_index needs ctx_in.ingress_ifindex"));
        if (md.ingress_ifindex != 0) {
            const std::uint32_t queues = device_rx_queues(md.ingress_ifindex);
            if (queues == 0)
                return make_error(
                    ErrorCode::kInvalidArgument,
                    fmt::format("xdp: ctx_in.ingress_ifindex {}: no such device (ENODEV)", md.ingress_ifindex));
            if (md.rx_queue_index >= queues)
                return std::unexpected(
                    einval(fmt::format("xdp: ctx_in.rx_queue_index {}: the device has {} receive "
                                       "queue{}",
                                       md.rx_queue_index, queues, queues == 1 ? "" : "s")));
        }
        meta_len = md.data;
        linear = md.data_end;
    }
    const std::size_t max_linear = kPageSize - (kXdpHeadroom - meta_len) - kSharedInfo;
    linear = std::min(linear, max_linear);
    if (size - meta_len < kEthHlen)
        return std::unexpected(
            einval(fmt::format("xdp: data_in has {} bytes after the metadata, at least 14 (an "
                               "Ethernet header) are needed",
                               size - meta_len)));

    ArenaLease arena;
    if (!arena->ok()) return make_error(ErrorCode::kRuntime, "xdp: cannot map packet memory below 4 GiB");
    helpers::Packet packet;
    packet.frame_start = arena->frame();
    packet.frame_end = arena->frame() + kPageSize - kSharedInfo;
    packet.data_meta = arena->frame() + kXdpHeadroom - meta_len;
    std::memcpy(packet.data_meta, in.data_in.data(), linear);
    packet.data = packet.data_meta + meta_len;
    packet.data_end = packet.data_meta + linear;
    if (!has_ctx) packet.data_meta = packet.data;

    auto* ctx = reinterpret_cast<xdp_md*>(arena->ctx());
    *ctx = md;
    // The kernel's test run receives on the loopback device's queue 0 unless ctx_in names another device.
    if (ctx->ingress_ifindex == 0) ctx->ingress_ifindex = 1;
    packet.ctx_data = &ctx->data;
    packet.ctx_data_end = &ctx->data_end;
    packet.ctx_data_meta = &ctx->data_meta;
    packet.sync();

    RunInput input = base_input(program, in);
    input.args[0] = addr(ctx);
    input.packet_buffer = &packet;
    input.regions.push_back({addr(ctx), sizeof(xdp_md), false, "ctx"});
    input.regions.push_back(packet_region(packet, in.strict_packet));
    auto r = run_repeated(program, input, in);
    if (!r) return std::unexpected(r.error());

    TestRunOutput out;
    out.retval = r->first.r0;
    out.duration_ns = r->second;
    out.native = r->first.native;
    out.data_out.assign(packet.data_meta, packet.data_end);
    // Bytes past the linear part: the kernel keeps them in fragments the program does not see directly (xbpf has
    // no multi-buffer helpers) and returns them after the linear data.
    out.data_out.insert(out.data_out.end(), in.data_in.begin() + static_cast<std::ptrdiff_t>(linear), in.data_in.end());
    if (has_ctx) {
        xdp_md result = md;  // xdp_convert_buff_to_md updates only data and data_end of the caller's struct
        result.data = static_cast<std::uint32_t>(packet.data - packet.data_meta);
        result.data_end = static_cast<std::uint32_t>(packet.data_end - packet.data_meta);
        result.data_meta = 0;
        out.ctx_out.resize(sizeof(xdp_md));
        std::memcpy(out.ctx_out.data(), &result, sizeof(result));
    }
    return out;
}

// ---- socket buffers ----

bool range_is_zero(const __sk_buff& s, std::size_t from, std::size_t to) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&s);
    for (std::size_t i = from; i < to; ++i)
        if (p[i] != 0) return false;
    return true;
}

#define XBPF_OFFSETOFEND(type, field) (offsetof(type, field) + sizeof(type::field))

/// convert___skb_to_skb's checks: only the fields BPF_PROG_TEST_RUN accepts may be nonzero.
std::optional<Error> check_skb_ctx(const __sk_buff& s, std::size_t len) {
    struct Range {
        std::size_t from, to;
    };
    const Range zero_ranges[] = {
        {0, offsetof(__sk_buff, mark)},
        {XBPF_OFFSETOFEND(__sk_buff, mark), offsetof(__sk_buff, priority)},
        {XBPF_OFFSETOFEND(__sk_buff, ifindex), offsetof(__sk_buff, cb)},
        {XBPF_OFFSETOFEND(__sk_buff, cb), offsetof(__sk_buff, tstamp)},
        {XBPF_OFFSETOFEND(__sk_buff, gso_segs), offsetof(__sk_buff, gso_size)},
        {XBPF_OFFSETOFEND(__sk_buff, gso_size), offsetof(__sk_buff, hwtstamp)},
        {XBPF_OFFSETOFEND(__sk_buff, hwtstamp), sizeof(__sk_buff)},
    };
    for (const Range& r : zero_ranges)
        if (!range_is_zero(s, r.from, r.to))
            return einval(
                fmt::format("skb: ctx_in sets bytes {}..{} of struct __sk_buff, which BPF_PROG_TEST_RUN "
                            "does not accept (only mark, priority, ingress_ifindex, ifindex, cb, tstamp, "
                            "wire_len, gso_segs, gso_size, hwtstamp)",
                            r.from, r.to));
    if (s.wire_len != 0 && (s.wire_len < len || s.wire_len > 65536))
        return einval("skb: ctx_in.wire_len must be at least the packet length and at most 65536");
    if (s.gso_segs > 65535) return einval("skb: ctx_in.gso_segs is above GSO_MAX_SEGS");
    return std::nullopt;
}

/// eth_type_trans's protocol: the ethertype if it is one (>= 0x600), else 802.3 raw or 802.2 (network order).
std::uint16_t eth_protocol(std::span<const std::uint8_t> frame) {
    const std::uint16_t type_be = static_cast<std::uint16_t>(frame[12] | (frame[13] << 8));
    const std::uint16_t type = static_cast<std::uint16_t>((frame[12] << 8) | frame[13]);
    if (type >= 0x600) return type_be;
    if (frame.size() >= kEthHlen + 2 && frame[14] == 0xff && frame[15] == 0xff)
        return static_cast<std::uint16_t>(0x0100);  // htons(ETH_P_802_3)
    return static_cast<std::uint16_t>(0x0400);      // htons(ETH_P_802_2)
}

/// The hardware address of network device `ifindex` (/sys/class/net/NAME/address); zeros when unknown (loopback).
std::array<std::uint8_t, 6> device_mac(std::uint32_t ifindex) {
    std::array<std::uint8_t, 6> mac{};
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(ifindex, name)) return mac;
    std::FILE* f = std::fopen(fmt::format("/sys/class/net/{}/address", name).c_str(), "r");
    if (!f) return mac;
    unsigned v[6] = {};
    if (std::fscanf(f, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6)
        for (int i = 0; i < 6; ++i) mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v[i]);
    std::fclose(f);
    return mac;
}

/// eth_type_trans's pkt_type on a device with address `mac`.
std::uint32_t eth_pkt_type(std::span<const std::uint8_t> frame, const std::array<std::uint8_t, 6>& mac) {
    if (frame[0] & 1) {
        bool broadcast = true;
        for (int i = 0; i < 6; ++i) broadcast = broadcast && frame[static_cast<std::size_t>(i)] == 0xff;
        return broadcast ? 1 : 2;  // PACKET_BROADCAST, PACKET_MULTICAST
    }
    for (std::size_t i = 0; i < 6; ++i)
        if (frame[i] != mac[i]) return 3;  // PACKET_OTHERHOST
    return 0;                              // PACKET_HOST
}

Result<TestRunOutput> run_skb(const LoadedProgram& program, const TestRunInput& in) {
    const std::size_t size = in.data_in.size();
    constexpr std::size_t kMaxData = kPageSize - kSkbHeadroom - kSharedInfo;
    if (size < kEthHlen)
        return std::unexpected(
            einval(fmt::format("skb: data_in has {} bytes, at least 14 (an Ethernet header) are "
                               "needed",
                               size)));
    if (size > kMaxData)
        return std::unexpected(einval(fmt::format("skb: data_in has {} bytes, at most {} fit", size, kMaxData)));
    const ProgramType type = program.type();
    const bool is_l2 = type == ProgramType::SchedCls || type == ProgramType::SchedAct;

    __sk_buff user{};
    const bool has_ctx = !in.ctx_in.empty();
    if (has_ctx) {
        auto ctx = read_ctx<__sk_buff>(in.ctx_in, "__sk_buff");
        if (!ctx) return std::unexpected(ctx.error());
        user = *ctx;
        if (user.ifindex > 1 && device_rx_queues(user.ifindex) == 0)
            return make_error(ErrorCode::kInvalidArgument,
                              fmt::format("skb: ctx_in.ifindex {}: no such device (ENODEV)", user.ifindex));
        if (auto err = check_skb_ctx(user, is_l2 ? size : size - kEthHlen)) return std::unexpected(*err);
    }

    ArenaLease arena;
    if (!arena->ok()) return make_error(ErrorCode::kRuntime, "skb: cannot map packet memory below 4 GiB");
    std::uint8_t* frame = arena->frame() + kSkbHeadroom;
    std::memcpy(frame, in.data_in.data(), size);
    const std::span<const std::uint8_t> eth(frame, size);

    helpers::Packet packet;
    packet.frame_start = arena->frame();
    packet.frame_end = arena->frame() + kPageSize - kSharedInfo;
    packet.data = is_l2 ? frame : frame + kEthHlen;
    packet.data_meta = packet.data;
    packet.data_end = frame + size;

    auto* skb = reinterpret_cast<__sk_buff*>(arena->ctx());
    const std::uint32_t ifindex = user.ifindex > 1 ? user.ifindex : 1;  // the loopback device unless ctx_in names one
    skb->pkt_type = eth_pkt_type(eth, ifindex == 1 ? std::array<std::uint8_t, 6>{} : device_mac(ifindex));
    skb->protocol = eth_protocol(eth);
    skb->mark = user.mark;
    skb->priority = user.priority;
    skb->ingress_ifindex = user.ingress_ifindex;
    skb->ifindex = ifindex;
    std::memcpy(skb->cb, user.cb, sizeof(skb->cb));
    skb->tstamp = user.tstamp;
    skb->gso_segs = user.gso_segs;
    skb->gso_size = user.gso_size;
    skb->hwtstamp = user.hwtstamp;
    // The test run's socket (bpf_prog_test_run_skb): its addresses come from the IP header after the Ethernet one.
    const std::uint8_t* l3 = frame + kEthHlen;
    const std::size_t l3_len = size - kEthHlen;
    if (skb->protocol == 0x0008 && l3_len >= 20) {  // ETH_P_IP
        skb->family = 2;                            // AF_INET
        std::memcpy(&skb->local_ip4, l3 + 12, 4);
        std::memcpy(&skb->remote_ip4, l3 + 16, 4);
    } else if (skb->protocol == 0xdd86 && l3_len >= 40) {  // ETH_P_IPV6
        skb->family = 10;                                  // AF_INET6
        std::memcpy(skb->local_ip6, l3 + 8, 16);
        std::memcpy(skb->remote_ip6, l3 + 24, 16);
    }
    packet.ctx_data = &skb->data;
    packet.ctx_data_end = &skb->data_end;
    packet.ctx_data_meta = &skb->data_meta;
    packet.ctx_len = &skb->len;
    packet.sync();
    skb->wire_len = user.wire_len != 0 ? user.wire_len : skb->len;

    RunInput input = base_input(program, in);
    input.args[0] = addr(skb);
    input.packet_buffer = &packet;
    input.packet = std::span<const std::uint8_t>(packet.data, packet.data_end);
    // Writable fields first (the first region containing an access decides), then the whole struct read-only.
    const auto field = [&](std::size_t off, std::size_t n, const char* name) {
        input.regions.push_back({addr(skb) + off, n, true, name});
    };
    field(offsetof(__sk_buff, cb), sizeof(skb->cb), "ctx.cb");
    if (is_l2) {
        field(offsetof(__sk_buff, mark), 4, "ctx.mark");
        field(offsetof(__sk_buff, queue_mapping), 4, "ctx.queue_mapping");
        field(offsetof(__sk_buff, priority), 4, "ctx.priority");
        field(offsetof(__sk_buff, tc_index), 4, "ctx.tc_index");
        field(offsetof(__sk_buff, tc_classid), 4, "ctx.tc_classid");
        field(offsetof(__sk_buff, tstamp), 8, "ctx.tstamp");
        // Direct packet access (the kernel's is_direct_pkt_access types).
        input.regions.push_back(packet_region(packet, in.strict_packet));
    }
    input.regions.push_back({addr(skb), sizeof(__sk_buff), false, "ctx"});

    auto r = run_repeated(program, input, in);
    if (!r) return std::unexpected(r.error());

    TestRunOutput out;
    out.retval = r->first.r0;
    out.duration_ns = r->second;
    out.native = r->first.native;
    std::uint8_t* out_start = packet.data;
    if (!is_l2 && out_start - kEthHlen >= packet.frame_start) {
        // The kernel pushes the Ethernet header back for the output, zeroed.
        out_start -= kEthHlen;
        std::memset(out_start, 0, kEthHlen);
    }
    out.data_out.assign(out_start, packet.data_end);
    if (has_ctx) {
        // convert_skb_to___skb: the fields a test run reports; the rest stays as ctx_in had it (zero).
        __sk_buff result = user;
        result.mark = skb->mark;
        result.priority = skb->priority;
        result.ingress_ifindex = skb->ingress_ifindex;
        result.ifindex = skb->ifindex;
        std::memcpy(result.cb, skb->cb, sizeof(result.cb));
        result.tstamp = skb->tstamp;
        result.wire_len = skb->wire_len;
        result.gso_segs = skb->gso_segs;
        result.gso_size = skb->gso_size;
        result.hwtstamp = skb->hwtstamp;
        out.ctx_out.resize(sizeof(result));
        std::memcpy(out.ctx_out.data(), &result, sizeof(result));
    }
    return out;
}

// ---- raw memory and tracing contexts ----

Result<TestRunOutput> run_raw_memory(const LoadedProgram& program, const TestRunInput& in) {
    std::vector<std::uint8_t> mem = in.data_in;
    RunInput input = base_input(program, in);
    input.args[0] = addr(mem.data());
    input.args[1] = mem.size();
    input.packet = mem;
    if (!mem.empty()) input.regions.push_back({addr(mem.data()), mem.size(), true, "mem"});
    auto r = run_repeated(program, input, in);
    if (!r) return std::unexpected(r.error());
    TestRunOutput out;
    out.retval = r->first.r0;
    out.duration_ns = r->second;
    out.native = r->first.native;
    out.data_out = std::move(mem);
    return out;
}

Result<TestRunOutput> run_with_ctx(const LoadedProgram& program, const TestRunInput& in, std::size_t min_size,
                                   bool writable) {
    std::vector<std::uint8_t> ctx = in.ctx_in;
    if (ctx.size() < min_size) ctx.resize(min_size, 0);
    if (ctx.empty()) ctx.resize(8, 0);  // r1 must point somewhere; nothing may be read from it
    RunInput input = base_input(program, in);
    input.args[0] = addr(ctx.data());
    input.regions.push_back({addr(ctx.data()), in.ctx_in.empty() ? 0 : ctx.size(), writable, "ctx"});
    auto r = run_repeated(program, input, in);
    if (!r) return std::unexpected(r.error());
    TestRunOutput out;
    out.retval = r->first.r0;
    out.duration_ns = r->second;
    out.native = r->first.native;
    if (writable && !in.ctx_in.empty()) out.ctx_out.assign(ctx.begin(), ctx.begin() + in.ctx_in.size());
    return out;
}

}  // namespace

Result<TestRunOutput> test_run(const LoadedProgram& program, const TestRunInput& input) {
    switch (program.type()) {
        case ProgramType::Xdp: return run_xdp(program, input);
        case ProgramType::SocketFilter:
        case ProgramType::SchedCls:
        case ProgramType::SchedAct: return run_skb(program, input);
        case ProgramType::Unspec: return run_raw_memory(program, input);
        case ProgramType::Kprobe: return run_with_ctx(program, input, kPtRegsSize, false);
        case ProgramType::PerfEvent: return run_with_ctx(program, input, kPtRegsSize + 16, false);
        case ProgramType::Tracepoint:
        case ProgramType::RawTracepoint:
        case ProgramType::RawTracepointWritable:
        case ProgramType::Tracing: return run_with_ctx(program, input, 0, false);
        case ProgramType::Syscall: return run_with_ctx(program, input, 0, true);
        default: break;
    }
    return make_error(ErrorCode::kUnsupported,
                      fmt::format("program '{}': test runs of {} programs are not supported (ENOTSUPP)", program.name(),
                                  object::program_type_name(program.type())));
}

}  // namespace xbpf::vm
