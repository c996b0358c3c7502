// The counterexample search of counterexample.hpp: candidate inputs from the program's own constants, each run in
// the checked interpreter through vm::test_run, the first that misbehaves at the finding's instruction kept.
#include "vm/counterexample.hpp"

#include <linux/bpf.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "maps/ringbuf.hpp"
#include "object/object_spec.hpp"

namespace xbpf::vm {
namespace {

using object::ProgramType;

constexpr std::size_t kEthHlen = 14;         // ETH_HLEN: the kernel's test run needs a whole Ethernet header
constexpr std::size_t kMaxXdpLinear = 3520;  // 4096 - XDP_PACKET_HEADROOM - skb_shared_info (test_run.cpp)
constexpr std::size_t kMaxFrame = 1514;      // a frame of an Ethernet MTU is plenty for skb programs

/// What the program's code says about the inputs worth trying.
struct Hints {
    std::vector<std::size_t> sizes;       ///< packet lengths, boundary values first
    std::vector<std::int64_t> constants;  ///< compared and added immediates
    std::vector<std::size_t> offsets;     ///< load offsets (relative to their base register)
};

Hints hints_of(const Program& program, std::size_t max_size) {
    const std::vector<isa::RawInsn> raw = isa::encode(program.instructions());
    std::set<std::int64_t> constants;
    std::set<std::size_t> offsets;
    for (const isa::RawInsn& insn : raw) {
        const std::uint8_t cls = insn.opcode & 0x07;
        const std::uint8_t op = insn.opcode & 0xf0;
        const bool imm_source = (insn.opcode & 0x08) == 0;
        if ((cls == BPF_JMP || cls == BPF_JMP32) && imm_source && op != BPF_JA && op != BPF_CALL && op != BPF_EXIT)
            constants.insert(insn.imm);
        if ((cls == BPF_ALU || cls == BPF_ALU64) && imm_source && (op == BPF_ADD || op == BPF_SUB))
            constants.insert(insn.imm < 0 ? -static_cast<std::int64_t>(insn.imm) : insn.imm);
        if (cls == BPF_LDX && insn.off >= 0) {
            static constexpr std::size_t kBytes[] = {4, 2, 1, 8};  // BPF_W, BPF_H, BPF_B, BPF_DW
            const std::size_t end = static_cast<std::size_t>(insn.off) + kBytes[(insn.opcode >> 3) & 3];
            offsets.insert(static_cast<std::size_t>(insn.off));
            constants.insert(static_cast<std::int64_t>(end));
        }
    }
    Hints h;
    h.constants.assign(constants.begin(), constants.end());
    h.offsets.assign(offsets.begin(), offsets.end());
    // Sizes just below each constant first, largest first (a bounds check off by one fails there, and the
    // largest failing size shows the edge best), then the constants and the values above, then every small size.
    std::vector<std::size_t> sizes;
    auto add = [&](std::int64_t s) {
        if (s >= 0 && static_cast<std::size_t>(s) <= max_size &&
            std::find(sizes.begin(), sizes.end(), static_cast<std::size_t>(s)) == sizes.end())
            sizes.push_back(static_cast<std::size_t>(s));
    };
    for (auto c = h.constants.rbegin(); c != h.constants.rend(); ++c) add(*c - 1);  // largest first: the edge
    for (std::int64_t c : h.constants) add(c);
    for (std::int64_t c : h.constants) add(c + 1);
    for (std::int64_t c : h.constants) add(c - 2);
    for (std::size_t s = 0; s <= 64; ++s) add(static_cast<std::int64_t>(s));
    for (std::int64_t s : {128, 256, 512, 1024, 1500}) add(s);
    h.sizes = std::move(sizes);
    return h;
}

/// SplitMix64: deterministic random contents.
struct Rng {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

/// Contents number `variant` of `size` bytes: zeros, 0xff, random, then random with constants at load offsets.
std::vector<std::uint8_t> contents(std::size_t size, std::uint32_t variant, const Hints& h, Rng& rng) {
    std::vector<std::uint8_t> out(size, variant == 1 ? 0xff : 0);
    if (variant < 2) return out;
    for (auto& b : out) b = static_cast<std::uint8_t>(rng.next());
    if (variant == 2 || h.constants.empty() || size == 0) return out;
    const std::size_t writes = 1 + rng.below(4);
    for (std::size_t i = 0; i < writes; ++i) {
        const std::int64_t c = h.constants[rng.below(h.constants.size())];
        const std::size_t width = std::size_t{1} << rng.below(3);
        std::size_t at =
            h.offsets.empty() || rng.below(4) == 0 ? rng.below(size) : h.offsets[rng.below(h.offsets.size())];
        for (std::size_t b = 0; b < width && at + b < size; ++b) {
            const std::size_t shift = rng.below(2) == 0 ? b : width - 1 - b;  // little or big endian
            out[at + b] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(c) >> (8 * shift));
        }
    }
    return out;
}

/// The test-run input giving the program `bytes` as what it sees (packet linear part, skb->len or memory).
TestRunInput input_for(ProgramType type, const std::vector<std::uint8_t>& bytes) {
    TestRunInput in;
    in.strict_packet = true;
    switch (type) {
        case ProgramType::Xdp:
            in.data_in = bytes;
            if (bytes.size() < kEthHlen) {  // a linear part shorter than the Ethernet header, via ctx_in
                in.data_in.resize(kEthHlen, 0);
                xdp_md md{};
                md.data_end = static_cast<std::uint32_t>(bytes.size());
                in.ctx_in.resize(sizeof(md));
                std::memcpy(in.ctx_in.data(), &md, sizeof(md));
            }
            break;
        case ProgramType::SocketFilter:  // skb->len = size - 14: the Ethernet header is pulled
            in.data_in.assign(kEthHlen, 0);
            in.data_in.insert(in.data_in.end(), bytes.begin(), bytes.end());
            break;
        default: in.data_in = bytes; break;
    }
    return in;
}

std::string hex_preview(std::span<const std::uint8_t> bytes) {
    constexpr std::size_t kShown = 16;
    std::string s = "[";
    for (std::size_t i = 0; i < bytes.size() && i < kShown; ++i) s += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
    if (bytes.size() > kShown) s += " ...";
    return s + "]";
}

/// "a 13-byte packet [..]", "a 14-byte frame (skb->len 0) [..]", "memory of 8 bytes [..]".
std::string describe_input(ProgramType type, const std::vector<std::uint8_t>& bytes) {
    switch (type) {
        case ProgramType::Xdp:
        case ProgramType::SchedCls:
        case ProgramType::SchedAct: return fmt::format("a {}-byte packet {}", bytes.size(), hex_preview(bytes));
        case ProgramType::SocketFilter:
            return fmt::format("a {}-byte packet (skb->len {}, after the Ethernet header) {}", bytes.size() + kEthHlen,
                               bytes.size(), hex_preview(bytes));
        default: return fmt::format("{} bytes of memory {}", bytes.size(), hex_preview(bytes));
    }
}

/// What the fault did, in words: "read 2 bytes outside the packet", "dereference NULL (read 8 bytes at 0x0)".
std::string describe_fault(const Error& error, const verifier::Finding& finding) {
    const std::string& m = error.message;
    unsigned long long size = 0, addr = 0;
    char kind[8] = {};
    if (std::sscanf(m.c_str(), "invalid %7s of %llu byte%*[s] at %llx", kind, &size, &addr) < 3 &&
        std::sscanf(m.c_str(), "invalid %7s of %llu byte at %llx", kind, &size, &addr) < 3)
        return "fault";
    const std::string what = fmt::format("{} {} byte{}", kind, size, size == 1 ? "" : "s");
    const std::string& f = finding.message;
    if (addr < 4096 && f.find("_or_null") != std::string::npos)  // a pointer the verifier knew may be NULL
        return fmt::format("{} at address {:#x}: a NULL pointer", what, addr);
    if (f.find("packet") != std::string::npos || f.find("pkt") != std::string::npos)
        return what + " outside the packet";
    if (f.find("map_value") != std::string::npos) return what + " outside the map value";
    if (f.find("stack") != std::string::npos) return what + " outside the stack";
    if (f.find("memory") != std::string::npos) return what + " outside the memory";
    return what + " outside the memory it may access";
}

/// Ring buffers of the program's maps with a record reserved and never submitted or discarded: a consumer stops
/// at such a record, so data remains after consuming. Consuming also drains committed records between runs.
std::size_t ringbuf_records_left(std::span<const std::shared_ptr<maps::Map>> maps_in) {
    std::size_t left = 0;
    for (const auto& m : maps_in) {
        auto* rb = dynamic_cast<maps::RingbufMap*>(m.get());
        if (rb == nullptr) continue;
        rb->consume([](std::span<const std::byte>) { return 0; });
        if (rb->producer_pos() != rb->consumer_pos()) ++left;
    }
    return left;
}

/// Findings whose evidence is not a fault: a reference still held at exit (a ring buffer record left reserved
/// blocks its consumer: the search stops at the first one), a loop the verifier could not bound.
bool is_leak(const verifier::Finding& f) { return f.message.starts_with("Unreleased reference"); }
bool is_loop(const verifier::Finding& f) {
    return f.message.find("infinite loop") != std::string::npos || f.message.find("back-edge") != std::string::npos;
}

}  // namespace

bool counterexample_supported(ProgramType type) {
    switch (type) {
        case ProgramType::Unspec:
        case ProgramType::Xdp:
        case ProgramType::SocketFilter:
        case ProgramType::SchedCls:
        case ProgramType::SchedAct: return true;
        default: return false;
    }
}

std::optional<Counterexample> find_counterexample(const LoadedProgram& program, const verifier::Finding& finding,
                                                  const CounterexampleOptions& options) {
    const ProgramType type = program.type();
    if (!counterexample_supported(type)) return std::nullopt;
    const bool raw = type == ProgramType::Unspec;
    const std::size_t max_size = raw                                 ? options.raw_memory_size
                                 : type == ProgramType::Xdp          ? kMaxXdpLinear
                                 : type == ProgramType::SocketFilter ? kMaxFrame - kEthHlen
                                                                     : kMaxFrame;
    Hints h = hints_of(program.program(), max_size);
    if (raw) h.sizes = {options.raw_memory_size};
    if (type == ProgramType::SchedCls || type == ProgramType::SchedAct)
        std::erase_if(h.sizes, [](std::size_t s) { return s < kEthHlen; });
    if (h.sizes.empty()) return std::nullopt;
    // A ring buffer that already holds a reserved record cannot tell this search's leaks apart.
    if (is_leak(finding) && ringbuf_records_left(options.maps) != 0) return std::nullopt;

    helpers::Environment quiet;  // trace_printk output of the tries goes nowhere
    quiet.trace = [](std::string_view) {};
    Rng rng{options.seed};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options.time_budget_us);
    std::uint32_t tries = 0;
    // Rounds over the sizes: zeros, 0xff, random, then random with constants, until the tries or the time run out.
    for (std::uint32_t variant = 0;; ++variant) {
        for (std::size_t size : h.sizes) {
            if (tries >= options.max_tries || std::chrono::steady_clock::now() > deadline) return std::nullopt;
            ++tries;
            const std::vector<std::uint8_t> bytes = contents(size, variant, h, rng);
            TestRunInput in = input_for(type, bytes);
            in.checked = true;
            in.insn_budget = options.run_budget;
            in.env = &quiet;
            auto run = test_run(program, in);
            Counterexample cx;
            cx.data_in = in.data_in;
            cx.ctx_in = in.ctx_in;
            cx.size = size;
            cx.insn = finding.insn;
            cx.tries = tries;
            if (!run) {
                const Error& e = run.error();
                if (e.code != ErrorCode::kRuntime || !e.where.insn) continue;
                const bool budget = e.message.find("budget") != std::string::npos;
                if (budget && is_loop(finding)) {
                    cx.error = e.to_string();
                    cx.summary = fmt::format("{} makes the program run {} instructions without ending",
                                             describe_input(type, bytes), options.run_budget);
                    return cx;
                }
                if (budget || *e.where.insn != finding.insn) continue;
                cx.error = e.to_string();
                cx.summary = fmt::format("{} makes instruction {} {}", describe_input(type, bytes), finding.insn,
                                         describe_fault(e, finding));
                return cx;
            }
            if (is_leak(finding) && ringbuf_records_left(options.maps) != 0) {
                cx.error = fmt::format("the run returned {} with a ring buffer record reserved", run->retval);
                cx.summary = fmt::format(
                    "{} makes the program return with a ring buffer record neither submitted "
                    "nor discarded",
                    describe_input(type, bytes));
                return cx;
            }
        }
    }
}

}  // namespace xbpf::vm
