// The case table of the object differential tests: clang-built programs (tests/programs/*.bpf.c) run on an input,
// with results derived by hand from their C source. kernel_programs_test.cpp runs every case in the Linux kernel
// (kernel::Object), xbpf_programs_test.cpp through vm::Object, and compares the two where the kernel is available.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "maps/map.hpp"
#include "object/object_spec.hpp"
#include "vm/object.hpp"

namespace xbpf::test::programs {

using Bytes = std::vector<std::uint8_t>;

/// One expected map entry. For per-CPU maps `value` is value_size bytes holding the per-CPU values summed as
/// 64-bit little-endian words (which CPU a run lands on is the runtime's choice; the sum is not).
struct ExpectedEntry {
    Bytes key;  ///< empty for queue/stack maps
    Bytes value;
};

/// What a map must hold after the run.
struct ExpectedMap {
    std::string name;
    std::vector<ExpectedEntry> entries;
    /// true: the map holds exactly `entries` (queue/stack: in pop order; others: as a set). false: each entry is
    /// present with its value, other entries may exist.
    bool exact = true;
    std::vector<Bytes> absent;  ///< keys that must not be present
};

/// One run of one program.
struct Case {
    std::string name;     ///< test name suffix (letters, digits, '_')
    std::string object;   ///< tests/programs/<object>.bpf.c
    std::string program;  ///< program (function) name
    Bytes data_in;
    Bytes ctx_in;
    std::uint32_t repeat = 1;
    std::uint32_t retval = 0;       ///< expected r0 (the low 32 bits, which is all the kernel reports)
    std::optional<Bytes> data_out;  ///< expected packet after the run; nullopt: unchanged (== data_in)
    std::vector<std::pair<std::size_t, std::uint32_t>> ctx_out_u32;  ///< (byte offset, value) checks of ctx_out
    std::vector<ExpectedMap> maps;
};

/// Every case.
const std::vector<Case>& cases();

/// Path of a compiled test object (<build>/tests/programs/<object>.bpf.o).
std::string object_path(const std::string& object);

/// Parses a case's object; nullopt (with `why`) when it was not built.
std::optional<object::ObjectSpec> load_spec(const std::string& object, std::string* why);

/// A map dump by name, as kernel::Object::dump_map or maps::Map::dump give it.
using DumpFn = std::function<Result<std::vector<maps::MapEntry>>(std::string_view)>;

/// Checks a run against a case: retval, data_out, ctx_out fields and the expected maps. Returns one message per
/// mismatch ("retval: expected 2, got 0"), empty when everything matches.
std::vector<std::string> check_case(const Case& c, const object::ObjectSpec& spec, const vm::TestRunOutput& out,
                                    const DumpFn& dump);

/// Compares the maps of two runs of the same object (xbpf vs kernel) in the way each map type allows; see the
/// comment in cases.cpp. Returns one message per difference.
std::vector<std::string> compare_maps(const object::ObjectSpec& spec, const DumpFn& xbpf, const DumpFn& kernel);

/// Hex text of bytes ("0a ff ...").
std::string hex(const Bytes& bytes);

}  // namespace xbpf::test::programs
