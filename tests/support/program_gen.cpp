#include "support/program_gen.hpp"

#include <array>
#include <climits>
#include <cstddef>

#include "support/insn_builder.hpp"

namespace xbpf::test {
namespace {

// Immediates that sit on the boundaries the ISA cares about: sign bits, widths, shift counts, INT_MIN/-1.
constexpr std::array<std::int32_t, 32> kInterestingImm = {
    0,       1,          -1,      2,   3,    7,      8,          15,          16,     31,     32,
    33,      63,         64,      100, 127,  128,    255,        256,         0x7fff, 0x8000, 0xffff,
    0x10000, 0x7fffffff, INT_MIN, -2,  -128, -32768, 0x12345678, -0x7fffffff, -5,     6};

constexpr std::array<std::uint64_t, 12> kInterestingU64 = {
    0x8000000000000000ull, 0x7fffffffffffffffull, 0xffffffffffffffffull, 0x00000000ffffffffull,
    0x0000000100000000ull, 0xffffffff00000000ull, 0x0000000080000000ull, 0xffffffff80000000ull,
    0x000000007fffffffull, 0x8000000000000001ull, 0x0123456789abcdefull, 0xfedcba9876543210ull,
};

// A body item: one builder's slots, plus, for jumps, the item index it goes to (resolved to an offset once every
// item's slot position is known; index == number of items means the epilogue).
struct Item {
    Slots slots;
    enum class Target : std::uint8_t { None, Off, Imm } target_kind = Target::None;
    std::size_t target = 0;
};

class Generator {
  public:
    Generator(std::uint64_t seed, const GenOptions& options) : rng_(seed), opt_(options) {}

    std::vector<RawInsn> run() {
        std::vector<RawInsn> out;
        prologue(out);
        while (items_.size() < opt_.body_items) body_item(/*allow_jumps=*/opt_.jumps);
        resolve_and_append(out);
        epilogue(out);
        return out;
    }

  private:
    std::int32_t pick_imm() {
        if (rng_.chance(55)) return kInterestingImm[rng_.below(kInterestingImm.size())];
        if (rng_.chance(50)) return static_cast<std::int32_t>(rng_.below(2001)) - 1000;
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(rng_.next()));
    }

    std::uint64_t pick_u64() {
        switch (rng_.below(4)) {
            case 0: return static_cast<std::uint64_t>(static_cast<std::int64_t>(pick_imm()));
            case 1: return kInterestingU64[rng_.below(kInterestingU64.size())];
            case 2: return rng_.next() >> rng_.below(64);
            default: return rng_.next();
        }
    }

    std::uint8_t pick_reg() { return static_cast<std::uint8_t>(rng_.below(10)); }

    Alu pick_alu() {
        for (;;) {
            const auto a = static_cast<Alu>(rng_.below(14));
            if (!opt_.cpu_v4 && (a == Alu::SDiv || a == Alu::SMod)) continue;
            return a;
        }
    }

    // Registers r0..r9 hold scalars; r6 holds the context only while the prologue's LD_ABS loads run.
    void prologue(std::vector<RawInsn>& out) {
        std::array<bool, 10> ready{};
        if (opt_.packet_load_percent > 0 && rng_.chance(opt_.packet_load_percent)) {
            // LD_ABS/LD_IND need the context in r6 and clobber r0..r5; keep results in r7, r8, r9 and finally r6.
            unknown_values_ = true;
            constexpr std::array<std::uint8_t, 4> kDest = {R7, R8, R9, R6};
            const std::uint32_t loads = 1 + rng_.below(4);
            append(out, mov64_reg(R6, R1));
            for (std::uint32_t i = 0; i < loads; ++i) {
                const auto size = static_cast<Size>(rng_.below(3));
                const int max_off = kGenPacketBytes - size_bytes(size);
                const auto off = static_cast<std::int32_t>(rng_.below(static_cast<std::uint32_t>(max_off) + 1));
                if (rng_.chance(50)) {
                    append(out, ld_abs(size, off));
                } else {  // the same bytes through LD_IND: r2 + imm == off
                    const auto base = static_cast<std::int32_t>(rng_.below(static_cast<std::uint32_t>(off) + 1));
                    append(out, mov64_imm(R2, base));
                    append(out, ld_ind(size, R2, off - base));
                }
                append(out, mov64_reg(kDest[i], R0));
                ready[kDest[i]] = true;
            }
        }
        for (std::uint8_t r = 0; r < 10; ++r) {
            if (ready[r]) continue;
            switch (rng_.below(3)) {
                case 0: append(out, mov64_imm(r, pick_imm())); break;
                case 1: append(out, mov32_imm(r, pick_imm())); break;
                default: append(out, ld_imm64(r, pick_u64())); break;
            }
        }
        for (int off = -kGenStackBytes; off < 0; off += 8) {
            if (rng_.chance(50))
                append(out, st_mem(Size::DW, R10, static_cast<std::int16_t>(off), pick_imm()));
            else
                append(out, stx_mem(Size::DW, R10, pick_reg(), static_cast<std::int16_t>(off)));
        }
    }

    // A naturally aligned stack offset for an access of `size` inside the initialised area.
    std::int16_t stack_off(Size size) {
        const int bytes = size_bytes(size);
        const auto slots = static_cast<std::uint32_t>(kGenStackBytes / bytes);
        return static_cast<std::int16_t>(-kGenStackBytes + bytes * static_cast<int>(rng_.below(slots)));
    }

    RawInsn alu_insn() {
        const std::uint8_t dst = pick_reg();
        const std::uint32_t kind = rng_.below(100);
        if (kind < 4) return rng_.chance(50) ? neg64(dst) : neg32(dst);
        if (kind < 10 && opt_.cpu_v4) {
            const int bits[] = {8, 16, 32};
            return rng_.chance(50) ? movsx64(dst, pick_reg(), bits[rng_.below(3)])
                                   : movsx32(dst, pick_reg(), bits[rng_.below(2)]);
        }
        if (kind < 16) {
            const int bits[] = {16, 32, 64};
            const int b = bits[rng_.below(3)];
            switch (rng_.below(opt_.cpu_v4 ? 3 : 2)) {
                case 0: return le(dst, b);
                case 1: return be(dst, b);
                default: return bswap(dst, b);
            }
        }
        const Alu a = pick_alu();
        const bool is64 = rng_.chance(50);
        if (rng_.chance(50)) return is64 ? alu64_reg(a, dst, pick_reg()) : alu32_reg(a, dst, pick_reg());
        std::int32_t imm = pick_imm();
        switch (a) {
            case Alu::Div:
            case Alu::SDiv:
            case Alu::Mod:
            case Alu::SMod:
                if (imm == 0) imm = rng_.chance(50) ? -1 : 3;  // the verifier rejects a constant zero divisor
                break;
            case Alu::Lsh:
            case Alu::Rsh:
            case Alu::Arsh:
                imm = static_cast<std::int32_t>(rng_.below(is64 ? 64 : 32));  // and out-of-range constant shifts
                break;
            default: break;
        }
        return is64 ? alu64_imm(a, dst, imm) : alu32_imm(a, dst, imm);
    }

    RawInsn cond_jump() {
        const auto j = static_cast<Jmp>(rng_.below(11));
        const bool is64 = rng_.chance(50);
        const std::uint8_t dst = pick_reg();
        if (rng_.chance(50)) return is64 ? jmp_reg(j, dst, pick_reg(), 0) : jmp32_reg(j, dst, pick_reg(), 0);
        return is64 ? jmp_imm(j, dst, pick_imm(), 0) : jmp32_imm(j, dst, pick_imm(), 0);
    }

    RawInsn memory_insn() {
        const std::uint32_t kind = rng_.below(opt_.atomics ? 3 : 2);
        if (kind == 0) {
            const auto size = static_cast<Size>(rng_.below(4));
            return rng_.chance(50) ? st_mem(size, R10, stack_off(size), pick_imm())
                                   : stx_mem(size, R10, pick_reg(), stack_off(size));
        }
        if (kind == 1) {
            if (opt_.cpu_v4 && rng_.chance(35)) {
                const auto size = static_cast<Size>(rng_.below(3));
                return ldx_memsx(size, pick_reg(), R10, stack_off(size));
            }
            const auto size = static_cast<Size>(rng_.below(4));
            return ldx_mem(size, pick_reg(), R10, stack_off(size));
        }
        const Size size = rng_.chance(50) ? Size::W : Size::DW;
        // Linux 6.18's verifier does not carry precision from a fetching atomic's result register back to the stack
        // slot it was loaded from (backtrack_insn keeps tracking the source register). When the verifier has to
        // explore more than one path (values loaded from the packet), it can then prune a path wrongly and remove
        // live code as dead, so the kernel runs a different program. Fetching atomics are only generated where
        // every value is a known constant (one path, no pruning).
        const std::uint32_t ops = unknown_values_ ? 4 : 10;  // Add, Or, And, Xor come first in Atomic
        return atomic_op(size, static_cast<Atomic>(rng_.below(ops)), R10, pick_reg(), stack_off(size));
    }

    void push(Slots s) { items_.push_back(Item{s}); }

    void push_jump(RawInsn insn, Item::Target kind, std::size_t target) {
        Item item{insn};
        item.target_kind = kind;
        item.target = target;
        items_.push_back(item);
    }

    // One straight-line item, or a jump structure. Plain conditionals may skip anything ahead; an unconditional
    // jump only ever closes the then-part of an if-else diamond, so the code it skips stays reachable (the kernel's
    // check_cfg rejects unreachable instructions).
    void body_item(bool allow_jumps) {
        const std::uint32_t kind = rng_.below(100);
        if (allow_jumps && kind < 12) {
            const std::size_t here = items_.size();
            const std::size_t dist = rng_.chance(75) ? 1 + rng_.below(6) : 1 + rng_.below(opt_.body_items + 1);
            push_jump(cond_jump(), Item::Target::Off, here + 1 + dist);  // clamped to the epilogue later
            return;
        }
        if (allow_jumps && kind < 16) {
            // if (cond) goto else; <then>; goto end; else: <else>; end:
            const std::size_t then_n = 1 + rng_.below(4);
            const std::size_t else_n = 1 + rng_.below(4);
            const std::size_t cond_at = items_.size();
            push_jump(cond_jump(), Item::Target::Off, cond_at + 1 + then_n + 1);
            for (std::size_t i = 0; i < then_n; ++i) body_item(false);
            const std::size_t end = cond_at + 1 + then_n + 1 + else_n;
            if (opt_.cpu_v4 && rng_.chance(30))
                push_jump(gotol(0), Item::Target::Imm, end);
            else
                push_jump(ja(0), Item::Target::Off, end);
            for (std::size_t i = 0; i < else_n; ++i) body_item(false);
            return;
        }
        if (kind < 20) {
            push(ld_imm64(pick_reg(), pick_u64()));
            return;
        }
        if (opt_.stack && kind < 38) {
            push(memory_insn());
            return;
        }
        push(alu_insn());
    }

    void resolve_and_append(std::vector<RawInsn>& out) {
        std::vector<std::size_t> pos(items_.size() + 1);
        std::size_t slot = 0;
        for (std::size_t i = 0; i < items_.size(); ++i) {
            pos[i] = slot;
            slot += items_[i].slots.count;
        }
        pos[items_.size()] = slot;  // the epilogue
        for (std::size_t i = 0; i < items_.size(); ++i) {
            Item& item = items_[i];
            if (item.target_kind != Item::Target::None) {
                const std::size_t t = item.target < items_.size() ? item.target : items_.size();
                const auto rel = static_cast<std::int32_t>(pos[t]) - static_cast<std::int32_t>(pos[i]) - 1;
                if (item.target_kind == Item::Target::Off)
                    item.slots.insn[0].off = static_cast<std::int16_t>(rel);
                else
                    item.slots.insn[0].imm = rel;
            }
            append(out, item.slots);
        }
    }

    void epilogue(std::vector<RawInsn>& out) {
        if (opt_.fold_epilogue) {
            constexpr std::int32_t kMix = 0x2545f491;  // odd, so multiplying never loses information
            for (std::uint8_t r = 1; r < 10; ++r) {
                append(out, alu64_imm(Alu::Mul, R0, kMix));
                append(out, alu64_reg(Alu::Xor, R0, r));
            }
            for (int off = -kGenStackBytes; off < 0; off += 8) {
                append(out, ldx_mem(Size::DW, R1, R10, static_cast<std::int16_t>(off)));
                append(out, alu64_imm(Alu::Mul, R0, kMix));
                append(out, alu64_reg(Alu::Xor, R0, R1));
            }
        }
        append(out, exit_insn());
    }

    SplitMix64 rng_;
    GenOptions opt_;
    std::vector<Item> items_;
    bool unknown_values_ = false;  // the prologue loaded packet bytes the verifier cannot know
};

}  // namespace

std::vector<isa::RawInsn> generate_program(std::uint64_t seed, const GenOptions& options) {
    return Generator(seed, options).run();
}

std::vector<isa::RawInsn> with_high_half(std::vector<isa::RawInsn> program) {
    const auto at = program.end() - (program.empty() ? 0 : 1);
    program.insert(at, alu64_imm(Alu::Rsh, R0, 32));
    return program;
}

}  // namespace xbpf::test
