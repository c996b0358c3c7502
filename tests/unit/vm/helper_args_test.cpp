// Checked mode proves helper arguments (src/vm/helper_args.cpp): for each argument kind of the prototype table, an
// unverified program passing a bad pointer, size, map or context is stopped at its call with an error naming the
// helper and the argument, in the interpreter and in checked JIT code, and nothing outside its memory is written
// (guard bytes around the buffer); the same call with good arguments still works.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "jit/jit.hpp"
#include "maps/map.hpp"
#include "support/insn_builder.hpp"
#include "vm/vm.hpp"

namespace xbpf::vm {
namespace {

using namespace xbpf::test;  // NOLINT(google-build-using-namespace)
using u64 = std::uint64_t;

constexpr std::int32_t kLookup = 1, kUpdate = 2, kTailCall = 12, kGetComm = 16, kCsumDiff = 28, kPop = 88,
                       kSpinLock = 93, kSpinUnlock = 94, kStrtol = 105, kProbeReadKernel = 113, kRingbufReserve = 131,
                       kRingbufSubmit = 132, kForEach = 164, kLoop = 181, kStrncmp = 182;

/// 64 bytes the program may use (r1 at entry), between 32 guard bytes on each side.
struct Buffer {
    static constexpr std::size_t kGuard = 32, kSize = 64;
    alignas(16) std::array<std::uint8_t, kGuard * 2 + kSize> raw{};
    Buffer() {
        raw.fill(0xAA);
        std::fill(raw.begin() + kGuard, raw.begin() + kGuard + kSize, 0);
    }
    std::uint8_t* mem() { return raw.data() + kGuard; }
    [[nodiscard]] bool guards_intact() const {
        return std::all_of(raw.begin(), raw.begin() + kGuard, [](auto b) { return b == 0xAA; }) &&
               std::all_of(raw.end() - kGuard, raw.end(), [](auto b) { return b == 0xAA; });
    }
};

enum class Engine { Interp, Jit };
constexpr Engine kEngines[] = {Engine::Interp, Engine::Jit};
const char* name(Engine e) { return e == Engine::Interp ? "interpreter" : "JIT (checked)"; }

struct Case {
    std::vector<RawInsn> insns;
    std::vector<std::shared_ptr<maps::Map>> maps = {};
    bool writable = true;                          ///< the buffer's region
    std::function<void(std::uint8_t*)> fill = {};  ///< initial buffer contents
    const HelperTable* helpers = &standard_helpers();
};

/// Runs `c` checked on a fresh buffer in `engine`; `intact` reports the guard bytes afterwards.
Result<RunResult> run_case(const Case& c, Engine engine, bool& intact) {
    Buffer buf;
    intact = true;
    auto p = Program::load(c.insns, ProgramEnv{c.helpers, c.maps, 0});
    if (!p) return std::unexpected(p.error());
    if (c.fill) c.fill(buf.mem());
    RunInput in;
    in.args[0] = reinterpret_cast<u64>(buf.mem());
    in.regions.push_back({in.args[0], Buffer::kSize, c.writable, "mem"});
    RunOptions o;
    o.checked = true;
    o.engine = engine == Engine::Interp ? EngineKind::Interp : EngineKind::Auto;
    if (engine == Engine::Jit) {
        jit::JitOptions jo;
        jo.checked = true;
        auto code = jit::compile(*p, jo);
        if (!code) return std::unexpected(code.error());
        p->set_native(*code);
    }
    auto r = run(*p, in, o);
    if (r && engine == Engine::Jit) {
        EXPECT_TRUE(r->native);
    }
    intact = buf.guards_intact();
    return r;
}

/// Both engines stop the program at instruction `call` with an error containing every one of `texts`.
void expect_refused(const Case& c, std::size_t call, std::initializer_list<std::string_view> texts) {
    for (Engine e : kEngines) {
        bool intact = false;
        auto r = run_case(c, e, intact);
        EXPECT_TRUE(intact) << name(e) << ": guard bytes overwritten";
        ASSERT_FALSE(r) << name(e) << ": ran, r0 = " << r->r0;
        EXPECT_EQ(r.error().code, ErrorCode::kRuntime) << name(e);
        EXPECT_EQ(r.error().where.insn, call) << name(e) << ": " << r.error().to_string();
        for (std::string_view t : texts)
            EXPECT_NE(r.error().message.find(t), std::string::npos)
                << name(e) << ": " << r.error().to_string() << "\n  lacks: " << t;
    }
}

/// Both engines run `c` to the end with r0 == want.
void expect_runs(const Case& c, u64 want) {
    for (Engine e : kEngines) {
        bool intact = false;
        auto r = run_case(c, e, intact);
        EXPECT_TRUE(intact) << name(e);
        ASSERT_TRUE(r) << name(e) << ": " << r.error().to_string();
        EXPECT_EQ(r->r0, want) << name(e);
    }
}

std::shared_ptr<maps::Map> new_map(maps::MapType type, std::uint32_t key, std::uint32_t value, std::uint32_t n) {
    maps::MapSpec s;
    s.name = "m";
    s.type = type;
    s.key_size = key;
    s.value_size = value;
    s.max_entries = n;
    auto m = maps::create_map(s);
    EXPECT_TRUE(m) << m.error().to_string();
    return m ? *m : nullptr;
}

Slots map_ptr(std::uint8_t dst, std::int32_t index) {
    return Slots(test::make(Op::Lddw, dst, isa::kPseudoMapIdx, 0, index), RawInsn{});
}

// The differential finding: probe_read_kernel's destination runs 28 bytes past a 64-byte buffer.
TEST(HelperArgs, ProbeReadKernelDestinationPastTheBuffer) {
    auto prog = [](std::int32_t dst_off) {
        return program({mov64_reg(R6, R1), mov64_reg(R1, R6), alu64_imm(Alu::Add, R1, dst_off), mov64_imm(R2, 32),
                        mov64_reg(R3, R6), call_helper(kProbeReadKernel), exit_insn()});
    };
    expect_refused({prog(60)}, 5,
                   {"helper bpf_probe_read_kernel#113: argument 1 (r1 = 0x",
                    ", 32 bytes, written) is outside the "
                    "memory this program may access"});
    expect_runs({prog(32)}, 0);
    // Read-only memory is not a destination.
    Case ro{prog(0)};
    ro.writable = false;
    expect_refused(ro, 5, {"argument 1", "32 bytes, written"});
}

TEST(HelperArgs, SizeZeroOnlyWhereAllowed) {
    auto prog = [](std::int32_t size) {
        return program({mov64_reg(R1, R1), mov64_imm(R2, size), call_helper(kGetComm), exit_insn()});
    };
    expect_refused({prog(0)}, 2, {"bpf_get_current_comm#16: argument 2 (r2 = 0x0) is zero"});
    expect_runs({prog(16)}, 0);
    expect_refused({prog(65)}, 2, {"argument 1", "65 bytes, written"});
}

TEST(HelperArgs, NullOnlyWithSizeZero) {
    auto prog = [](std::int32_t size1) {
        return program({mov64_reg(R3, R1), mov64_imm(R1, 0), mov64_imm(R2, size1), mov64_imm(R4, 4), mov64_imm(R5, 0),
                        call_helper(kCsumDiff), exit_insn()});
    };
    expect_refused({prog(4)}, 5, {"bpf_csum_diff#28: argument 1 (r1 = 0x0, 4 bytes) is NULL"});
    expect_runs({prog(0)}, 0);  // the sum of four zero bytes
}

TEST(HelperArgs, MapPointerKeyAndValue) {
    const std::vector<std::shared_ptr<maps::Map>> table = {new_map(maps::MapType::Array, 4, 8, 1)};
    // Not a map: the buffer itself.
    expect_refused({program({mov64_reg(R2, R1), call_helper(kLookup), exit_insn()}), table}, 1,
                   {"bpf_map_lookup_elem#1: argument 1 (r1 = 0x", ") is not a map this program refers to"});
    auto lookup = [](std::int32_t key_off) {
        return program({mov64_reg(R6, R1), map_ptr(R1, 0), mov64_reg(R2, R6), alu64_imm(Alu::Add, R2, key_off),
                        call_helper(kLookup), exit_insn()});
    };
    expect_refused({lookup(62), table}, 5, {"argument 2", "4 bytes, read"});
    for (Engine e : kEngines) {  // key 0 exists: a value pointer comes back
        bool intact = false;
        auto r = run_case({lookup(0), table}, e, intact);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_NE(r->r0, 0u) << name(e);
    }
    auto update = [](std::int32_t value_off) {
        return program({mov64_reg(R6, R1), map_ptr(R1, 0), mov64_reg(R2, R6), mov64_reg(R3, R6),
                        alu64_imm(Alu::Add, R3, value_off), mov64_imm(R4, 0), call_helper(kUpdate), exit_insn()});
    };
    expect_refused({update(60), table}, 7, {"bpf_map_update_elem#2: argument 3", "8 bytes, read"});
    expect_runs({update(8), table}, 0);
}

TEST(HelperArgs, PoppedValueIsWritten) {
    const std::vector<std::shared_ptr<maps::Map>> table = {new_map(maps::MapType::Queue, 0, 8, 4)};
    ASSERT_TRUE(table[0]);
    const u64 v = 5;
    ASSERT_EQ(table[0]->update_host(nullptr, &v), 0);
    const auto prog = program({mov64_reg(R2, R1), map_ptr(R1, 0), call_helper(kPop), exit_insn()});
    Case ro{prog, table};
    ro.writable = false;
    expect_refused(ro, 3, {"bpf_map_pop_elem#88: argument 2", "8 bytes, written"});
}

TEST(HelperArgs, ContextMustBeTheContext) {
    const std::vector<std::shared_ptr<maps::Map>> table = {new_map(maps::MapType::ProgArray, 4, 4, 2)};
    auto prog = [](std::int32_t ctx_off) {
        return program({alu64_imm(Alu::Add, R1, ctx_off), map_ptr(R2, 0), mov64_imm(R3, 0), call_helper(kTailCall),
                        mov64_imm(R0, 7), exit_insn()});
    };
    expect_refused({prog(8), table}, 4, {"bpf_tail_call#12: argument 1", "is not the program's context"});
    expect_runs({prog(0), table}, 7);  // empty slot: the call fails and the program goes on
}

TEST(HelperArgs, SpinLockAndLong) {
    auto lock = [](std::int32_t off) {
        return program({alu64_imm(Alu::Add, R1, off), mov64_reg(R6, R1), call_helper(kSpinLock), mov64_reg(R1, R6),
                        call_helper(kSpinUnlock), mov64_imm(R0, 1), exit_insn()});
    };
    expect_refused({lock(62)}, 2, {"bpf_spin_lock#93: argument 1", "4 bytes, written"});
    expect_runs({lock(0)}, 1);

    auto strtol = [](std::int32_t res_off) {
        return program({mov64_reg(R6, R1), mov64_imm(R2, 3), mov64_imm(R3, 0), mov64_reg(R4, R6),
                        alu64_imm(Alu::Add, R4, res_off), call_helper(kStrtol), ldx_mem(Size::DW, R1, R6, 8),
                        alu64_imm(Alu::Lsh, R0, 32), alu64_reg(Alu::Or, R0, R1), exit_insn()});
    };
    const auto digits = [](std::uint8_t* m) { std::memcpy(m, "12", 3); };
    expect_refused({strtol(60), {}, true, digits}, 5, {"bpf_strtol#105: argument 4", "8 bytes, written"});
    expect_runs({strtol(8), {}, true, digits}, (u64{2} << 32) | 12);  // two characters parsed, value 12
}

TEST(HelperArgs, CallbackContextOnTheStack) {
    auto prog = [](bool on_stack) {
        return program({
            mov64_reg(R6, R1),                                                           // 0
            mov64_imm(R1, 3),                                                            // 1
            Slots(test::make(Op::Lddw, R2, isa::kPseudoFunc, 0, 8 - 2 - 1), RawInsn{}),  // 2-3
            on_stack ? mov64_reg(R3, R10) : mov64_reg(R3, R6),                           // 4
            mov64_imm(R4, 0),                                                            // 5
            call_helper(kLoop),                                                          // 6
            exit_insn(),                                                                 // 7
            mov64_imm(R0, 0),                                                            // 8: the callback
            exit_insn(),                                                                 // 9
        });
    };
    expect_refused({prog(false)}, 6, {"bpf_loop#181: argument 3", "is not inside the active stack frames"});
    expect_runs({prog(true)}, 3);
}

TEST(HelperArgs, RingbufSubmitNeedsASample) {
    const std::vector<std::shared_ptr<maps::Map>> table = {new_map(maps::MapType::Ringbuf, 0, 0, 4096),
                                                           new_map(maps::MapType::Array, 4, 16, 1)};
    // A granted map value is not a sample (the helper would read a record header before it).
    const auto value = program({
        mov64_reg(R2, R1),                               // 0: key 0 (the buffer is zero)
        map_ptr(R1, 1),                                  // 1-2
        call_helper(kLookup),                            // 3
        jmp_imm(Jmp::Jeq, R0, 0, 3), mov64_reg(R1, R0),  // 5
        mov64_imm(R2, 0),                                // 6
        call_helper(kRingbufSubmit),                     // 7
        exit_insn(),                                     // 8
    });
    expect_refused({value, table}, 7, {"bpf_ringbuf_submit#132: argument 1", "is not a ring buffer sample"});
    expect_refused({program({mov64_imm(R2, 0), call_helper(kRingbufSubmit), exit_insn()}), table}, 1,
                   {"is not a ring buffer sample"});
    const auto good = program({
        map_ptr(R1, 0), mov64_imm(R2, 8), mov64_imm(R3, 0), call_helper(kRingbufReserve),
        jmp_imm(Jmp::Jeq, R0, 0, 4),  // 5
        mov64_reg(R1, R0), mov64_imm(R2, 0), call_helper(kRingbufSubmit), mov64_imm(R0, 1),
        exit_insn(),  // 10
    });
    expect_runs({good, table}, 1);
}

TEST(HelperArgs, ConstStringMustEndInsideTheMemory) {
    auto prog = [](std::int32_t str_off) {
        return program({mov64_reg(R3, R1), alu64_imm(Alu::Add, R3, str_off), mov64_imm(R2, 2), call_helper(kStrncmp),
                        exit_insn()});
    };
    const auto fill = [](std::uint8_t* m) {
        std::memcpy(m, "ab", 3);
        std::memset(m + 56, 'x', 8);  // no NUL before the end of the buffer
    };
    expect_refused({prog(56), {}, true, fill}, 3, {"bpf_strncmp#182: argument 3", "NUL-terminated"});
    expect_runs({prog(0), {}, true, fill}, 0);  // "ab" == "ab"
}

TEST(HelperArgs, ForEachMapElemNeedsAMap) {
    const auto prog = program({
        mov64_reg(R1, R1),                                                           // 0: not a map
        Slots(test::make(Op::Lddw, R2, isa::kPseudoFunc, 0, 7 - 1 - 1), RawInsn{}),  // 1-2
        mov64_imm(R3, 0), mov64_imm(R4, 0), call_helper(kForEach),                   // 3-5
        exit_insn(),                                                                 // 6
        mov64_imm(R0, 0), exit_insn(),                                               // 7-8
    });
    expect_refused({prog}, 5, {"bpf_for_each_map_elem#164: argument 1", "is not a map"});
}

// An embedder's helper has no prototype: its arguments are its own business.
u64 echo(u64 r1, u64, u64, u64, u64, helpers::Context*) { return r1; }

TEST(HelperArgs, HelpersWithoutPrototypeAreNotChecked) {
    HelperTable t;
    t.add({100000, "echo", echo});
    Case c{program({test::ld_imm64(R1, 0xdead0000beefull), call_helper(100000), exit_insn()})};
    c.helpers = &t;
    expect_runs(c, 0xdead0000beefull);
}

}  // namespace
}  // namespace xbpf::vm
