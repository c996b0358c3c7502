// Internal to the soundness generator (verifier_gen.cpp, verifier_gen_memory.cpp): the Generator class and the
// types it shares between its two files. Not for use elsewhere; see verifier_gen.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "support/insn_builder.hpp"
#include "support/verifier_gen.hpp"

namespace xbpf::test::gen_detail {

// Memory sizes: tiny (smaller than some access sizes), odd, powers of two and their neighbours, the u8 range.
inline constexpr std::array<std::uint32_t, 18> kMemSizes = {1,  2,  3,  4,  7,  8,   12,  16,  17,
                                                            24, 31, 32, 48, 64, 100, 128, 255, 256};

// Immediates on the boundaries of the scalar domains: sign bits, widths, INT_MIN/-1.
inline constexpr std::array<std::int32_t, 20> kInterestingImm = {
    0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 0x7fffffff, INT_MIN, 0xffff, -256};

inline constexpr std::array<Jmp, 11> kAllJmp = {Jmp::Jeq,  Jmp::Jgt, Jmp::Jge, Jmp::Jset, Jmp::Jne, Jmp::Jsgt,
                                                Jmp::Jsge, Jmp::Jlt, Jmp::Jle, Jmp::Jslt, Jmp::Jsle};

// How an item's jump field is resolved once every item's slot is known.
enum class Fix : std::uint8_t { None, Off, Imm };

struct Item {
    Slots slots;
    Fix fix = Fix::None;
    int label = -1;
};

constexpr std::uint32_t bit(std::uint8_t r) { return 1u << r; }

// What the generator believes the registers hold, on some path to the current point: a guide for choosing operands
// (so that most programs are well-formed), never a proof.
struct Kinds {
    std::uint32_t ptr = 0;     // may hold a pointer
    std::uint32_t uninit = 0;  // may be uninitialised

    // After a join: what either side may hold.
    [[nodiscard]] Kinds join(const Kinds& o) const { return Kinds{ptr | o.ptr, uninit | o.uninit}; }
};

// The registers of the function being generated.
struct Scope {
    std::uint8_t base = R6;          // holds the memory base; templates never write it
    std::vector<std::uint8_t> pool;  // registers templates may write
    int stack_bytes = 128;           // depth of this function's ordinary stack accesses
    bool sub = false;
};

// A sub-program: called with r1 = memory base, r2 = a scalar, r3 = a pointer to an initialised slot of the caller's
// stack (stack_arg) or a scalar; returns r0 & ret_mask (ret_mask >= 0) or an unbounded scalar.
struct Sub {
    int label = 0;
    bool stack_arg = false;
    std::int64_t ret_mask = -1;
    std::int64_t ret_ptr = -1;  // >= 0: returns r1 + ret_ptr (a pointer into the memory) instead
};

// A bpf_loop callback: called with r1 = the iteration index and r2 = a pointer to the caller's 16-byte context
// (ctx + 0: a scalar the callback may update, ctx + 8: the memory base).
struct Callback {
    int label = 0;
    std::uint32_t kind = 0;  // what the body does (callback_program)
    std::int64_t bound = 0;  // the index or counter bound the body keeps (its edge)
    bool bad = false;        // one step past the edge
};
// Generates one program: templates appended as Items with symbolic jump targets (labels), resolved to offsets at
// the end. The Kinds and `reserved_` bookkeeping keep most operands meaningful; nothing in here proves safety.
class Generator {
  public:
    Generator(Choices& choices, const VerifierGenOptions& options) : c_(choices), opt_(options) {}

    // The whole program: prologue, opts.items templates, epilogue, then sub-programs and callbacks.
    VerifierCase run();

  private:
    // ---- emission with labels ----

    int new_label() {
        labels_.push_back(-1);
        return static_cast<int>(labels_.size() - 1);
    }
    void bind(int label) { labels_[static_cast<std::size_t>(label)] = static_cast<int>(items_.size()); }
    void emit(Slots s) { items_.push_back(Item{s}); }
    void jump(RawInsn insn, int label) { items_.push_back(Item{insn, Fix::Off, label}); }
    void gotol_to(int label) { items_.push_back(Item{gotol(0), Fix::Imm, label}); }
    void call(int label) { items_.push_back(Item{call_local(0), Fix::Imm, label}); }

    // The slots, with every label resolved to a pc-relative offset (off, or imm for gotol, calls and lddw src=4).
    std::vector<RawInsn> resolve();

    // ---- choices ----

    template <typename T, std::size_t K>
    T pick(const std::array<T, K>& a) {
        return a[c_.below(K)];
    }
    template <typename T>
    T pick(std::initializer_list<T> list) {
        return *(list.begin() + c_.below(static_cast<std::uint32_t>(list.size())));
    }

    // True when this template should go one step past what is safe.
    bool risky() { return risk_ > 0 && c_.chance(risk_); }

    static std::int32_t clamp32(std::int64_t v) {
        return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, INT32_MIN, INT32_MAX));
    }

    std::int32_t pick_imm() {
        const std::uint32_t k = c_.below(10);
        if (k < 5) return pick(kInterestingImm);
        if (k < 8) return static_cast<std::int32_t>(c_.below(2 * n_ + 2));
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(c_.next64()));
    }

    // ---- registers ----

    [[nodiscard]] bool usable(std::uint8_t r) const { return ((kinds_.ptr | kinds_.uninit) & bit(r)) == 0; }
    void set_scalar(std::uint8_t r) {
        kinds_.ptr &= ~bit(r);
        kinds_.uninit &= ~bit(r);
    }
    void set_pointer(std::uint8_t r) {
        kinds_.ptr |= bit(r);
        kinds_.uninit &= ~bit(r);
    }

    // Keeps `r` from being written by nested templates; returns what to restore reserved_ to afterwards (a
    // register may already be held by an enclosing template).
    std::uint32_t hold(std::uint8_t r) {
        const std::uint32_t before = reserved_;
        reserved_ |= bit(r);
        return before;
    }

    // A register to write: in the scope's pool, not a loop counter.
    std::uint8_t dst() {
        std::array<std::uint8_t, 11> candidates{};
        std::uint32_t n = 0;
        for (const std::uint8_t r : scope_.pool)
            if ((reserved_ & bit(r)) == 0) candidates[n++] = r;
        if (n == 0) return scope_.pool.front();  // every register is reserved: clobber one (rare)
        return candidates[c_.below(n)];
    }
    std::uint8_t dst_except(std::uint8_t avoid) {
        for (int tries = 0; tries < 8; ++tries) {
            const std::uint8_t r = dst();
            if (r != avoid) return r;
        }
        return avoid == R0 ? R2 : R0;  // only when the pool is nearly all reserved
    }
    // A register holding a scalar (loop counters included); one is made when there is none.
    std::uint8_t value() {
        std::array<std::uint8_t, 11> candidates{};
        std::uint32_t n = 0;
        for (const std::uint8_t r : scope_.pool)
            if (usable(r)) candidates[n++] = r;
        if (n > 0) return candidates[c_.below(n)];
        const std::uint8_t r = dst();
        emit(mov64_imm(r, pick_imm()));
        set_scalar(r);
        return r;
    }
    // A scalar register no loop counter holds, to read and write.
    std::uint8_t dst_value() {
        const std::uint8_t r = dst();
        if (!usable(r)) {
            emit(mov64_imm(r, pick_imm()));
            set_scalar(r);
        }
        return r;
    }
    // Any register at all: a pointer, r10, one never written.
    std::uint8_t wild() { return static_cast<std::uint8_t>(c_.below(11)); }

    // The memory base: r6 (sub-programs: r1), or r1 while no call clobbered it.
    std::uint8_t base() {
        if (!scope_.sub && r1_valid_ && c_.chance(15)) return R1;
        return scope_.base;
    }

    // ---- edges ----

    // An access size: in safe templates no wider than the memory.
    Size size(bool bad) {
        if (bad) return static_cast<Size>(c_.below(4));
        const std::uint32_t fits = n_ >= 8 ? 4 : n_ >= 4 ? 3 : n_ >= 2 ? 2 : 1;
        return static_cast<Size>(c_.below(fits));
    }

    // The constant offset of a base + index access of `bytes`: safe ones keep 0..N-bytes (mostly 0).
    std::int16_t access_off(int bytes, bool bad) {
        const int last = static_cast<int>(n_) - bytes;
        if (bad) return static_cast<std::int16_t>(c_.chance(50) ? -1 - static_cast<int>(c_.below(4)) : last + 1);
        if (c_.chance(65) || last <= 0) return 0;
        return static_cast<std::int16_t>(c_.below(static_cast<std::uint32_t>(std::min(last, 8)) + 1));
    }

    // A bound K for "x <= K" where K <= b is safe: b itself mostly; bad: just above.
    std::int64_t up(std::int64_t b, bool bad) {
        if (!bad) return c_.chance(75) ? b : b - static_cast<std::int64_t>(c_.below(3));
        const std::uint32_t k = c_.below(10);
        if (k < 6) return b + 1;
        if (k < 8) return b + 2 + static_cast<std::int64_t>(c_.below(6));
        return pick_imm();
    }

    // A mask M for "x & M" (x & M <= M): safe ones have M <= b.
    std::int64_t mask(std::int64_t b, bool bad) {
        std::int64_t m = 0;  // the largest 2^k - 1 <= b
        while (m * 2 + 1 <= b) m = m * 2 + 1;
        if (!bad) return c_.chance(70) ? m : b;
        return c_.chance(60) ? m * 2 + 1 : b + 1;
    }

    static RawInsn cond(Jmp j, bool is64, std::uint8_t dst, std::int64_t k) {
        return is64 ? jmp_imm(j, dst, clamp32(k), 0) : jmp32_imm(j, dst, clamp32(k), 0);
    }
    static RawInsn cond_reg(Jmp j, bool is64, std::uint8_t dst, std::uint8_t src) {
        return is64 ? jmp_reg(j, dst, src, 0) : jmp32_reg(j, dst, src, 0);
    }

    // ---- prologue ----

    // r6 = r1, scalar registers set (constants or loaded unknowns), stack slots written (all of them for
    // unprivileged programs, which may not read uninitialised stack).
    void main_prologue();

    // `r = *(S *)(base + k)`: a value the verifier cannot know. Returns its width in bytes (8 when sign-extended).
    int load_unknown(std::uint8_t r, bool bad);

    // ---- accesses ----

    // One load, store or atomic of `size` bytes at ptr + off. Atomics only where the address is `aligned` to the
    // size (or in bad templates): the verifier requires it.
    void access(std::uint8_t ptr, std::int16_t off, Size size, bool bad, bool aligned, bool stack = false);

    // `p = base; p += x` (or `p = x; p += base`), p a register other than x.
    std::uint8_t pointer_plus(std::uint8_t from, std::uint8_t x);

    // A value-changing step on the index before its check: what the bounds logic has to follow.
    void transform(std::uint8_t x);

    // `if x OP K goto skip; p = base + x; access` in its many forms, K at the last safe index.
    void guarded_access(bool bad);

    // `x &= M` (or %, /, >>, 32-bit forms, mask then shift) then an access at base + x.
    void masked_access(bool bad);

    // An access at a constant offset near either end of the memory, directly or through a moved pointer.
    void const_access(bool bad);

    // A stack offset for `bytes`: aligned inside this function's usual depth; bad ones are misaligned or outside.
    std::int16_t stack_off(int bytes, bool bad);

    // Constant-offset stack accesses: stores, loads, scalar and pointer spills and fills.
    void stack_access(bool bad);

    // A variable-offset stack access: p = r10 - C + (x & M), M aligned to the size and C >= M + size.
    void stack_var_access(bool bad);

    // Random ALU/ALU64 on scalar registers.
    void alu(bool bad);

    // Division and modulo by a register, mostly checked against zero first.
    void div_mod();

    // Pointer games. Privileged programs may subtract and compare pointers and move them with 32-bit moves; the
    // rest is rejected everywhere (bad templates only).
    void pointer_ops(bool bad);

    // A comparison of scalars for skips and diamonds.
    RawInsn any_cond(bool bad);

    // `if (cond) goto skip` over one to three templates.
    void skip(int depth, bool bad);

    // if (cond) { one or two templates } else { one or two templates }, closed with ja or gotol.
    void diamond(int depth, bool bad);

    // A small bounded loop: i = init; do { body } while (i OP K), the body maybe indexing the memory with i.
    void loop(int depth, bool bad);
    /// A loop of 160..1024 iterations indexing the memory with i >> s (long enough for the verifier to summarise it;
    /// bad: the last 2^s iterations index one byte too far).
    void long_loop(bool bad);

    // A bpf-to-bpf call: r1 = memory, r2 = a scalar, r3 = a pointer into this stack (or a scalar); the result in r0
    // is then often used as an index.
    void call_sub(bool bad);

    // After a call: r0 is the result, r1-r5 are gone; most are written again (bad: some are not).
    void clobbered_by_call(bool bad);

    // A helper that writes or reads memory the program names with a pointer and a size (bpf_get_current_comm,
    // bpf_probe_read_kernel, bpf_csum_diff), or bpf_get_prandom_u32: the pointer and the size at the edge of the
    // memory or the stack.
    void helper_call(bool bad);

    // bpf_loop(nr, callback, ctx, 0) over a 16-byte context on the stack: [ctx] = a safe index, [ctx + 8] = the
    // memory base. The callback indexes the memory with its iteration number and may update [ctx]; afterwards
    // the caller may use [ctx] unchecked, which is safe only if every number of iterations keeps it in bounds.
    void loop_helper(bool bad);

    // The body of a bpf_loop callback (r1 = index, r2 = ctx); kinds:
    //   0  access the memory at base + (index & M)
    //   1  access the memory at base + index after `if index > K goto out`
    //   2  [ctx] = ([ctx] + 1) & M: a counter that stays bounded
    //   3  [ctx] = index & M
    // Bad ones use M or K one past the edge (kinds 2 and 3: the caller's later use is what goes past it).
    void callback_program(const Callback& cb);

    // The body of a sub-program, after the main function: a few templates in the callee's registers (r1 the
    // memory base, r6-r9 uninitialised), accesses through the caller's stack slot, the return value of `sub`.
    void sub_program(const Sub& sub);

    // ---- templates that check the verifier's arithmetic and path merging ----

    // One ALU step of an ALU chain, with its concrete semantics (RFC 9669 section 4.1) to compute the true range.
    struct Step {
        enum class Kind : std::uint8_t { Op, Self, Neg, MovSx, ZeroExtend } kind = Kind::Op;
        Alu a = Alu::Add;
        bool is64 = true;
        std::int32_t imm = 0;  // Op: the immediate; MovSx: the width in bits
    };

    // x op y for ALU (64-bit) or ALU32 (zero-extended), division and modulo by zero as RFC 9669 defines them.
    static std::uint64_t apply(Alu a, bool is64, std::uint64_t x, std::uint64_t y);
    // The value `s` leaves in a register that held x.
    static std::uint64_t run_step(const Step& s, std::uint64_t x);
    // A step biased to small operands, so that chains often keep a small range.
    Step random_step();
    // The instruction of `s` on register x.
    void emit_step(std::uint8_t x, const Step& s);

    // x = a loaded byte, then a chain of ALU steps, then an unchecked access at base + x + off. The generator
    // computes the true range of x over all 256 bytes and puts the access exactly at its edge (or, bad, one past
    // it): accepted only if the verifier's ALU transfer functions bound x at least as tightly, and soundly.
    void alu_chain_access(bool bad);

    // A pointer walked by constants and bounded unknowns, then an access at the edge of where it may be.
    void pointer_walk(bool bad);

    // x set differently on the two sides of a branch (directly, or through a stack slot), merged, then used
    // unchecked: the verifier must not prune the second side because the first was safe.
    void join_value_access(int depth, bool bad);

    // A stack slot holding a pointer (or a safe index) overwritten by a variable-offset store that may cover it,
    // then filled and used: the verifier must forget what the slot held.
    void spill_clobber();

    // One template; `depth` > 0 inside skips, diamonds, loops and sub-programs (no loops or calls nest).
    void item(int depth);

    Choices& c_;
    VerifierGenOptions opt_;
    std::uint32_t n_ = 0;  // memory size
    bool privileged_ = true;
    std::uint32_t risk_ = 0;  // percent of templates that go past the edge
    Scope scope_;
    Kinds kinds_;
    std::set<std::int16_t> ptr_slots_;  // stack offsets that may hold a spilled pointer (main function)
    std::vector<Item> items_;
    std::vector<int> labels_;
    std::vector<Sub> subs_;
    std::vector<Callback> callbacks_;
    std::uint32_t reserved_ = 0;       // registers holding loop counters and live indexes
    std::vector<std::uint8_t> hints_;  // VerifierCase::hints
    bool r1_valid_ = false;            // r1 still holds the memory base (no call clobbered it)
};

}  // namespace xbpf::test::gen_detail
