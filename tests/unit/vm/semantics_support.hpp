// Shared run helpers of the interpreter semantics suites (semantics_*_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "jit/jit.hpp"
#include "support/engine_diff.hpp"
#include "support/insn_builder.hpp"
#include "support/program_gen.hpp"
#include "vm/vm.hpp"

namespace xbpf::test {

constexpr bool k64 = true;   ///< 64-bit (ALU64/JMP) form in case tables
constexpr bool k32 = false;  ///< 32-bit (ALU/JMP32) form in case tables

constexpr std::uint64_t kFailed = 0xbad0bad0bad0bad0ull;  // returned when a run did not succeed (a failure is logged)

constexpr std::uint64_t sext(std::int32_t imm) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(imm)); }

/// Runs `program` through run_raw with its native code compiled for the mode (JIT), requiring that the JIT compiles
/// it and that the run entered native code.
inline Result<vm::RunResult> run_jit(vm::Program& program, std::span<std::uint8_t> mem, bool checked,
                                     bool blind = false) {
    auto code = jit::compile(
        program, jit::JitOptions{.checked = checked, .blind_constants = blind, .facts = {}, .optimize = true});
    if (!code) {
        ADD_FAILURE() << "jit failed: " << code.error().to_string();
        return std::unexpected(code.error());
    }
    program.set_native(*code);
    auto r = vm::run_raw(program, mem, vm::RunOptions{.checked = checked});
    program.set_native(nullptr);
    if (r) {
        EXPECT_TRUE(r->native) << "the run did not enter the JIT code";
    }
    return r;
}

/// Loads `prog`, runs it through run_raw in checked and unchecked mode, in the interpreter and in JIT code (also
/// with constant blinding), on copies of `*mem`; requires every run to succeed with the same r0 and memory, stores
/// the final memory back into `*mem` and returns r0.
inline std::uint64_t run(const std::vector<RawInsn>& prog, std::vector<std::uint8_t>* mem = nullptr,
                         const vm::HelperTable* helpers = nullptr) {
    auto loaded = vm::Program::load(prog, helpers);
    if (!loaded) {
        ADD_FAILURE() << "load failed: " << loaded.error().to_string();
        return kFailed;
    }
    std::vector<std::uint8_t> checked_mem = mem ? *mem : std::vector<std::uint8_t>{};
    std::vector<std::uint8_t> unchecked_mem = checked_mem;
    auto checked = vm::run_raw(*loaded, checked_mem, vm::RunOptions{.checked = true});
    auto unchecked = vm::run_raw(*loaded, unchecked_mem, vm::RunOptions{.checked = false});
    const std::vector<std::uint8_t> initial = mem ? *mem : std::vector<std::uint8_t>{};
    for (const bool jit_checked : {true, false})
        for (const bool blind : {false, true}) {
            std::vector<std::uint8_t> jit_mem = initial;
            auto j = run_jit(*loaded, jit_mem, jit_checked, blind);
            const std::string what =
                fmt::format("JIT ({}{})", jit_checked ? "checked" : "unchecked", blind ? ", blinded" : "");
            if (!j) {
                ADD_FAILURE() << what << " run failed: " << j.error().to_string();
                continue;
            }
            if (checked) {
                EXPECT_EQ(j->r0, checked->r0) << what << " and the interpreter disagree";
                EXPECT_EQ(jit_mem, checked_mem) << what << " and the interpreter left different memory";
                if (jit_checked) {
                    EXPECT_EQ(j->insns, checked->insns) << what << " counted other instructions";
                }
            }
        }
    if (!checked) {
        ADD_FAILURE() << "checked run failed: " << checked.error().to_string();
        return kFailed;
    }
    if (!unchecked) {
        ADD_FAILURE() << "unchecked run failed: " << unchecked.error().to_string();
        return kFailed;
    }
    EXPECT_EQ(checked->r0, unchecked->r0) << "checked and unchecked mode disagree";
    EXPECT_EQ(checked_mem, unchecked_mem) << "checked and unchecked mode left different memory";
    if (mem) *mem = checked_mem;
    return checked->r0;
}

/// Like run(), through vm::interpret and vm::run (JIT) with a packet for LD_ABS/LD_IND.
inline std::uint64_t run_packet(const std::vector<RawInsn>& prog, const std::vector<std::uint8_t>& packet) {
    auto loaded = vm::Program::load(prog);
    if (!loaded) {
        ADD_FAILURE() << "load failed: " << loaded.error().to_string();
        return kFailed;
    }
    vm::RunInput input;
    input.packet = packet;
    auto checked = vm::interpret(*loaded, input, vm::RunOptions{.checked = true});
    auto unchecked = vm::interpret(*loaded, input, vm::RunOptions{.checked = false});
    if (!checked || !unchecked) {
        ADD_FAILURE() << "run failed: " << (!checked ? checked.error() : unchecked.error()).to_string();
        return kFailed;
    }
    EXPECT_EQ(checked->r0, unchecked->r0) << "checked and unchecked mode disagree";
    for (const bool jit_checked : {true, false}) {
        auto code = jit::compile(
            *loaded, jit::JitOptions{.checked = jit_checked, .blind_constants = false, .facts = {}, .optimize = true});
        if (!code) {
            ADD_FAILURE() << "jit failed: " << code.error().to_string();
            continue;
        }
        loaded->set_native(*code);
        auto j = vm::run(*loaded, input, vm::RunOptions{.checked = jit_checked});
        loaded->set_native(nullptr);
        if (!j) {
            ADD_FAILURE() << "JIT run failed: " << j.error().to_string();
            continue;
        }
        EXPECT_TRUE(j->native);
        EXPECT_EQ(j->r0, checked->r0) << "JIT and interpreter disagree";
    }
    return checked->r0;
}

/// Runs `prog` in checked mode only (it is unsafe) and returns the error; fails the test if it succeeded. The same
/// program compiled by the JIT (checked code when the run is checked) must fail with the same error.
inline Error run_expecting_error(const std::vector<RawInsn>& prog, std::vector<std::uint8_t> mem = {},
                                 vm::RunOptions options = {.checked = true}) {
    auto loaded = vm::Program::load(prog);
    if (!loaded) {
        ADD_FAILURE() << "load failed: " << loaded.error().to_string();
        return {};
    }
    const std::vector<std::uint8_t> initial = mem;
    auto result = vm::run_raw(*loaded, mem, options);
    mem = initial;  // the same buffer (addresses in messages match) with the same contents
    if (result) {
        ADD_FAILURE() << "expected a run-time error, got r0 = " << result->r0;
        return {};
    }
    EXPECT_EQ(result.error().code, ErrorCode::kRuntime) << result.error().to_string();
    auto code = jit::compile(
        *loaded, jit::JitOptions{.checked = options.checked, .blind_constants = false, .facts = {}, .optimize = true});
    if (!code) {
        ADD_FAILURE() << "jit failed: " << code.error().to_string();
    } else {
        loaded->set_native(*code);
        auto j = vm::run_raw(*loaded, mem, options);
        loaded->set_native(nullptr);
        if (j)
            ADD_FAILURE() << "JIT: expected a run-time error, got r0 = " << j->r0;
        else
            EXPECT_EQ(j.error().to_string(), result.error().to_string()) << "JIT and interpreter errors differ";
    }
    return result.error();
}

/// A run's outcome as text: r0 and the instruction count, or the error with host stack addresses masked (two runs'
/// stack blocks may lie at different addresses).
inline std::string outcome(const Result<vm::RunResult>& r) {
    if (r) return fmt::format("r0 = {:#x}, insns = {}", r->r0, r->insns);
    return mask_stack_addresses("error: " + r.error().to_string());
}

/// Runs `program` in the interpreter and then in JIT code compiled for the run's mode (checked or not): the outcomes
/// must be the same. Returns the interpreter's. For programs without side effects that a second run would see.
inline Result<vm::RunResult> run_both(const vm::Program& program, const vm::RunInput& input,
                                      const vm::RunOptions& options = {}) {
    auto want = vm::interpret(program, input, options);
    auto code = jit::compile(
        program, jit::JitOptions{.checked = options.checked, .blind_constants = false, .facts = {}, .optimize = true});
    if (!code) {
        ADD_FAILURE() << "jit failed: " << code.error().to_string();
        return want;
    }
    auto& mutable_program = const_cast<vm::Program&>(program);  // attach the code for this run only
    mutable_program.set_native(*code);
    vm::RunOptions o = options;
    o.engine = vm::EngineKind::Jit;
    auto got = vm::run(program, input, o);
    mutable_program.set_native(nullptr);
    EXPECT_EQ(outcome(got), outcome(want)) << "JIT and interpreter disagree";
    if (got) {
        EXPECT_TRUE(got->native);
    }
    return want;
}

inline std::string op_name(const RawInsn& insn) {
    auto op = isa::lookup(insn.opcode, insn.src, insn.off, insn.imm);
    return op ? std::string(isa::info(*op).name) : fmt::format("opcode {:#04x}", insn.opcode);
}

}  // namespace xbpf::test
