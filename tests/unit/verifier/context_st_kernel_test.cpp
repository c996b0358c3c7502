// BPF_ST (store immediate) into the context against the running kernel. Linux >= 6.3 checks these stores as it
// checks BPF_STX stores of a scalar (commit "bpf: allow ctx writes using BPF_ST_MEM instruction"), and so does
// xbpf. For each network program type with context rules, every offset from a little before the context to a
// little past its end and every size, the program
//   *(uN *)(r1 + off) = 1; r0 = 0; exit
// is loaded with BPF_PROG_LOAD and verified by xbpf; the verdicts must agree (context_kernel_test.cpp does the same
// sweep with BPF_STX, where xbpf's deliberate differences are listed; none applies to these types' stores).
// Skips, with the reason, when bpf() is unavailable.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isa/instruction.hpp"
#include "kernel/bpf_syscall.hpp"
#include "verifier/context.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::test {
namespace {

using object::AttachType;
using object::ProgramType;

/// `*(uN *)(r1 + off) = 1` (BPF_ST | BPF_MEM | size), `r0 = 0`, `exit`.
std::vector<isa::RawInsn> st_program(std::int16_t off, int size) {
    const std::uint8_t size_bits = size == 1 ? 0x10 : size == 2 ? 0x08 : size == 4 ? 0x00 : 0x18;
    isa::RawInsn st{};
    st.opcode = static_cast<std::uint8_t>(0x02 | 0x60 | size_bits);  // BPF_ST | BPF_MEM | size
    st.dst = 1;
    st.off = off;
    st.imm = 1;
    isa::RawInsn mov{};
    mov.opcode = 0xb7;  // r0 = 0
    isa::RawInsn exit{};
    exit.opcode = 0x95;
    return {st, mov, exit};
}

TEST(VerifierContextKernel, StoreImmediateAgreesWithKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << "bpf() unavailable: " << why;
    const ProgramType types[] = {ProgramType::SocketFilter, ProgramType::SchedCls, ProgramType::SchedAct,
                                 ProgramType::CgroupSkb,    ProgramType::LwtIn,    ProgramType::LwtXmit,
                                 ProgramType::SkSkb,        ProgramType::Xdp};
    int compared = 0;
    int accepted = 0;
    for (ProgramType type : types) {
        const std::int64_t size = verifier::context_layout(type, AttachType::None).size;
        for (std::int64_t off = -8; off < size + 8; ++off) {
            for (int width : {1, 2, 4, 8}) {
                const auto insns = st_program(static_cast<std::int16_t>(off), width);
                static char log[1 << 14];
                log[0] = 0;
                LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
                const int fd = bpf_prog_load(static_cast<bpf_prog_type>(type), "st", "GPL",
                                             reinterpret_cast<const bpf_insn*>(insns.data()), insns.size(), &opts);
                const bool kernel_ok = fd >= 0;
                if (fd >= 0) close(fd);
                verifier::VerifyOptions o;
                o.type = type;
                const auto report = verifier::verify(insns, o);
                ++compared;
                accepted += kernel_ok ? 1 : 0;
                EXPECT_EQ(report.accepted, kernel_ok) << fmt::format(
                    "{} *(u{} *)(r1 + {}) = 1: kernel {}, xbpf {}", object::program_type_name(type), width * 8, off,
                    kernel_ok ? "accepts" : "rejects", report.accepted ? "accepts" : report.summary());
            }
        }
    }
    std::cout << fmt::format("BPF_ST into the context: {} stores compared, {} accepted by the kernel\n", compared,
                             accepted);
    EXPECT_GT(accepted, 20);
}

}  // namespace
}  // namespace xbpf::test
