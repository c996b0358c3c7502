#include <gtest/gtest.h>

#include "isa/instruction.hpp"

namespace xbpf::isa {
namespace {

TEST(OpcodeTable, EveryRowDecodesToItself) {
    for (const OpInfo& row : all_ops()) {
        RawInsn raw;
        raw.opcode = row.opcode;
        switch (row.disc) {
            case Disc::Off: raw.off = static_cast<std::int16_t>(row.disc_value); break;
            case Disc::Imm: raw.imm = row.disc_value; break;
            case Disc::Src: raw.src = static_cast<std::uint8_t>(row.disc_value); break;
            case Disc::None: break;
        }
        EXPECT_EQ(lookup(raw.opcode, raw.src, raw.off, raw.imm), row.op) << row.name;
    }
}

TEST(OpcodeTable, UnknownOpcodesHaveNoRow) {
    EXPECT_FALSE(lookup(0x00, 0, 0, 0));  // class LD, mode IMM, size W: not an instruction
    EXPECT_FALSE(lookup(0xff, 0, 0, 0));
    EXPECT_FALSE(lookup(0x38, 0, 0, 0));  // LD_ABS with size DW
    EXPECT_FALSE(lookup(0x37, 0, 2, 0));  // div64 with off 2
    EXPECT_FALSE(lookup(0xd7, 0, 0, 8));  // bswap8 does not exist
}

TEST(OpcodeTable, ThirtyTwoBitForms) {
    EXPECT_TRUE(is_32bit(Op::Add32Imm));
    EXPECT_TRUE(is_32bit(Op::MovSx8To32));
    EXPECT_FALSE(is_32bit(Op::MovSx32To64));
    EXPECT_TRUE(is_32bit(Op::Jeq32Reg));
    EXPECT_TRUE(is_32bit(Op::AtomicCmpxchg32));
    EXPECT_FALSE(is_32bit(Op::AtomicXchg64));
    EXPECT_FALSE(is_32bit(Op::Jeq64Reg));
}

}  // namespace
}  // namespace xbpf::isa
