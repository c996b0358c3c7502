// Loading an object::ObjectSpec into the Linux kernel: the kernel-side twin of vm::Object, used by the object
// differential tests (the same parsed object run by xbpf and by the kernel). Only libbpf's low-level API is used
// (bpf_map_create, bpf_btf_load, bpf_prog_load, the element commands): the kernel gets exactly the maps and
// instructions xbpf parsed, never libbpf's own reading of the ELF file.
//
// What load() does, in libbpf's order (tools/lib/bpf/libbpf.c, bpf_object_load):
//   1. the object's BTF (ObjectSpec::btf) goes to the kernel with BPF_BTF_LOAD; if the kernel refuses it, maps and
//      programs load without BTF (as libbpf does when the kernel lacks BTF support);
//   2. every map is created (BTF key/value ids where the type allows them; a retry without BTF on refusal);
//      map-in-map outers get an inner-map template built from MapSpec::inner; global data maps get their initial
//      contents at key 0, and `.rodata*`/`.kconfig` maps are then frozen (BPF_MAP_FREEZE) so the verifier may
//      treat their contents as constants;
//   3. every program's `lddw src=5 (BPF_PSEUDO_MAP_IDX) imm=i` becomes `src=1 (BPF_PSEUDO_MAP_FD) imm=fd(i)` and
//      `lddw src=6 (BPF_PSEUDO_MAP_IDX_VALUE) imm=i` becomes `src=2 (BPF_PSEUDO_MAP_VALUE) imm=fd(i)` (the offset in
//      the second slot is kept); it is loaded with its type, expected attach type, flags, the object's license and
//      kernel version, and func_info/line_info when the BTF loaded;
//   4. prog_array and map-in-map slots from MapInfo::initial_slots are filled.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/maps.hpp"
#include "maps/map.hpp"
#include "object/object_spec.hpp"
#include "vm/object.hpp"

namespace xbpf::kernel {

/// The maps and programs of one object, loaded into the kernel; every fd closes with the Object.
class Object {
  public:
    /// Loads `spec` as described above. Errors (ErrorCode::kKernel) name the map or program; a program the
    /// verifier refuses gives the errno and the tail of the verifier log.
    static Result<std::unique_ptr<Object>> load(const object::ObjectSpec& spec);

    /// BPF_PROG_TEST_RUN of the program called `program` with `input` (data_in, ctx_in, repeat; `checked` and
    /// `env` are xbpf-only and ignored). data_out holds the packet after the run; ctx_out is filled only when
    /// ctx_in is given (the kernel refuses an XDP ctx_out without a ctx_in that describes the packet).
    [[nodiscard]] Result<vm::TestRunOutput> test_run(std::string_view program, const vm::TestRunInput& input) const;

    /// Every entry of the map called `name` (get_next_key order; values in the syscall layout, i.e. per-CPU maps
    /// give round_up(value_size, 8) bytes per possible CPU, fd maps give the 4-byte id the kernel reports), as
    /// maps::Map::dump does on the xbpf side. Queue and stack maps (no keys) are read by peeking only when they
    /// hold at most one element; otherwise they would have to be popped, so they give an error instead.
    /// Ring buffers and perf event arrays have no readable elements: an empty vector.
    [[nodiscard]] Result<std::vector<maps::MapEntry>> dump_map(std::string_view name) const;

    /// The spec this object was loaded from.
    [[nodiscard]] const object::ObjectSpec& spec() const { return spec_; }
    /// The fd of the map called `name`, or -1.
    [[nodiscard]] int map_fd(std::string_view name) const;
    /// The fd of the program called `name`, or -1.
    [[nodiscard]] int prog_fd(std::string_view name) const;
    /// Wall time of the BPF_PROG_LOAD that loaded the program called `name` (verification, JIT and BTF checks; the
    /// first attempt, without a log), in ns; 0 if there is no such program.
    [[nodiscard]] std::uint64_t prog_load_ns(std::string_view name) const;
    /// True when the object's BTF was accepted (func_info/line_info were passed with the programs).
    [[nodiscard]] bool has_btf() const { return btf_fd_ >= 0; }

    Object(const Object&) = delete;
    Object& operator=(const Object&) = delete;
    ~Object();

  private:
    Object() = default;
    object::ObjectSpec spec_;
    int btf_fd_ = -1;
    std::vector<MapFd> maps_;             // parallel to spec_.maps
    std::vector<ProgFd> programs_;        // parallel to spec_.programs
    std::vector<std::uint64_t> load_ns_;  // parallel to spec_.programs
};

}  // namespace xbpf::kernel
