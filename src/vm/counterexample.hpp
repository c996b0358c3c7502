// Concrete counterexamples for verifier findings: after the verifier rejects a program, search for an input that
// makes the checked interpreter do what the verifier feared at the rejected instruction (read past a packet's end,
// dereference the NULL a map lookup returned, leave a ring buffer record reserved), so `xbpf verify` can show
// "a 13-byte packet [...] makes instruction 4 read 2 bytes outside the packet" under the finding.
//
// The search is bounded (a few thousand runs, a few milliseconds) and honest: it reports only a run whose error
// names the finding's instruction (or, for an unreleased reference, a run that ends with a ring buffer record
// neither submitted nor discarded; for an infinite loop, a run that exhausts its instruction budget). Nothing
// found means nothing is claimed: the verifier may be imprecise, or the input space too large.
//
// Inputs tried, per program type (vm::test_run runs them):
//   xdp                 linear packet lengths at and next to the constants the program compares and adds (its
//                       bounds checks), below 14 bytes through ctx_in (an xdp_md with data_end < the data size)
//   sched_cls/act       frames of those lengths (at least 14 bytes, the kernel's minimum)
//   socket_filter       frames of 14 + those lengths (skb->len excludes the Ethernet header)
//   unspec (raw memory) the verifier's memory size; only the contents vary
// Contents: zeros, 0xff, random bytes, and random bytes with the program's constants written (1, 2, 4 bytes, both
// byte orders) at offsets the program loads from. Maps are used as the program's map table has them (Object::load
// creates them empty: hash lookups return NULL, which is the counterexample for a missing NULL check).
// Packet reads are checked strictly (TestRunInput::strict_packet: the packet region is [data_meta, data_end),
// not the whole frame), so the first byte past the end faults.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "maps/map.hpp"
#include "verifier/verifier.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {

/// An input that makes a rejected program misbehave at the finding's instruction.
struct Counterexample {
    std::vector<std::uint8_t> data_in;  ///< TestRunInput::data_in: the frame (xdp, skb) or the memory (raw)
    std::vector<std::uint8_t> ctx_in;   ///< TestRunInput::ctx_in (xdp: an xdp_md for a linear part under 14 bytes)
    std::size_t size = 0;               ///< bytes the program sees: the linear packet, skb->len, or the memory size
    std::size_t insn = 0;               ///< the instruction that faulted (the finding's)
    std::string error;                  ///< the run's error ("insn 4: invalid read of 2 bytes at 0x...") or outcome
    /// One line: "a 13-byte packet [00 11 ...] makes instruction 4 read 2 bytes outside the packet".
    std::string summary;
    std::uint32_t tries = 0;  ///< runs the search took
};

/// How hard to look.
struct CounterexampleOptions {
    std::uint32_t max_tries = 3000;         ///< runs at most
    std::uint64_t time_budget_us = 10'000;  ///< wall time at most
    std::uint64_t run_budget = 100'000;     ///< instructions per run (checked mode)
    std::uint64_t seed = 1;                 ///< random contents
    /// Raw memory programs (type Unspec): the memory size the verifier was given (VerifyOptions::raw_memory_size).
    std::uint32_t raw_memory_size = 0;
    /// The program's maps (Object::maps()): ring buffers among them are checked for records left reserved.
    std::span<const std::shared_ptr<maps::Map>> maps;
};

/// True for the program types the search can run: xdp, socket_filter, sched_cls, sched_act, unspec.
bool counterexample_supported(object::ProgramType type);

/// Searches for an input that makes `program` misbehave at `finding` (see the top of this file). `program` is
/// loaded as the verifier saw it (LoadOptions::verify = Report); it runs checked. Returns nothing when the type is
/// not supported or nothing was found within the budget.
std::optional<Counterexample> find_counterexample(const LoadedProgram& program, const verifier::Finding& finding,
                                                  const CounterexampleOptions& options = {});

}  // namespace xbpf::vm
