// Decoder: every invalid encoding is reported with its instruction index, never executed.
#include <gtest/gtest.h>

#include "isa/instruction.hpp"

namespace xbpf::isa {
namespace {

RawInsn raw(std::uint8_t opcode, std::uint8_t dst = 0, std::uint8_t src = 0, std::int16_t off = 0,
            std::int32_t imm = 0) {
    RawInsn r;
    r.opcode = opcode;
    r.dst = dst;
    r.src = src;
    r.off = off;
    r.imm = imm;
    return r;
}

const RawInsn kExit = raw(0x95);

// Decodes `prog` and expects an error at `insn` whose message contains `needle`.
void expect_invalid(std::vector<RawInsn> prog, std::size_t insn, const std::string& needle) {
    auto r = decode(prog);
    ASSERT_FALSE(r.has_value()) << "expected rejection containing '" << needle << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInstruction);
    ASSERT_TRUE(r.error().where.insn.has_value());
    EXPECT_EQ(*r.error().where.insn, insn) << r.error().to_string();
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(Decode, ValidProgramRoundTrips) {
    std::vector<RawInsn> prog = {raw(0xb7, 0, 0, 0, 7),
                                 raw(0x18, 1, 0, 0, 0x55667788),
                                 raw(0, 0, 0, 0, 0x11223344),
                                 raw(0x15, 1, 0, 1, 0),
                                 raw(0x0f, 0, 1),
                                 raw(0xbf, 2, 1, 8, 0),
                                 raw(0xd7, 2, 0, 0, 64),
                                 raw(0xdb, 10, 2, -8, 0xf1),
                                 kExit};
    auto d = decode(prog);
    ASSERT_TRUE(d) << d.error().to_string();
    ASSERT_EQ(d->size(), prog.size());
    EXPECT_EQ((*d)[1].op, Op::Lddw);
    EXPECT_EQ((*d)[1].imm64, 0x1122334455667788ull);
    EXPECT_TRUE((*d)[2].is_lddw_tail);
    EXPECT_EQ((*d)[5].op, Op::MovSx8To64);
    EXPECT_EQ((*d)[6].op, Op::Bswap64);
    EXPECT_EQ((*d)[7].op, Op::AtomicCmpxchg64);
    EXPECT_EQ(encode(*d), prog);
}

TEST(Decode, UnknownOpcode) { expect_invalid({raw(0xb7), raw(0xff), kExit}, 1, "unknown opcode 0xff"); }

TEST(Decode, BadRegister) {
    expect_invalid({raw(0xb7, 11, 0, 0, 1), kExit}, 0, "register r11");
    expect_invalid({raw(0x0f, 1, 12), kExit}, 0, "register r12");
}

TEST(Decode, ReservedFields) {
    expect_invalid({raw(0x07, 1, 2, 0, 1), kExit}, 0, "reserved field src");  // add imm with src set
    expect_invalid({raw(0x0f, 1, 2, 0, 5), kExit}, 0, "reserved field imm");  // add reg with imm set
    expect_invalid({raw(0x07, 1, 0, 3, 1), kExit}, 0, "reserved field off");  // add imm with off set
    expect_invalid({raw(0x95, 0, 0, 0, 1)}, 0, "reserved field imm");         // exit with imm
    expect_invalid({raw(0x05, 0, 0, 0, 1), kExit}, 0, "reserved field imm");  // ja with imm
    expect_invalid({raw(0x87, 1, 0, 0, 1), kExit}, 0, "reserved field imm");  // neg with imm
    expect_invalid({raw(0x61, 0, 1, 0, 4), kExit}, 0, "reserved field imm");  // ldxw with imm
    expect_invalid({raw(0x62, 1, 2, 0, 4), kExit}, 0, "reserved field src");  // stw with src
}

TEST(Decode, DiscriminatorValues) {
    expect_invalid({raw(0x37, 1, 0, 2, 1), kExit}, 0, "invalid offset 2");    // div: off must be 0 or 1
    expect_invalid({raw(0xbc, 1, 2, 32, 0), kExit}, 0, "invalid offset 32");  // movsx32 to 32 bits does not exist
    expect_invalid({raw(0xd4, 1, 0, 0, 8), kExit}, 0, "invalid imm 0x8");     // le8
    expect_invalid({raw(0xdb, 1, 2, 0, 0x02), kExit}, 0, "invalid imm 0x2");  // unknown atomic op
    expect_invalid({raw(0x85, 0, 3, 0, 1), kExit}, 0, "invalid src 3");       // call with src 3
}

TEST(Decode, TruncatedLddw) {
    expect_invalid({raw(0xb7), raw(0x18, 1, 0, 0, 1)}, 1, "truncated");
    expect_invalid({raw(0x18, 1, 0, 0, 1), raw(0x95), kExit}, 1, "second slot");
}

TEST(Decode, JumpsStayInsideTheProgram) {
    expect_invalid({raw(0x05, 0, 0, 5), kExit}, 0, "out of range");
    expect_invalid({raw(0x05, 0, 0, -2), kExit}, 0, "out of range");
    expect_invalid({raw(0x06, 0, 0, 0, 3), kExit}, 0, "out of range");       // gotol
    expect_invalid({raw(0x85, 0, 1, 0, 7), kExit}, 0, "call out of range");  // local call
    expect_invalid({raw(0x05, 0, 0, 1), raw(0x18, 1), raw(0), kExit}, 0, "middle of lddw");
}

TEST(Decode, BytesMustBeWholeSlots) {
    const std::uint8_t bytes[] = {0x95, 0, 0, 0, 0, 0, 0, 0, 0x95};
    auto r = from_bytes(bytes);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("multiple of 8"), std::string::npos);
}

}  // namespace
}  // namespace xbpf::isa
