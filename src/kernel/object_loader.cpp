#include "kernel/object_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "maps/cpu.hpp"

namespace xbpf::kernel {
namespace {

/// The vmlinux BTF id a tracing or LSM program attaches to, found by name as libbpf's find_kernel_btf_id does
/// ("btf_trace_<tp>" typedefs for tp_btf, "bpf_lsm_<hook>" and "bpf_iter_<target>" functions, the function itself
/// for fentry/fexit/fmod_ret); 0 when the program needs none or the name is not in the kernel's BTF.
std::uint32_t kernel_attach_btf_id(const object::ProgramSpec& prog) {
    using object::AttachType;
    if (prog.type != object::ProgramType::Tracing && prog.type != object::ProgramType::Lsm) return 0;
    static struct btf* vmlinux = btf__load_vmlinux_btf();
    if (vmlinux == nullptr || libbpf_get_error(vmlinux) != 0 || prog.attach_target.empty()) return 0;
    std::string name = prog.attach_target;
    __u32 kind = BTF_KIND_FUNC;
    switch (prog.expected_attach_type) {
        case AttachType::TraceRawTp:
            name = "btf_trace_" + name;
            kind = BTF_KIND_TYPEDEF;
            break;
        case AttachType::LsmMac:
        case AttachType::LsmCgroup: name = "bpf_lsm_" + name; break;
        case AttachType::TraceIter: name = "bpf_iter_" + name; break;
        default: break;
    }
    const int id = btf__find_by_name_kind(vmlinux, name.c_str(), kind);
    return id > 0 ? static_cast<std::uint32_t>(id) : 0;
}

constexpr std::uint8_t kOpLddw = 0x18;
constexpr std::uint8_t kPseudoMapFd = 1;        // BPF_PSEUDO_MAP_FD
constexpr std::uint8_t kPseudoMapValue = 2;     // BPF_PSEUDO_MAP_VALUE
constexpr std::uint8_t kPseudoMapIdx = 5;       // BPF_PSEUDO_MAP_IDX
constexpr std::uint8_t kPseudoMapIdxValue = 6;  // BPF_PSEUDO_MAP_IDX_VALUE

/// How much of the verifier log an error message keeps (the verdict is at the end).
constexpr std::size_t kLogTail = 4096;

std::string log_tail(const std::string& log) {
    if (log.size() <= kLogTail) return log;
    return "...\n" + log.substr(log.size() - kLogTail);
}

/// Map types whose BTF key/value ids libbpf never passes (bpf_object__create_map): the kernel refuses or ignores
/// them.
bool takes_btf(maps::MapType type) {
    switch (type) {
        case maps::MapType::PerfEventArray:
        case maps::MapType::CgroupArray:
        case maps::MapType::StackTrace:
        case maps::MapType::ArrayOfMaps:
        case maps::MapType::HashOfMaps:
        case maps::MapType::Queue:
        case maps::MapType::Stack:
        case maps::MapType::ProgArray:
        case maps::MapType::Ringbuf: return false;
        default: return true;
    }
}

bool is_fd_map(maps::MapType type) {
    return type == maps::MapType::ProgArray || type == maps::MapType::PerfEventArray ||
           type == maps::MapType::ArrayOfMaps || type == maps::MapType::HashOfMaps ||
           type == maps::MapType::CgroupArray;
}

bool is_percpu(maps::MapType type) {
    return type == maps::MapType::PercpuArray || type == maps::MapType::PercpuHash ||
           type == maps::MapType::LruPercpuHash;
}

/// bpf_map_value_size() of kernel/bpf/syscall.c: the value buffer of the element syscalls.
std::size_t host_value_size(const maps::MapSpec& spec) {
    if (is_percpu(spec.type)) return ((spec.value_size + 7) / 8 * 8) * maps::num_possible_cpus();
    if (is_fd_map(spec.type)) return 4;
    return spec.value_size;
}

/// BPF_MAP_CREATE for one map of the object: with the object's BTF ids when it has them and the type takes them,
/// else (or if the kernel refuses the BTF) through kernel::create_map_raw, which supplies spin-lock BTF itself.
int create_object_map(const maps::MapSpec& spec, const object::MapInfo& info, int btf_fd, int inner_fd, MapFd& out) {
    if (btf_fd >= 0 && info.btf_value_type_id != 0 && takes_btf(spec.type)) {
        LIBBPF_OPTS(bpf_map_create_opts, opts);
        opts.map_flags = spec.flags;
        opts.map_extra = spec.map_extra;
        opts.btf_fd = static_cast<__u32>(btf_fd);
        opts.btf_key_type_id = info.btf_key_type_id;
        opts.btf_value_type_id = info.btf_value_type_id;
        if (inner_fd >= 0) opts.inner_map_fd = static_cast<__u32>(inner_fd);
        const int fd =
            bpf_map_create(static_cast<enum bpf_map_type>(spec.type), spec.name.empty() ? nullptr : spec.name.c_str(),
                           spec.key_size, spec.value_size, spec.max_entries, &opts);
        if (fd >= 0) {
            out = MapFd(fd);
            return 0;
        }
        // As libbpf: retry without BTF (an old kernel, or a value type the kernel does not accept).
    }
    return create_map_raw(spec, out, inner_fd);
}

}  // namespace

Object::~Object() {
    programs_.clear();
    maps_.clear();
    if (btf_fd_ >= 0) ::close(btf_fd_);
}

Result<std::unique_ptr<Object>> Object::load(const object::ObjectSpec& spec) {
    std::unique_ptr<Object> obj(new Object());
    obj->spec_ = spec;
    const object::ObjectSpec& s = obj->spec_;

    // 1. BTF. The spec's BTF is shared and immutable, so its raw bytes go to BPF_BTF_LOAD directly (rather than
    //    btf__load_into_kernel, which records the fd in the btf object).
    if (s.btf) {
        __u32 size = 0;
        const void* raw = btf__raw_data(s.btf.get(), &size);
        if (raw != nullptr && size > 0) {
            const int fd = bpf_btf_load(raw, size, nullptr);
            if (fd >= 0) obj->btf_fd_ = fd;
        }
    }

    // 2. Maps: plain maps first, then map-in-map outers (whose slots refer to the plain ones).
    obj->maps_.resize(s.maps.size());
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < s.maps.size(); ++i) {
            const maps::MapSpec& m = s.maps[i];
            const bool outer = m.type == maps::MapType::ArrayOfMaps || m.type == maps::MapType::HashOfMaps;
            if (outer != (pass == 1)) continue;
            MapFd inner;
            if (outer) {
                if (!m.inner) return make_error(ErrorCode::kKernel, fmt::format("map '{}': no inner map spec", m.name));
                maps::MapSpec inner_spec = *m.inner;
                if (inner_spec.name.empty()) inner_spec.name = m.name.substr(0, 9) + ".inner";
                if (const int rc = create_map_raw(inner_spec, inner))
                    return make_error(
                        ErrorCode::kKernel,
                        fmt::format("map '{}': inner map template: BPF_MAP_CREATE: {}", m.name, std::strerror(-rc)));
            }
            if (const int rc =
                    create_object_map(m, s.map_info[i], obj->btf_fd_, outer ? inner.get() : -1, obj->maps_[i]))
                return make_error(ErrorCode::kKernel, fmt::format("map '{}' ({}): BPF_MAP_CREATE: {}", m.name,
                                                                  maps::map_type_name(m.type), std::strerror(-rc)));
            const auto origin = s.map_info[i].origin;
            if (origin == object::MapOrigin::GlobalData || origin == object::MapOrigin::Kconfig) {
                std::vector<std::uint8_t> value = object::map_initial_value(s, i);
                value.resize(m.value_size, 0);
                const std::uint32_t zero = 0;
                if (const int rc = map_update(obj->maps_[i], &zero, value.data()))
                    return make_error(ErrorCode::kKernel,
                                      fmt::format("map '{}': initial contents: {}", m.name, std::strerror(-rc)));
                if (m.flags & maps::kFRdonlyProg) {
                    if (const int rc = map_freeze(obj->maps_[i]))
                        return make_error(ErrorCode::kKernel,
                                          fmt::format("map '{}': BPF_MAP_FREEZE: {}", m.name, std::strerror(-rc)));
                }
            }
        }
    }

    // 3. Programs.
    obj->programs_.resize(s.programs.size());
    obj->load_ns_.resize(s.programs.size());
    for (std::size_t p = 0; p < s.programs.size(); ++p) {
        const object::ProgramSpec& prog = s.programs[p];
        std::vector<isa::RawInsn> insns = prog.insns;
        for (std::size_t i = 0; i + 1 < insns.size(); ++i) {
            isa::RawInsn& in = insns[i];
            if (in.opcode != kOpLddw) continue;
            if (in.src == kPseudoMapIdx || in.src == kPseudoMapIdxValue) {
                const auto index = static_cast<std::uint32_t>(in.imm);
                if (index >= obj->maps_.size())
                    return make_error(ErrorCode::kKernel, fmt::format("program '{}': instruction {} refers to map {} "
                                                                      "of {}",
                                                                      prog.name, i, index, obj->maps_.size()));
                in.src = in.src == kPseudoMapIdx ? kPseudoMapFd : kPseudoMapValue;
                in.imm = obj->maps_[index].get();
            }
            ++i;  // skip the second slot
        }

        std::vector<bpf_func_info> func_info;
        std::vector<bpf_line_info> line_info;
        if (obj->btf_fd_ >= 0) {
            for (const auto& f : prog.func_info) func_info.push_back({static_cast<__u32>(f.insn), f.type_id});
            for (const auto& l : prog.line_info)
                line_info.push_back(
                    {static_cast<__u32>(l.insn), l.file_name_off, l.line_off, (l.line << 10) | (l.column & 0x3ff)});
        }

        const std::string license = s.license.empty() ? std::string("GPL") : s.license;
        const std::uint32_t attach_btf_id = kernel_attach_btf_id(prog);
        auto attempt = [&](bool with_btf, std::string* log) {
            LIBBPF_OPTS(bpf_prog_load_opts, opts);
            opts.expected_attach_type = static_cast<enum bpf_attach_type>(prog.expected_attach_type);
            opts.attach_btf_id = attach_btf_id;
            opts.prog_flags = prog.prog_flags;
            opts.kern_version = s.kernel_version;
            if (with_btf && obj->btf_fd_ >= 0) {
                opts.prog_btf_fd = static_cast<__u32>(obj->btf_fd_);
                if (!func_info.empty()) {
                    opts.func_info = func_info.data();
                    opts.func_info_cnt = static_cast<__u32>(func_info.size());
                    opts.func_info_rec_size = sizeof(bpf_func_info);
                }
                if (!line_info.empty()) {
                    opts.line_info = line_info.data();
                    opts.line_info_cnt = static_cast<__u32>(line_info.size());
                    opts.line_info_rec_size = sizeof(bpf_line_info);
                }
            }
            std::string buf;
            if (log) {
                buf.assign(4u << 20, '\0');
                opts.log_buf = buf.data();
                opts.log_size = static_cast<__u32>(buf.size());
                opts.log_level = 1;
            }
            const int fd = bpf_prog_load(static_cast<enum bpf_prog_type>(prog.type), prog.name.c_str(), license.c_str(),
                                         reinterpret_cast<const struct bpf_insn*>(insns.data()), insns.size(), &opts);
            const int err = errno;
            if (log) *log = buf.c_str();
            errno = err;
            return fd;
        };

        const auto start = std::chrono::steady_clock::now();
        int fd = attempt(true, nullptr);
        obj->load_ns_[p] = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
        if (fd < 0) {
            // Run it again with the verifier log for the message.
            std::string log;
            fd = attempt(true, &log);
            if (fd < 0) {
                const int err = errno;
                return make_error(ErrorCode::kKernel,
                                  fmt::format("program '{}' ({}): BPF_PROG_LOAD: {}{}{}", prog.name,
                                              object::program_type_name(prog.type), std::strerror(err),
                                              log.empty() ? "" : "\n", log_tail(log)));
            }
        }
        obj->programs_[p] = ProgFd(fd);
    }

    // 4. Static slots of prog_array and map-in-map maps.
    for (std::size_t i = 0; i < s.maps.size(); ++i) {
        for (const object::MapSlot& slot : s.map_info[i].initial_slots) {
            std::int32_t target = -1;
            if (slot.is_program) {
                target = obj->prog_fd(slot.target);
            } else {
                target = obj->map_fd(slot.target);
            }
            if (target < 0)
                return make_error(ErrorCode::kKernel,
                                  fmt::format("map '{}': slot {}: no {} '{}'", s.maps[i].name, slot.index,
                                              slot.is_program ? "program" : "map", slot.target));
            if (const int rc = map_update(obj->maps_[i], &slot.index, &target))
                return make_error(ErrorCode::kKernel, fmt::format("map '{}': slot {} = '{}': {}", s.maps[i].name,
                                                                  slot.index, slot.target, std::strerror(-rc)));
        }
    }
    return obj;
}

int Object::map_fd(std::string_view name) const {
    const auto index = spec_.find_map(name);
    return index ? maps_[*index].get() : -1;
}

int Object::prog_fd(std::string_view name) const {
    for (std::size_t i = 0; i < spec_.programs.size(); ++i)
        if (spec_.programs[i].name == name) return programs_[i].get();
    return -1;
}

std::uint64_t Object::prog_load_ns(std::string_view name) const {
    for (std::size_t i = 0; i < spec_.programs.size(); ++i)
        if (spec_.programs[i].name == name) return load_ns_[i];
    return 0;
}

Result<vm::TestRunOutput> Object::test_run(std::string_view program, const vm::TestRunInput& input) const {
    const int fd = prog_fd(program);
    if (fd < 0) return make_error(ErrorCode::kKernel, fmt::format("no program '{}'", program));
    std::vector<std::uint8_t> data_in = input.data_in;
    std::vector<std::uint8_t> ctx_in = input.ctx_in;
    // Generous: XDP may grow the packet by the 256-byte headroom and by tail adjustments up to a page.
    std::vector<std::uint8_t> data_out(data_in.size() + 8192);
    std::vector<std::uint8_t> ctx_out(ctx_in.size());
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    if (!data_in.empty()) {
        opts.data_in = data_in.data();
        opts.data_size_in = static_cast<__u32>(data_in.size());
        opts.data_out = data_out.data();
        opts.data_size_out = static_cast<__u32>(data_out.size());
    }
    if (!ctx_in.empty()) {
        opts.ctx_in = ctx_in.data();
        opts.ctx_size_in = static_cast<__u32>(ctx_in.size());
        opts.ctx_out = ctx_out.data();
        opts.ctx_size_out = static_cast<__u32>(ctx_out.size());
    }
    opts.repeat = input.repeat;
    if (bpf_prog_test_run_opts(fd, &opts) != 0) {
        const int err = errno;
        return make_error(ErrorCode::kKernel,
                          fmt::format("program '{}': BPF_PROG_TEST_RUN: {}", program, std::strerror(err)));
    }
    vm::TestRunOutput out;
    out.retval = opts.retval;
    data_out.resize(std::min<std::size_t>(opts.data_size_out, data_out.size()));
    out.data_out = std::move(data_out);
    ctx_out.resize(std::min<std::size_t>(opts.ctx_size_out, ctx_out.size()));
    out.ctx_out = std::move(ctx_out);
    out.duration_ns = opts.duration;
    return out;
}

Result<std::vector<maps::MapEntry>> Object::dump_map(std::string_view name) const {
    const auto index = spec_.find_map(name);
    if (!index) return make_error(ErrorCode::kKernel, fmt::format("no map '{}'", name));
    const maps::MapSpec& m = spec_.maps[*index];
    const MapFd& fd = maps_[*index];
    std::vector<maps::MapEntry> out;
    const std::size_t vsize = host_value_size(m);
    if (m.type == maps::MapType::Queue || m.type == maps::MapType::Stack) {
        // No keys: pop everything (pop order), then push it back so the map is unchanged. A stack is refilled
        // from its bottom element up, a queue in the same order.
        std::vector<std::uint8_t> value(vsize);
        while (map_lookup_and_delete(fd, nullptr, value.data()) == 0) out.push_back({{}, value});
        std::vector<maps::MapEntry> refill = out;
        if (m.type == maps::MapType::Stack) std::reverse(refill.begin(), refill.end());
        for (const auto& e : refill)
            if (const int rc = map_update(fd, nullptr, e.value.data()))
                return make_error(ErrorCode::kKernel,
                                  fmt::format("map '{}': refilling after the dump: {}", name, std::strerror(-rc)));
        return out;
    }
    if (m.key_size == 0) return out;  // ringbuf, bloom filter: no elements to read
    std::vector<std::uint8_t> key(m.key_size), next(m.key_size), value(vsize);
    const std::uint64_t limit = 2 * std::uint64_t{m.max_entries} + 64;
    int rc = map_get_next_key(fd, nullptr, next.data());
    for (std::uint64_t steps = 0; rc == 0 && steps < limit; ++steps) {
        const int lrc = map_lookup(fd, next.data(), value.data());
        if (lrc == 0) {
            out.push_back({next, value});
        } else if (lrc != -ENOENT) {
            out.push_back({next, {}});  // keys without a readable value (perf_event_array), as maps::Map::dump
        }
        key.swap(next);
        rc = map_get_next_key(fd, key.data(), next.data());
    }
    return out;
}

}  // namespace xbpf::kernel
