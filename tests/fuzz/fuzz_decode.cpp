// Fuzz target: raw instruction bytes -> isa::from_bytes, decode, encode, disassemble, and back through the assembler.
//
// The input is a program image exactly as a file or the kernel holds it (8-byte little-endian slots). Properties:
//  1. from_bytes accepts exactly the sizes that are a multiple of 8; otherwise kInvalidInstruction. The rest of the
//     checks use the input truncated to whole slots.
//  2. decode either fails with kInvalidInstruction naming a slot inside the program, or gives one Instruction per
//     slot, and encode(decode(x)) == x slot for slot: the decoder accepts no field it would drop.
//  3. Every head slot of a decodable program decodes on its own (decode_one), to the same Instruction.
//  4. disassemble and format_instruction never crash, in any syntax and option; a decodable program without labels
//     prints one line per instruction and no "<unknown>".
//  5. Text round trip (fuzz_support.hpp): listings with raw bytes reassemble to the input, decodable or not; the bare
//     mnemonic text of a decodable program reassembles to it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_support.hpp"

namespace {

using namespace xbpf;
using xbpf::fuzz::hex;

void check_decoded(std::span<const isa::RawInsn> slots, const std::vector<isa::Instruction>& insns) {
    XBPF_FUZZ_CHECK(insns.size() == slots.size(), "{} instructions for {} slots", insns.size(), slots.size());
    const std::vector<isa::RawInsn> encoded = isa::encode(insns);
    XBPF_FUZZ_CHECK(std::ranges::equal(encoded, slots), "encode(decode(x)) != x\n  x:      [{}]\n  encode: [{}]",
                    hex(slots), hex(encoded));

    std::size_t lines = 0;
    for (std::size_t pc = 0; pc < insns.size(); ++pc) {
        const isa::Instruction& insn = insns[pc];
        if (insn.is_lddw_tail) {
            XBPF_FUZZ_CHECK(pc > 0 && insns[pc - 1].op == isa::Op::Lddw, "lddw tail at {} without its head", pc);
            XBPF_FUZZ_CHECK(isa::format_instruction(insn, pc).empty(), "lddw tail at {} has text", pc);
            continue;
        }
        ++lines;
        auto alone = isa::decode_one(slots[pc], pc);
        XBPF_FUZZ_CHECK(alone.has_value(), "slot {} decodes in the program but not alone: {}", pc,
                        alone ? std::string() : alone.error().to_string());
        isa::Instruction expected = insn;
        expected.next_imm = 0;  // decode_one sees one slot: no lddw second half
        expected.imm64 = 0;
        XBPF_FUZZ_CHECK(*alone == expected, "slot {} decodes differently alone", pc);
        if (isa::has_target(insn.op)) {
            const std::int64_t target = insn.target(pc);
            XBPF_FUZZ_CHECK(target >= 0 && target < static_cast<std::int64_t>(insns.size()) &&
                                !insns[static_cast<std::size_t>(target)].is_lddw_tail,
                            "slot {} jumps to {}, which decode should have rejected", pc, target);
        }
        for (const isa::Syntax syntax : {isa::Syntax::PseudoC, isa::Syntax::Mnemonic}) {
            const std::string text = isa::format_instruction(insn, pc, syntax);
            XBPF_FUZZ_CHECK(!text.empty() && text != "<unknown>", "slot {} has no text", pc);
        }
    }

    isa::DisasmOptions plain;
    plain.show_bytes = false;
    const std::string listing = isa::disassemble(slots, plain);
    XBPF_FUZZ_CHECK(static_cast<std::size_t>(std::ranges::count(listing, '\n')) == lines,
                    "listing has {} lines for {} instructions", std::ranges::count(listing, '\n'), lines);
    XBPF_FUZZ_CHECK(listing.find("<unknown>") == std::string::npos, "a decodable program lists <unknown>:\n{}",
                    listing);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);

    // 1. Whole slots only.
    auto all = isa::from_bytes(bytes);
    XBPF_FUZZ_CHECK(all.has_value() == (size % 8 == 0), "from_bytes on {} bytes", size);
    if (!all) {
        XBPF_FUZZ_CHECK(all.error().code == ErrorCode::kInvalidInstruction, "from_bytes error code");
        all = isa::from_bytes(bytes.first(size - size % 8));
        XBPF_FUZZ_CHECK(all.has_value(), "from_bytes on whole slots");
    }
    const std::vector<isa::RawInsn>& slots = *all;
    XBPF_FUZZ_CHECK(isa::to_bytes(slots).size() == size - size % 8, "to_bytes size");

    // 2-3. Decode, and encode back.
    const auto decoded = isa::decode(slots);
    if (decoded) {
        check_decoded(slots, *decoded);
    } else {
        const Error& e = decoded.error();
        XBPF_FUZZ_CHECK(e.code == ErrorCode::kInvalidInstruction, "decode error code {}: {}", static_cast<int>(e.code),
                        e.to_string());
        XBPF_FUZZ_CHECK(e.where.insn.has_value() && *e.where.insn < slots.size(),
                        "decode error names no slot inside the program: {}", e.to_string());
        XBPF_FUZZ_CHECK(!e.message.empty(), "decode error without a message");
    }

    // 4. Listings in every option never crash (the round trips below check their content).
    isa::DisasmOptions options;
    options.labels = {{0, "prog"}, {slots.size(), "end"}};
    for (const isa::Syntax syntax : {isa::Syntax::PseudoC, isa::Syntax::Mnemonic}) {
        for (const bool hex_alu32 : {false, true}) {
            options.syntax = syntax;
            options.hex_immediates = hex_alu32;
            options.alu32 = hex_alu32;
            (void)isa::disassemble(slots, options);
        }
    }

    // 5. Through text and back.
    fuzz::check_text_round_trip(slots, decoded.has_value());
    return 0;
}
