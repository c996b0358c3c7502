// Internal: what a loaded Program holds. Only src/vm (and later src/jit) include this.
#pragma once

#include <memory>
#include <vector>

#include "maps/map.hpp"
#include "vm/native.hpp"
#include "vm/vm.hpp"

namespace xbpf::vm {

/// One slot of direct-threaded code: the handler's label address plus the operands. Jump offsets and the Lddw
/// tail keep their slot layout, so pc arithmetic matches the bytecode. For Call, `imm` indexes helper_fns.
struct ThreadedInsn {
    const void* handler = nullptr;
    std::uint8_t dst = 0;
    std::uint8_t src = 0;
    std::int16_t off = 0;
    std::int32_t imm = 0;
};
static_assert(sizeof(ThreadedInsn) == 16);

struct Program::Impl {
    std::vector<isa::Instruction> insns;
    std::vector<HelperFn> helper_fns;              ///< resolved helpers, indexed by ThreadedInsn::imm of calls
    std::vector<std::int32_t> helper_ids;          ///< kernel id of each helper_fns entry (diagnostics)
    std::vector<ThreadedInsn> code_checked;        ///< threaded code for checked mode
    std::vector<ThreadedInsn> code_unchecked;      ///< threaded code for unchecked (verified) mode
    std::vector<bool> is_function_start;           ///< slot begins a function (entry, local call or callx target)
    std::vector<std::shared_ptr<maps::Map>> maps;  ///< maps the code refers to (kept alive with the program)
    /// Map values the code addresses directly (lddw map value: global data), granted at run start in checked
    /// mode; read-only for maps created with BPF_F_RDONLY_PROG (.rodata, .kconfig).
    std::vector<MemoryRegion> data_regions;
    std::uint32_t prog_type = 0;  ///< enum bpf_prog_type (ProgramEnv::prog_type)
    /// Machine code compiled for this program (Program::set_native), or null.
    std::shared_ptr<const NativeCode> native;
};

/// The interpreter's label tables, one per mode, indexed by isa::Op (filled by the interpreter itself).
const void* const* interpreter_labels(bool checked);

}  // namespace xbpf::vm
