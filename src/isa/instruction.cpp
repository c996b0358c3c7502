#include "isa/instruction.hpp"

#include <cstring>

#include <fmt/format.h>

namespace xbpf::isa {
namespace {

std::unexpected<Error> invalid(std::size_t pc, std::string message) {
    return make_error(ErrorCode::kInvalidInstruction, std::move(message), at_insn(pc));
}

// Which raw fields a shape leaves reserved (must be zero), besides the discriminating field (RFC 9669 §4-§5 and
// the kernel's "uses reserved fields" checks).
struct Reserved {
    bool dst, src, off, imm;
};

constexpr Reserved reserved_fields(Shape shape) {
    switch (shape) {
        case Shape::AluImm: return {false, true, false, false};  // off is the discriminator (0 for most)
        case Shape::AluReg: return {false, false, false, true};
        case Shape::Neg: return {false, true, true, true};
        case Shape::MovSx: return {false, false, false, true};
        case Shape::Endian: return {false, true, true, false};
        case Shape::Ja: return {true, true, false, true};
        case Shape::Gotol: return {true, true, true, false};
        case Shape::JmpImm: return {false, true, false, false};
        case Shape::JmpReg: return {false, false, false, true};
        case Shape::Call: return {true, false, true, false};
        case Shape::CallLocal: return {true, false, true, false};
        case Shape::CallKfunc: return {true, false, false, false};  // off selects the BTF module
        case Shape::Callx: return {false, true, true, true};
        case Shape::Exit: return {true, true, true, true};
        case Shape::Lddw: return {false, false, true, false};
        case Shape::LdAbs: return {true, true, true, false};
        case Shape::LdInd: return {true, false, true, false};
        case Shape::Ldx: return {false, false, false, true};
        case Shape::LdxSx: return {false, false, false, true};
        case Shape::St: return {false, true, false, false};
        case Shape::Stx: return {false, false, false, true};
        case Shape::Atomic: return {false, false, false, false};
    }
    return {true, true, true, true};
}

}  // namespace

std::int64_t Instruction::target(std::size_t pc) const {
    const auto next = static_cast<std::int64_t>(pc) + 1;
    switch (info(op).shape) {
        case Shape::Gotol:
        case Shape::CallLocal: return next + imm;
        default: return next + off;
    }
}

bool has_target(Op op) {
    switch (info(op).shape) {
        case Shape::Ja:
        case Shape::Gotol:
        case Shape::JmpImm:
        case Shape::JmpReg:
        case Shape::CallLocal: return true;
        default: return false;
    }
}

bool is_conditional_jump(Op op) {
    const Shape s = info(op).shape;
    return s == Shape::JmpImm || s == Shape::JmpReg;
}

Result<Instruction> decode_one(const RawInsn& raw, std::size_t pc) {
    const auto op = lookup(raw.opcode, raw.src, raw.off, raw.imm);
    if (!op) {
        // Say which field was wrong when the opcode itself exists.
        for (const OpInfo& row : all_ops()) {
            if (row.opcode != raw.opcode) continue;
            switch (row.disc) {
                case Disc::Off:
                    return invalid(pc, fmt::format("opcode {:#04x}: invalid offset {}", raw.opcode, raw.off));
                case Disc::Imm:
                    return invalid(pc, fmt::format("opcode {:#04x}: invalid imm {:#x}", raw.opcode, raw.imm));
                case Disc::Src: return invalid(pc, fmt::format("opcode {:#04x}: invalid src {}", raw.opcode, raw.src));
                case Disc::None: break;
            }
        }
        return invalid(pc, fmt::format("unknown opcode {:#04x}", raw.opcode));
    }
    const OpInfo& row = info(*op);
    const Reserved r = reserved_fields(row.shape);
    const auto reserved = [&](const char* field, long long value) {
        return invalid(pc, fmt::format("{} uses reserved field {} (= {})", row.mnemonic, field, value));
    };
    if (r.dst && raw.dst != 0) return reserved("dst", raw.dst);
    if (r.src && raw.src != 0 && row.disc != Disc::Src) return reserved("src", raw.src);
    if (r.off && raw.off != 0 && row.disc != Disc::Off) return reserved("off", raw.off);
    if (r.imm && raw.imm != 0 && row.disc != Disc::Imm) return reserved("imm", raw.imm);
    // Off is reserved (zero) for ALU shapes unless it is the discriminator.
    if ((row.shape == Shape::AluImm || row.shape == Shape::AluReg) && row.disc == Disc::None && raw.off != 0)
        return reserved("off", raw.off);
    if (raw.dst >= kNumRegisters) return invalid(pc, fmt::format("invalid destination register r{}", raw.dst));
    if (row.shape != Shape::Lddw && raw.src >= kNumRegisters && row.disc != Disc::Src)
        return invalid(pc, fmt::format("invalid source register r{}", raw.src));
    if (row.shape == Shape::Lddw && raw.src > kPseudoMapIdxValue)
        return invalid(pc, fmt::format("lddw: invalid pseudo source {}", raw.src));

    Instruction insn;
    insn.op = *op;
    insn.dst = raw.dst;
    insn.src = raw.src;
    insn.off = raw.off;
    insn.imm = raw.imm;
    return insn;
}

Result<Instruction> decode_at(std::span<const RawInsn> program, std::size_t pc) {
    auto insn = decode_one(program[pc], pc);
    if (!insn || insn->op != Op::Lddw) return insn;
    if (pc + 1 >= program.size()) return invalid(pc, "lddw: truncated 64-bit immediate (missing second slot)");
    const RawInsn& tail = program[pc + 1];
    if (tail.opcode != 0 || tail.dst != 0 || tail.src != 0 || tail.off != 0)
        return invalid(pc + 1, "lddw: second slot must have opcode, registers and offset zero");
    insn->next_imm = tail.imm;
    insn->imm64 = static_cast<std::uint32_t>(insn->imm) |
                  (static_cast<std::uint64_t>(static_cast<std::uint32_t>(tail.imm)) << 32);
    const std::uint8_t pseudo = insn->src;
    if ((pseudo == kPseudoMapFd || pseudo == kPseudoMapIdx || pseudo == kPseudoFunc || pseudo == kPseudoBtfId) &&
        tail.imm != 0)
        return invalid(pc + 1, "lddw: second slot imm must be zero for this pseudo source");
    return insn;
}

Result<std::vector<Instruction>> decode(std::span<const RawInsn> program) {
    std::vector<Instruction> out;
    out.reserve(program.size());
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        auto insn = decode_at(program, pc);
        if (!insn) return std::unexpected(insn.error());
        out.push_back(*insn);
        if (insn->op == Op::Lddw) {
            Instruction t;
            t.op = Op::Lddw;
            t.imm = insn->next_imm;
            t.is_lddw_tail = true;
            out.push_back(t);
            ++pc;
        }
    }
    for (std::size_t pc = 0; pc < out.size(); ++pc) {
        const Instruction& insn = out[pc];
        if (insn.is_lddw_tail || !has_target(insn.op)) continue;
        const std::int64_t t = insn.target(pc);
        const char* what = insn.op == Op::CallLocal ? "call" : "jump";
        if (t < 0 || t >= static_cast<std::int64_t>(out.size()))
            return invalid(
                pc, fmt::format("{} out of range: target {} is outside the program (0..{})", what, t, out.size() - 1));
        if (out[static_cast<std::size_t>(t)].is_lddw_tail)
            return invalid(pc, fmt::format("{} into the middle of lddw at {}", what, t - 1));
    }
    return out;
}

void encode_one(const Instruction& insn, std::vector<RawInsn>& out) {
    if (insn.is_lddw_tail) return;
    const OpInfo& row = info(insn.op);
    RawInsn raw;
    raw.opcode = row.opcode;
    raw.dst = insn.dst & 0xf;
    raw.src = insn.src & 0xf;
    raw.off = insn.off;
    raw.imm = insn.imm;
    switch (row.disc) {
        case Disc::Off: raw.off = static_cast<std::int16_t>(row.disc_value); break;
        case Disc::Imm: raw.imm = row.disc_value; break;
        case Disc::Src: raw.src = static_cast<std::uint8_t>(row.disc_value); break;
        case Disc::None: break;
    }
    out.push_back(raw);
    if (row.shape == Shape::Lddw) {
        RawInsn tail;
        tail.imm = insn.next_imm;
        out.push_back(tail);
    }
}

std::vector<RawInsn> encode(std::span<const Instruction> program) {
    std::vector<RawInsn> out;
    out.reserve(program.size());
    for (const Instruction& insn : program) encode_one(insn, out);
    return out;
}

Result<std::vector<RawInsn>> from_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() % sizeof(RawInsn) != 0)
        return make_error(ErrorCode::kInvalidInstruction,
                          fmt::format("program size {} is not a multiple of 8 bytes", bytes.size()));
    std::vector<RawInsn> out(bytes.size() / sizeof(RawInsn));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

std::vector<std::uint8_t> to_bytes(std::span<const RawInsn> program) {
    std::vector<std::uint8_t> out(program.size() * sizeof(RawInsn));
    if (!program.empty()) std::memcpy(out.data(), program.data(), out.size());
    return out;
}

}  // namespace xbpf::isa
