// The path walk (the kernel's do_check): one Analyzer per verification. Internal to src/verifier.
//
// Paths are explored depth first; a conditional jump whose outcome is unknown forks the state (the jump target is
// pushed, the fall-through continues). At prune points the current state is compared with the states stored there:
// a finished one that includes it ends the path (its proof covers this one); an unfinished one equal to it is an
// infinite loop. Each check_* function validates one instruction, and on failure returns a Failure with the
// kernel-style message and a plain explanation; mark_* functions change the state.
#pragma once

#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.hpp"
#include "verifier/analyzer/state.hpp"
#include "verifier/btf_access.hpp"
#include "verifier/cfg/cfg.hpp"
#include "verifier/context.hpp"
#include "verifier/global_func.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::helpers {
struct Prototype;
}

namespace xbpf::verifier {

/// Why an instruction is unsafe.
struct Failure {
    std::string message;      ///< kernel vocabulary
    std::string explanation;  ///< one plain sentence
    std::vector<int> regs;    ///< registers to show
};

/// Success, or the reason the path (and the program) is rejected.
using Status = std::expected<void, Failure>;

/// A stored state at a prune point.
struct Checkpoint {
    State state;
    Checkpoint* parent = nullptr;
    std::uint32_t branches = 0;  ///< paths still being explored that passed through this checkpoint
    std::uint32_t hits = 0;      ///< paths it pruned
    std::uint32_t misses = 0;    ///< comparisons that failed while new states were being added
    /// Loop summarisation (widening.cpp): nonzero for a widened state at a loop head, the tag its path put on the
    /// loop's counter. An unfinished widened checkpoint covers a path that comes back around the loop with a state
    /// it includes, once the counter is proven to have moved (a ranking argument for termination).
    std::uint32_t ghost = 0;
    int direction = 0;  ///< +1: the counter increases on every way around; -1: decreases; 0: not yet seen
};

/// Where a loop's counter lives in the innermost frame: a register, or an 8-byte spill slot.
struct LoopCounter {
    int reg = -1;   ///< r0..r9, or -1
    int slot = -1;  ///< stack slot index (offsets [-8(slot+1), -8 slot)), or -1
    [[nodiscard]] bool valid() const { return reg >= 0 || slot >= 0; }
};

/// One jump of a path, for counterexamples (a persistent list shared between forks).
struct PathNode {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::uint32_t depth = 0;  ///< jumps recorded up to and including this one
    std::shared_ptr<const PathNode> prev;
};

/// Longest path kept for a counterexample (older jumps stay; later ones are dropped, keeping destruction shallow).
inline constexpr std::uint32_t kMaxPathJumps = 4096;

/// A path being explored.
struct Path {
    State state;
    Checkpoint* parent = nullptr;
    std::shared_ptr<const PathNode> history;
    std::uint32_t prev_pc = ~0u;  ///< the instruction executed just before the current one (~0u at the start)
};

class Analyzer {
  public:
    /// `widening`: summarise loops the walk cannot finish (widening.cpp); off gives the kernel's walk alone.
    Analyzer(std::span<const isa::Instruction> insns, const Cfg& cfg, const VerifyOptions& options,
             VerifyReport& report, bool widening = true);
    /// Explores every path; fills the report.
    void run();
    /// True if some loop was summarised (widened) during run().
    [[nodiscard]] bool summarised_loops() const { return ghost_gen_ != 0; }

  private:
    // --- the walk (analyzer.cpp)
    State initial_state() const;
    /// Executes the instruction at path.state.pc. Returns false when the path ended (exit, pruned, dead).
    std::expected<bool, Failure> step(Path& path);
    /// The transfer of one instruction (step's second half).
    std::expected<bool, Failure> execute(Path& path, const isa::Instruction& insn, std::uint32_t pc, isa::Shape shape);
    /// Prune-point test; true if the path is covered by a stored state.
    std::expected<bool, Failure> visit_prune_point(Path& path);
    void end_path(Path& path);
    void fork(const Path& from, State state, std::uint32_t from_pc);
    void record_jump(Path& path, std::uint32_t from, std::uint32_t to);
    void fail(const Path& path, Failure failure);
    void log_insn(const Path& path, std::uint32_t pc);
    void record_facts(const State& state, std::uint32_t pc);

    // --- loop summarisation (widening.cpp)
    /// At a loop head whose ordinary walk is blowing up: cover the path by an unfinished widened checkpoint it
    /// comes back to (true), or replace its state by a widened one and store it (false). Fails when the loop's
    /// states stopped growing but its counter is not proven to move towards an exit.
    std::expected<bool, Failure> summarise_loop(Path& path);
    /// True at a loop head whose walk is long enough to summarise (every arrival then stores its state).
    bool widening_armed(std::uint32_t pc) const;
    /// Keeps RegState::ghost relations true across one instruction of frame `frame` (`before`: that frame's
    /// registers before it).
    void track_ghosts(State& st, std::size_t frame, const std::array<RegState, 11>& before,
                      const isa::Instruction& insn);
    /// The constants loops of this function compare against, for widening bounds (sorted, unique).
    const std::vector<std::uint64_t>& thresholds(std::uint32_t function);
    std::uint32_t new_id() { return ++id_gen_; }

    // --- ALU (transfer_alu.cpp)
    Status check_alu(State& st, const isa::Instruction& insn, std::uint32_t pc);
    Status check_pointer_alu(State& st, const isa::Instruction& insn, std::uint32_t pc, RegState& dst,
                             const RegState& ptr, const RegState& off, bool ptr_is_dst);

    // --- memory (transfer_mem.cpp)
    Status check_load(State& st, const isa::Instruction& insn, std::uint32_t pc);
    Status check_store(State& st, const isa::Instruction& insn, std::uint32_t pc);
    Status check_atomic(State& st, const isa::Instruction& insn, std::uint32_t pc);
    Status check_ld_abs(State& st, const isa::Instruction& insn, std::uint32_t pc);
    Status check_lddw(State& st, const isa::Instruction& insn, std::uint32_t pc);
    /// A `size`-byte access at `reg` + `off`. For loads, `out` receives the loaded value; for stores `value` is
    /// the stored register (null for an immediate, with `imm`).
    Status check_mem_access(State& st, int regno, const RegState& reg, std::int64_t off, int size, bool write,
                            RegState* out, const RegState* value, std::int64_t imm, bool is_signed, bool atomic,
                            std::uint32_t pc);
    Status check_stack_access(State& st, int regno, const RegState& reg, std::int64_t off, int size, bool write,
                              RegState* out, const RegState* value, std::int64_t imm, std::uint32_t pc);
    Status check_region(int regno, const RegState& reg, std::int64_t off, std::int64_t size, std::uint64_t limit,
                        const char* what, std::uint32_t pc);
    /// A helper's access to [reg + 0, reg + size) where size is within [min_size, max_size].
    Status check_helper_mem(State& st, int regno, const RegState& reg, std::uint64_t min_size, std::uint64_t max_size,
                            bool write, std::uint32_t pc);
    Status check_stack_range(State& st, int regno, const RegState& reg, std::int64_t min_off, std::int64_t max_end,
                             bool write, std::uint32_t pc);

    // --- branches (transfer_branch.cpp); may fork
    std::expected<bool, Failure> check_branch(Path& path, const isa::Instruction& insn, std::uint32_t pc);

    // --- calls and exit (transfer_call.cpp)
    std::expected<bool, Failure> check_helper_call(Path& path, const isa::Instruction& insn, std::uint32_t pc);
    Status check_local_call(Path& path, const isa::Instruction& insn, std::uint32_t pc);
    /// A call to a global function: arguments checked against its BTF types, r0 an unknown scalar; queues the
    /// function's own verification (transfer_call.cpp).
    Status check_global_call(State& st, int f, std::uint32_t pc);
    /// The signature of every CFG function (computed on first use).
    const std::vector<GlobalFunc>& globals();
    std::expected<bool, Failure> check_exit(Path& path, std::uint32_t pc);

    // --- shared
    Status check_reg_read(const State& st, int regno) const;
    Status check_reg_write(int regno) const;
    const MapInfo* map_of(const RegState& reg) const;
    std::string map_name(std::uint32_t index) const;
    std::string origin_text(const RegState& reg) const;
    std::string line_text(std::uint32_t pc) const;
    void invalidate_packet_pointers(State& st);
    void mark_id(State& st, std::uint32_t id, const RegState& like);

    std::span<const isa::Instruction> insns_;
    const Cfg& cfg_;
    const VerifyOptions& options_;
    VerifyReport& report_;
    ContextLayout ctx_;
    const struct btf* kernel_btf_ = nullptr;
    std::optional<TracingArgs> tracing_;   ///< typed arguments of a tracing/LSM program
    std::vector<MapInfo> maps_;            ///< options.maps, then the inner map of each map-in-map
    std::vector<std::uint32_t> inner_of_;  ///< per map: index of its inner map in maps_, or ~0u

    std::vector<Path> pending_;
    std::deque<Checkpoint> checkpoints_;
    std::vector<std::vector<Checkpoint*>> explored_;  ///< per slot
    std::vector<std::uint32_t> visits_;               ///< per slot: times processed
    std::vector<std::uint32_t> stack_depth_;          ///< per function: deepest stack byte used
    std::vector<std::uint8_t> callback_site_;         ///< per slot: a helper call that runs a callback
    std::vector<GlobalFunc> globals_;                 ///< per function: its BTF signature (globals())
    std::vector<std::uint8_t> global_queued_;         ///< per function: its own verification was queued
    std::uint32_t id_gen_ = 0;
    std::uint64_t jumps_processed_ = 0;
    std::uint64_t jumps_at_checkpoint_ = 0;
    std::uint64_t insns_at_checkpoint_ = 0;
    int insn_value_reg_ = -1;  ///< register a store writes, for messages and spill links (-1: immediate)
    std::uint64_t live_checkpoints_ = 0;
    std::vector<LoopCounter> loop_counter_;               ///< per slot: a loop head's counter, once chosen
    std::vector<std::vector<std::uint64_t>> thresholds_;  ///< per function, built on first use
    /// Loop summarisation's own work (comparisons with widened checkpoints, steps up a path's checkpoints), charged
    /// to the instruction budget at one insn per kSummaryWorkPerInsn units: the time per processed insn stays bounded.
    static constexpr std::uint64_t kSummaryWorkPerInsn = 64;
    std::uint64_t summary_work_ = 0;
    void charge_summary_work(std::uint64_t units) {
        summary_work_ += units;
        report_.insns_processed += summary_work_ / kSummaryWorkPerInsn;
        summary_work_ %= kSummaryWorkPerInsn;
    }
    std::uint32_t ghost_gen_ = 0;  ///< last Checkpoint::ghost tag handed out
    bool failed_ = false;
    bool widening_ = true;
};

/// The values a program of this type must return (check_return_code), or nullopt when any value will do.
std::optional<std::pair<std::int64_t, std::int64_t>> return_range(object::ProgramType type, object::AttachType attach);

/// Kernel ids of the helpers that can move packet data (bpf_helper_changes_pkt_data): every packet pointer is
/// invalid after a call to one of them.
bool helper_changes_packet_data(std::int32_t id);

}  // namespace xbpf::verifier
