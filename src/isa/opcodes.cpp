#include "isa/opcodes.hpp"

#include <array>

namespace xbpf::isa {
namespace {

constexpr const std::array<OpInfo, kNumOps>& kTable = kOpTable;

// Rows are in enum order: info(op) is a plain index.
constexpr bool table_in_enum_order() {
    for (std::size_t i = 0; i < kTable.size(); ++i)
        if (static_cast<std::size_t>(kTable[i].op) != i) return false;
    return true;
}
static_assert(table_in_enum_order());

// No two rows may claim the same encoding.
constexpr bool table_unambiguous() {
    for (std::size_t i = 0; i < kTable.size(); ++i)
        for (std::size_t j = i + 1; j < kTable.size(); ++j)
            if (kTable[i].opcode == kTable[j].opcode &&
                (kTable[i].disc == Disc::None || kTable[j].disc == Disc::None ||
                 (kTable[i].disc == kTable[j].disc && kTable[i].disc_value == kTable[j].disc_value)))
                return false;
    return true;
}
static_assert(table_unambiguous());

// For each opcode byte, the rows that use it (at most kMaxRowsPerOpcode: the atomics have ten).
constexpr std::size_t kMaxRowsPerOpcode = 12;
struct Rows {
    std::array<std::uint8_t, kMaxRowsPerOpcode> row{};
    std::uint8_t count = 0;
};

constexpr std::array<Rows, 256> make_index() {
    std::array<Rows, 256> index{};
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        Rows& r = index[kTable[i].opcode];
        r.row[r.count++] = static_cast<std::uint8_t>(i);
    }
    return index;
}
constexpr std::array<Rows, 256> kIndex = make_index();
static_assert(kNumOps < 256, "Op must fit in a byte");

}  // namespace

std::span<const OpInfo> all_ops() { return kTable; }

std::optional<Op> lookup(std::uint8_t opcode, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    const Rows& rows = kIndex[opcode];
    for (std::size_t i = 0; i < rows.count; ++i) {
        const OpInfo& row = kTable[rows.row[i]];
        switch (row.disc) {
            case Disc::None: return row.op;
            case Disc::Off:
                if (off == row.disc_value) return row.op;
                break;
            case Disc::Imm:
                if (imm == row.disc_value) return row.op;
                break;
            case Disc::Src:
                if (src == row.disc_value) return row.op;
                break;
        }
    }
    return std::nullopt;
}

bool is_32bit(Op op) {
    const OpInfo& row = info(op);
    if (row.shape == Shape::Atomic) return row.width == 32;
    const std::uint8_t cls = op_class(row.opcode);
    return cls == kClassAlu || cls == kClassJmp32;
}

}  // namespace xbpf::isa
