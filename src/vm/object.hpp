// A loaded object: the live side of an object::ObjectSpec (cilium/ebpf's Collection to its CollectionSpec).
// Loading creates every map (with its initial data and static slots), links each program to those maps and to the
// helper table, and prepares it to run. The ObjectSpec is not changed; tools may inspect or rewrite it first.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "helpers/helper.hpp"
#include "maps/map.hpp"
#include "maps/prog_array.hpp"
#include "object/core.hpp"
#include "object/object_spec.hpp"
#include "verifier/verifier.hpp"
#include "vm/native.hpp"
#include "vm/vm.hpp"

namespace xbpf::vm {

/// How to load.
struct LoadOptions {
    /// Helpers the programs may call; null means standard_helpers().
    const HelperTable* helpers = nullptr;
    /// The BTF that CO-RE relocations resolve against; null means the running kernel's (/sys/kernel/btf/vmlinux)
    /// when it exists, else the object's own BTF (each local type resolves to itself: the compiled values).
    const object::CoreTarget* core_target = nullptr;
    /// What the verifier decides: Off (programs run only in the checked interpreter), Required (a rejected program
    /// fails the load, as in the kernel), or Report (every program loads; each keeps its verdict, for tools).
    enum class Verify : std::uint8_t { Off, Required, Report };
    Verify verify = Verify::Required;
    /// Verify as an unprivileged user would be (no pointer leaks, no uninitialised stack reads).
    bool unprivileged = false;
    /// Keep the verifier's kernel-style log in each report.
    bool verifier_log = false;
    /// Compiles each program to native code after verification (jit::native_compiler() provides one): `report`
    /// is the accepting verifier report or null, `checked` asks for code with run-time checks, `unprivileged`
    /// for constant blinding. Null: programs run in the interpreter. A failure is not a load error: the program
    /// runs in the interpreter and LoadedProgram::native_error says why.
    using NativeCompiler = std::function<Result<std::shared_ptr<const NativeCode>>(
        const Program& program, const verifier::VerifyReport* report, bool checked, bool unprivileged)>;
    NativeCompiler compile_native;
};

/// Every helper xbpf implements (src/helpers) plus those the VM implements itself (bpf_tail_call, bpf_loop,
/// bpf_for_each_map_elem), keyed by kernel id.
const HelperTable& standard_helpers();

/// One loaded program: its spec, its type, and the vm::Program that runs it. Also a tail-call target.
class LoadedProgram final : public maps::TailCallTarget {
  public:
    [[nodiscard]] const object::ProgramSpec& spec() const { return *spec_; }
    [[nodiscard]] const std::string& name() const { return spec_->name; }
    [[nodiscard]] object::ProgramType type() const { return spec_->type; }
    [[nodiscard]] const Program& program() const { return program_; }
    [[nodiscard]] std::uint32_t prog_type() const override { return static_cast<std::uint32_t>(spec_->type); }
    [[nodiscard]] std::uint32_t prog_id() const override { return id_; }
    /// The verifier's report, when the program was verified (LoadOptions::verify is not Off).
    [[nodiscard]] const std::optional<verifier::VerifyReport>& verification() const { return report_; }
    /// True if the verifier accepted the program.
    [[nodiscard]] bool verified() const { return report_ && report_->accepted; }
    /// True if the program may run in the unchecked interpreter: verified, and without loads through kernel (BTF)
    /// pointers, which must stay checked because user space has no fault-tolerant probe read for them.
    [[nodiscard]] bool runs_unchecked() const;
    /// Why LoadOptions::compile_native failed for this program ("" if it succeeded or was not asked).
    [[nodiscard]] const std::string& native_error() const { return native_error_; }

    /// Use Object::load. Public for std::make_shared.
    LoadedProgram(const object::ProgramSpec* spec, Program program, std::uint32_t id,
                  std::optional<verifier::VerifyReport> report = std::nullopt);

  private:
    const object::ProgramSpec* spec_;
    Program program_;
    std::uint32_t id_;
    std::optional<verifier::VerifyReport> report_;
    std::string native_error_;
    friend class Object;
};

/// Maps and programs of one object, alive together.
class Object {
  public:
    /// Applies CO-RE relocations (LoadOptions::core_target), creates the maps of `spec` (global data with its
    /// initial contents, prog_array and map-in-map slots) and loads every program. Errors name the map or program ("map
    /// 'events': ...", "program 'xdp_prog': ...").
    static Result<std::unique_ptr<Object>> load(object::ObjectSpec spec, const LoadOptions& options = {});
    /// Empties the object's prog_array slots (as the kernel does when a prog_array's last user reference goes),
    /// which releases the programs stored there.
    ~Object();
    Object(const Object&) = delete;
    Object& operator=(const Object&) = delete;

    [[nodiscard]] const object::ObjectSpec& spec() const { return spec_; }
    /// Live maps, parallel to spec().maps.
    [[nodiscard]] const std::vector<std::shared_ptr<maps::Map>>& maps() const { return maps_; }
    /// The map called `name`, or nullptr.
    [[nodiscard]] std::shared_ptr<maps::Map> map(std::string_view name) const;
    /// Loaded programs, parallel to spec().programs.
    [[nodiscard]] const std::vector<std::shared_ptr<LoadedProgram>>& programs() const { return programs_; }
    /// The program called `name`, or nullptr.
    [[nodiscard]] const LoadedProgram* program(std::string_view name) const;

  private:
    Object() = default;
    object::ObjectSpec spec_;
    std::vector<std::shared_ptr<maps::Map>> maps_;
    std::vector<std::shared_ptr<LoadedProgram>> programs_;
};

/// One program's verdict from verify_object.
struct ProgramVerdict {
    std::string name;
    std::string section;
    object::ProgramType type = object::ProgramType::Unspec;
    verifier::VerifyReport report;
};

/// Verifies every program of `spec` the way Object::load would (CO-RE relocations applied as LoadOptions says,
/// `.rodata` and `.kconfig` contents known), without creating any map: objects whose maps xbpf cannot create
/// (cgroup_array) still get verdicts. LoadOptions::verify is ignored.
Result<std::vector<ProgramVerdict>> verify_object(const object::ObjectSpec& spec, const LoadOptions& options = {});

/// BPF_PROG_TEST_RUN's input (union bpf_attr.test), as `bpftool prog run` takes it.
struct TestRunInput {
    std::vector<std::uint8_t> data_in;       ///< xdp/skb: the packet; raw programs: the memory buffer (r1, r2 = size)
    std::vector<std::uint8_t> ctx_in;        ///< struct xdp_md / __sk_buff fields to set, or the tracing context bytes
    std::uint32_t repeat = 1;                ///< runs; duration is the average
    bool checked = true;                     ///< checked interpreter mode (until a verifier has accepted the program)
    std::uint64_t insn_budget = 1ull << 32;  ///< checked mode: instructions per run
    EngineKind engine = EngineKind::Auto;    ///< native code when the program has it for this mode (vm::run)
    const helpers::Environment* env = nullptr;  ///< null: helpers::default_environment()
    /// Checked mode, xdp and sched_cls/act: the packet region is only [data_meta, data_end) as the run starts (not
    /// the whole frame), so a read past the packet's end faults (vm/counterexample.hpp).
    bool strict_packet = false;
};

/// BPF_PROG_TEST_RUN's output.
struct TestRunOutput {
    std::uint64_t retval = 0;            ///< r0 of the last run (the kernel reports its low 32 bits)
    std::vector<std::uint8_t> data_out;  ///< the packet after the run (xdp/skb, after head/tail adjustments)
    std::vector<std::uint8_t> ctx_out;   ///< the context after the run (xdp_md, __sk_buff)
    std::uint64_t duration_ns = 0;       ///< average wall time of one run
    bool native = false;                 ///< the runs entered native (JIT) code
};

/// Runs `program` the way the kernel's BPF_PROG_TEST_RUN runs a program of its type (net/bpf/test_run.c): XDP gets
/// an xdp_md over `data_in` with 256 bytes of headroom; socket_filter and sched_cls get a __sk_buff built from
/// the Ethernet frame in `data_in`; raw programs get r1 = data, r2 = size; tracing programs get `ctx_in` as their
/// context. Errors: the kernel's refusals (-EINVAL cases) as kInvalidArgument, runtime faults as kRuntime.
Result<TestRunOutput> test_run(const LoadedProgram& program, const TestRunInput& input);

}  // namespace xbpf::vm
