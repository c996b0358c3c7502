// Helper prototypes: what each kernel helper takes and returns, in the kernel's own vocabulary
// (include/linux/bpf.h: enum bpf_arg_type, enum bpf_return_type and their type flags). The verifier reads this
// table to check calls; the runtime's implementations (one file per helper family) follow the same contracts.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace xbpf::helpers {

/// Base argument types (the kernel's ARG_* without the flags below).
enum class ArgType : std::uint8_t {
    DontCare,              ///< unused argument (ARG_DONTCARE)
    Anything,              ///< any initialised value (ARG_ANYTHING)
    ConstMapPtr,           ///< a map pointer loaded with lddw (ARG_CONST_MAP_PTR)
    PtrToMapKey,           ///< pointer to key_size readable bytes (ARG_PTR_TO_MAP_KEY)
    PtrToMapValue,         ///< pointer to value_size bytes (ARG_PTR_TO_MAP_VALUE)
    PtrToMem,              ///< pointer to memory whose size is the next argument, or fixed (ARG_PTR_TO_MEM)
    ConstSize,             ///< the size of the previous PtrToMem argument, > 0 and known bounded (ARG_CONST_SIZE)
    ConstSizeOrZero,       ///< the same, zero allowed (ARG_CONST_SIZE_OR_ZERO)
    ConstAllocSizeOrZero,  ///< size of memory the helper allocates (ARG_CONST_ALLOC_SIZE_OR_ZERO)
    PtrToCtx,              ///< the program's context (ARG_PTR_TO_CTX)
    PtrToSpinLock,         ///< a bpf_spin_lock inside a map value (ARG_PTR_TO_SPIN_LOCK)
    PtrToLong,             ///< pointer to 8 writable bytes (ARG_PTR_TO_LONG)
    PtrToAllocMem,         ///< memory returned by an allocating helper, e.g. ringbuf_reserve (ARG_PTR_TO_ALLOC_MEM)
    PtrToFunc,             ///< a callback function address (ARG_PTR_TO_FUNC)
    PtrToStack,            ///< pointer into the stack (ARG_PTR_TO_STACK)
    PtrToConstStr,         ///< pointer to a NUL-terminated string in read-only map memory (ARG_PTR_TO_CONST_STR)
};

/// Argument type flags (the kernel's PTR_MAYBE_NULL, MEM_RDONLY, MEM_UNINIT, OBJ_RELEASE, MEM_FIXED_SIZE).
enum ArgFlag : std::uint8_t {
    kMaybeNull = 1 << 0,  ///< NULL is accepted
    kRdonly = 1 << 1,     ///< the helper only reads the memory
    kUninit = 1 << 2,     ///< the helper writes the memory; it need not be initialised
    kRelease = 1 << 3,    ///< the helper releases the reference this argument holds
    kFixedSize = 1 << 4,  ///< PtrToMem of Arg::fixed_size bytes, no size argument
};

/// One argument: base type, flags, and for kFixedSize the size in bytes.
struct Arg {
    ArgType type = ArgType::DontCare;
    std::uint8_t flags = 0;
    std::uint8_t fixed_size = 0;
};

/// Return types (the kernel's RET_*).
enum class RetType : std::uint8_t {
    Integer,              ///< RET_INTEGER: a scalar
    Void,                 ///< RET_VOID: r0 is unusable afterwards
    PtrToMapValueOrNull,  ///< RET_PTR_TO_MAP_VALUE_OR_NULL: value_size bytes of the map argument, or NULL
    PtrToAllocMemOrNull,  ///< RET_PTR_TO_ALLOC_MEM_OR_NULL: memory of the alloc-size argument (a reference)
};

/// One helper's contract.
struct Prototype {
    std::int32_t id = 0;    ///< the kernel's BPF_FUNC_* id
    std::string_view name;  ///< without the "bpf_" prefix
    RetType ret = RetType::Integer;
    std::array<Arg, 5> args{};  ///< r1..r5
    bool gpl_only = false;      ///< callable only from GPL-compatible programs
    bool pkt_access = false;    ///< may be given packet pointers (the kernel's .pkt_access)
};

/// The prototype of helper `id`, or nullopt when xbpf does not know the helper.
std::optional<Prototype> prototype(std::int32_t id);

/// Every known prototype, sorted by id.
std::span<const Prototype> all_prototypes();

/// Number of arguments (the index of the first DontCare).
int arg_count(const Prototype& proto);

/// Whether programs of kernel program type `prog_type` (enum bpf_prog_type numbering) are offered helper `id`: the
/// kernel's per-type get_func_proto (sk_filter_func_proto, tc_cls_act_func_proto, xdp_func_proto,
/// kprobe_prog_func_proto, tracing_prog_func_proto, ...), for the helpers in this table. `perfmon`: the loader has
/// CAP_PERFMON; without it the network types lose the helpers bpf_base_func_proto offers only to perfmon-capable
/// loaders (probe reads, printk, get_current_task, ...). The tracing types need CAP_PERFMON to load at all and are
/// not restricted further. Program types outside the table (raw memory programs, 0, and types xbpf has no
/// context for) are offered every helper. Data measured with a `call N; r0 = 0; exit` probe on Linux 6.18 and
/// re-checked against the running kernel by tests/unit/verifier/helper_availability_test.cpp.
bool offered_to(std::int32_t id, std::uint32_t prog_type, bool perfmon);

/// Whether offered_to has data for kernel program type `prog_type`.
bool availability_known(std::uint32_t prog_type);

}  // namespace xbpf::helpers
