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

#include "support/insn_builder.hpp"
#include "support/program_gen.hpp"
#include "vm/vm.hpp"

namespace xbpf::test {

constexpr bool k64 = true;   ///< 64-bit (ALU64/JMP) form in case tables
constexpr bool k32 = false;  ///< 32-bit (ALU/JMP32) form in case tables

constexpr std::uint64_t kFailed = 0xbad0bad0bad0bad0ull;  // returned when a run did not succeed (a failure is logged)

constexpr std::uint64_t sext(std::int32_t imm) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(imm)); }

/// Loads `prog`, runs it through run_raw in checked and unchecked mode on copies of `*mem`, requires both to succeed
/// with the same r0 and memory, stores the final memory back into `*mem` and returns r0.
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

/// Like run(), through vm::interpret with a packet for LD_ABS/LD_IND.
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
    return checked->r0;
}

/// Runs `prog` in checked mode only (it is unsafe) and returns the error; fails the test if it succeeded.
inline Error run_expecting_error(const std::vector<RawInsn>& prog, std::vector<std::uint8_t> mem = {},
                                 vm::RunOptions options = {.checked = true}) {
    auto loaded = vm::Program::load(prog);
    if (!loaded) {
        ADD_FAILURE() << "load failed: " << loaded.error().to_string();
        return {};
    }
    auto result = vm::run_raw(*loaded, mem, options);
    if (result) {
        ADD_FAILURE() << "expected a run-time error, got r0 = " << result->r0;
        return {};
    }
    EXPECT_EQ(result.error().code, ErrorCode::kRuntime) << result.error().to_string();
    return result.error();
}

inline std::string op_name(const RawInsn& insn) {
    auto op = isa::lookup(insn.opcode, insn.src, insn.off, insn.imm);
    return op ? std::string(isa::info(*op).name) : fmt::format("opcode {:#04x}", insn.opcode);
}

}  // namespace xbpf::test
