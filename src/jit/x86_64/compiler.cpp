// The module layout: the entry trampoline, one native function per BPF function, out-of-line fault paths, the
// checked-access stubs and the callx table; then relocation into W^X memory (jit::compile).
#include <cstddef>

#include <fmt/format.h>

#include "jit/x86_64/lowering.hpp"

namespace xbpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
std::int32_t engine_offset_depth() { return offsetof(vm::Engine, depth); }
std::int32_t engine_offset_stack_top() { return offsetof(vm::Engine, stack_top); }
std::int32_t engine_offset_budget() { return offsetof(vm::Engine, budget); }
std::int32_t engine_offset_tail_target() { return offsetof(vm::Engine, tail_target); }
std::int32_t engine_offset_tail_ctx() { return offsetof(vm::Engine, tail_ctx); }
std::int32_t engine_offset_aborted() {
    return static_cast<std::int32_t>(offsetof(vm::Engine, ctx) + offsetof(helpers::Context, aborted));
}
std::int32_t engine_offset_native_rsp() { return offsetof(vm::Engine, native_rsp); }
std::int32_t engine_offset_cur() { return offsetof(vm::Engine, cur); }
std::int32_t engine_offset_ctx() { return offsetof(vm::Engine, ctx); }
#pragma GCC diagnostic pop

namespace {

constexpr std::int32_t kTailCallHelper = 12;

// What plan() needs of each operation, one table lookup per instruction.
constexpr std::uint8_t kEndsBlock = 1;  // the next slot starts a block (jumps, calls, exit)
constexpr std::uint8_t kWritesDst = 2;  // writes BPF dst (ALU, loads, lddw)
constexpr std::uint8_t kJump = 4;       // a jump with a pc-relative target (not local calls)
constexpr std::uint8_t kRare = 8;       // atomics, helper calls, callx: looked at more closely

constexpr std::array<std::uint8_t, isa::kNumOps> make_plan_flags() {
    std::array<std::uint8_t, isa::kNumOps> t{};
    for (std::size_t i = 0; i < isa::kNumOps; ++i) {
        switch (isa::kOpTable[i].shape) {
            case isa::Shape::AluImm:
            case isa::Shape::AluReg:
            case isa::Shape::Neg:
            case isa::Shape::MovSx:
            case isa::Shape::Endian:
            case isa::Shape::Lddw:
            case isa::Shape::Ldx:
            case isa::Shape::LdxSx: t[i] = kWritesDst; break;
            case isa::Shape::Ja:
            case isa::Shape::Gotol:
            case isa::Shape::JmpImm:
            case isa::Shape::JmpReg: t[i] = kEndsBlock | kJump; break;
            case isa::Shape::Call:
            case isa::Shape::Callx: t[i] = kEndsBlock | kRare; break;
            case isa::Shape::CallLocal:
            case isa::Shape::CallKfunc:
            case isa::Shape::Exit: t[i] = kEndsBlock; break;
            case isa::Shape::Atomic: t[i] = kRare; break;
            default: t[i] = 0; break;
        }
    }
    return t;
}
constexpr std::array<std::uint8_t, isa::kNumOps> kPlanFlags = make_plan_flags();

}  // namespace

namespace {
PlanScratch& thread_scratch() {
    thread_local PlanScratch scratch;
    return scratch;
}
}  // namespace

Lowering::Lowering(const vm::Program::Impl& impl, const JitOptions& options, asmjit::CodeHolder& code,
                   std::uint64_t entry_abort)
    : entry_abort_(entry_abort),
      scratch_(thread_scratch()),
      slot_label(scratch_.slot_label),
      function_of(scratch_.function_of),
      impl_(impl),
      options_(options),
      a_(&code),
      block_start_(scratch_.block_start),
      loop_head_(scratch_.loop_head),
      block_len_(scratch_.block_len),
      latch_copy_end_(scratch_.latch_copy_end) {
    latch_copy_end_.clear();
    // Only blinded code needs random numbers. std::random_device costs ~15 us per construction (a device read), so
    // each thread seeds one generator once (from 64 bits of it) and later compiles continue its sequence.
    if (options.blind_constants) {
        thread_local std::mt19937_64 rng = [] {
            std::random_device dev;
            return std::mt19937_64(static_cast<std::uint64_t>(dev()) << 32 | dev());
        }();
        rng_ = &rng;
    }
}

void Lowering::plan() {
    // Three linear passes (functions; blocks, labels, loops and written registers; block lengths), then the loop
    // heads' alignment and the latch copies when there are loops: this runs for every compile, so it stays cheap.
    const std::size_t n = impl_.insns.size();
    const isa::Instruction* insns = impl_.insns.data();
    slot_label.assign(n + 1, asmjit::Label());
    insn_offsets.assign(n + 1, 0);
    function_of.resize(n);
    for (std::size_t pc = 0; pc < n; ++pc) {
        if (!impl_.is_function_start[pc]) continue;
        if (!functions.empty()) functions.back().end = pc;
        Function f;
        f.start = pc;
        f.entry = a_.newLabel();
        f.epilogue = a_.newLabel();
        functions.push_back(std::move(f));
    }
    functions.back().end = n;
    for (std::size_t i = 0; i < functions.size(); ++i)
        std::fill(function_of.begin() + static_cast<std::ptrdiff_t>(functions[i].start),
                  function_of.begin() + static_cast<std::ptrdiff_t>(functions[i].end), static_cast<int>(i));

    block_start_.assign(n + 1, 0);
    loop_head_.assign(n + 1, 0);
    for (const Function& f : functions) block_start_[f.start] = 1;
    std::vector<std::uint32_t> writes(functions.size(), 0);  // per function: bit r = some instruction writes r
    std::vector<std::pair<std::size_t, std::size_t>> loops;  // [head, back jump]
    bool crosses = false;
    for (std::size_t fi = 0; fi < functions.size(); ++fi) {
        std::uint32_t written = 0;
        for (std::size_t pc = functions[fi].start; pc < functions[fi].end; ++pc) {
            const isa::Instruction& insn = insns[pc];
            const std::uint8_t flags = insn.is_lddw_tail ? 0 : kPlanFlags[static_cast<std::size_t>(insn.op)];
            // Branch-free for the common instructions (random programs mispredict a switch on every one).
            block_start_[pc + 1] |= static_cast<std::uint8_t>(flags & kEndsBlock);
            written |= static_cast<std::uint32_t>((flags & kWritesDst) != 0) << insn.dst;
            if ((flags & (kJump | kRare)) == 0) continue;
            if ((flags & kJump) != 0) {
                const std::int64_t t64 =
                    static_cast<std::int64_t>(pc) + 1 + (insn.op == isa::Op::Gotol ? std::int64_t{insn.imm} : insn.off);
                if (t64 < 0 || t64 > static_cast<std::int64_t>(n)) continue;  // (a loaded program has none)
                const auto t = static_cast<std::size_t>(t64);
                if (!slot_label[t].isValid()) slot_label[t] = a_.newLabel();
                block_start_[t] = 1;
                if (t <= pc) loops.emplace_back(t, pc);
                crosses = crosses || (t < n && (t < functions[fi].start || t >= functions[fi].end));
                continue;
            }
            switch (isa::info(insn.op).shape) {
                case isa::Shape::Atomic:  // fetch forms write src
                    written |= static_cast<std::uint32_t>(insn.imm & 1) << insn.src;
                    break;
                case isa::Shape::Call:
                    if (impl_.helper_ids[static_cast<std::size_t>(impl_.code_unchecked[pc].imm)] == kTailCallHelper)
                        uses_tail_call_ = true;
                    break;
                case isa::Shape::Callx: uses_callx_ = true; break;
                default: break;
            }
        }
        writes[fi] = written;
        if ((written >> isa::kFramePointer) & 1) writes_r10_ = true;
    }

    // Block lengths (for the checked-mode budget); very long blocks are split (16-bit counts).
    block_len_.assign(options_.checked ? n : 0, 0);
    for (std::size_t pc = 0; options_.checked && pc < n;) {
        std::size_t at = pc;
        std::uint32_t count = 0;
        do {
            if (!insns[at].is_lddw_tail) ++count;
            ++at;
        } while (at < n && !block_start_[at] && count < 0xffff);
        if (at < n) block_start_[at] = 1;
        block_len_[pc] = count;
        pc = at;
    }

    if (!loops.empty()) {
        // Loop heads are aligned unless the code before falls into them on every iteration of an enclosing loop
        // (the padding would then run each time): aligning those too made the `switch` kernel 25% slower.
        // in_loop[pc]: pc lies inside some loop [head, back jump] (also what plan_latch_copies looks at).
        std::vector<std::int32_t>& depth_delta = scratch_.depth_delta;
        depth_delta.assign(n + 1, 0);
        for (const auto& [head, back] : loops) {
            loop_head_[head] = 1;
            ++depth_delta[head];
            --depth_delta[back + 1];
        }
        std::vector<std::uint8_t>& in_loop = scratch_.in_loop;
        in_loop.assign(n + 1, 0);
        std::int32_t depth = 0;
        for (std::size_t pc = 0; pc < n; ++pc) in_loop[pc] = (depth += depth_delta[pc]) > 0;
        for (std::size_t pc = 0; pc + 1 < n; ++pc) {
            if (!loop_head_[pc + 1] || !in_loop[pc]) continue;
            const isa::Op prev = insns[pc].is_lddw_tail ? isa::Op::Lddw : insns[pc].op;
            if (prev != isa::Op::Ja && prev != isa::Op::Gotol && prev != isa::Op::Exit) loop_head_[pc + 1] = 0;
        }
        if (options_.optimize && !options_.checked) plan_latch_copies();
    }

    // Callee-saved registers (BPF r6-r10) each function writes; with jumps between functions, all use the union
    // so that any function's epilogue fits any path.
    if (crosses) {
        std::uint32_t all = 0;
        for (const std::uint32_t w : writes) all |= w;
        std::ranges::fill(writes, all);
    }
    for (std::size_t i = 0; i < functions.size(); ++i) {
        for (std::size_t r = 6; r <= 10; ++r)
            if ((writes[i] >> r) & 1) functions[i].saved.push_back(kReg[r]);
        // Entered with rsp = 8 (mod 16); each push adds 8; the body wants 0 (mod 16).
        functions[i].pad = functions[i].saved.size() % 2 == 0;
    }
}

std::size_t Lowering::block_end(std::size_t start) const {
    std::size_t e = start + 1;
    while (e < block_start_.size() && !block_start_[e]) ++e;
    return e;
}

std::size_t Lowering::last_insn(std::size_t start, std::size_t end) const {
    std::size_t last = end - 1;
    if (last > start && impl_.insns[last].is_lddw_tail) --last;
    return last;
}

void Lowering::plan_latch_copies() {
    // Static prediction (Ball and Larus's loop rule): a conditional forward jump `if c goto T` inside a loop whose
    // fall-through block leaves the loop is taken while the loop runs. When T's block is a short latch (it ends
    // jumping back to a loop head at or before the jump), the jump becomes `if !c goto <fall-through>` followed by
    // a copy of the latch, so each iteration runs one taken branch instead of two (clang lays out `break` and
    // `continue` paths this way; strcmp's byte loop is one). Candidates: conditional jumps inside a loop's range.
    const std::size_t n = impl_.insns.size();
    latch_copy_end_.assign(n, 0);
    const std::vector<std::uint8_t>& in_loop = scratch_.in_loop;  // (plan)
    for (std::size_t pc = 0; pc < n; ++pc) {
        if (!in_loop[pc]) continue;
        const isa::Instruction& j = impl_.insns[pc];
        if (j.is_lddw_tail) continue;
        const isa::Shape shape = isa::info(j.op).shape;
        if (shape != isa::Shape::JmpImm && shape != isa::Shape::JmpReg) continue;
        const std::int64_t t64 = j.target(pc);
        if (t64 <= static_cast<std::int64_t>(pc) + 1 || t64 >= static_cast<std::int64_t>(n)) continue;
        const auto t = static_cast<std::size_t>(t64);
        if (function_of[t] != function_of[pc] || function_of[pc + 1] != function_of[pc]) continue;
        const std::size_t e = block_end(t);
        if (e - t > kMaxLatchCopy || e >= n) continue;
        const std::size_t latch = last_insn(t, e);
        const isa::Instruction& back = impl_.insns[latch];
        const isa::Shape bs = isa::info(back.op).shape;
        if (bs != isa::Shape::Ja && bs != isa::Shape::JmpImm && bs != isa::Shape::JmpReg) continue;
        const std::int64_t head = back.target(latch);
        if (head > static_cast<std::int64_t>(pc) || head < 0) continue;
        // The fall-through block must leave the loop [head, latch]: every successor of its last instruction lies
        // past the latch or is a block that exits the function (a jump backwards may be to an enclosing loop's
        // body, which this loop is part of: `switch` dispatch loops look like that).
        const std::size_t f_end = block_end(pc + 1);
        const std::size_t f_last = last_insn(pc + 1, f_end);
        const isa::Instruction& fl = impl_.insns[f_last];
        const isa::Shape fs = isa::info(fl.op).shape;
        const auto outside = [&](std::int64_t s) {
            if (s > static_cast<std::int64_t>(latch)) return true;
            const auto b = static_cast<std::size_t>(s);  // inside the range but a block that ends the function
            return block_start_[b] && impl_.insns[last_insn(b, block_end(b))].op == isa::Op::Exit;
        };
        bool leaves = false;
        if (fs == isa::Shape::Exit)
            leaves = true;
        else if (fs == isa::Shape::Ja || fs == isa::Shape::Gotol)
            leaves = outside(fl.target(f_last));
        else if (fs == isa::Shape::JmpImm || fs == isa::Shape::JmpReg)
            leaves = outside(fl.target(f_last)) && outside(static_cast<std::int64_t>(f_last) + 1);
        if (!leaves) continue;
        latch_copy_end_[pc] = static_cast<std::uint32_t>(e);
        if (!slot_label[pc + 1].isValid()) slot_label[pc + 1] = a_.newLabel();
        if (!slot_label[e].isValid()) slot_label[e] = a_.newLabel();
    }
}

asmjit::Label& Lowering::use(asmjit::Label& label) {
    if (!label.isValid()) label = a_.newLabel();
    return label;
}

void Lowering::call_abs(const void* fn) {
    a_.mov(x86::r10, Imm(reinterpret_cast<std::uint64_t>(fn)));
    a_.call(x86::r10);
}

void Lowering::mov_imm64(const x86::Gp& dst, std::uint64_t value) {
    if (options_.blind_constants) {
        const std::uint64_t rnd = (*rng_)();
        a_.mov(dst, Imm(value ^ rnd));
        a_.mov(x86::r10, Imm(rnd));
        a_.xor_(dst, x86::r10);
        return;
    }
    if (value == 0)
        a_.xor_(dst.r32(), dst.r32());
    else
        a_.mov(dst, Imm(value));
}

asmjit::Operand Lowering::imm_operand(std::int32_t imm, bool is64) {
    if (!options_.blind_constants) return Imm(imm);
    // The kernel's bpf_jit_blind_constants: AX = imm ^ rnd; AX ^= rnd (sign extension commutes with xor).
    const auto rnd = static_cast<std::int32_t>((*rng_)());
    const std::int32_t blinded = imm ^ rnd;
    if (is64) {
        a_.mov(x86::r10, Imm(static_cast<std::int64_t>(blinded)));
        a_.xor_(x86::r10, Imm(rnd));
        return x86::r10;
    }
    a_.mov(x86::r10d, Imm(static_cast<std::uint32_t>(blinded)));
    a_.xor_(x86::r10d, Imm(rnd));
    return x86::r10d;
}

Label Lowering::fault(FaultKind kind, std::uint32_t size, std::size_t pc, std::uint32_t count) {
    FaultSite site{a_.newLabel(), pack_fault(kind, size, count, pc)};
    faults_.push_back(site);
    return site.label;
}

namespace {}  // namespace

Result<ExecMemory> install(asmjit::CodeHolder& code, std::string_view what) {
    if (code.flatten() != asmjit::kErrorOk || code.resolveUnresolvedLinks() != asmjit::kErrorOk)
        return make_error(ErrorCode::kUnsupported, fmt::format("jit: cannot lay out {}", what));
    const std::size_t size = code.codeSize();
    auto memory = ExecMemory::allocate(size);
    if (!memory) return std::unexpected(memory.error());
    // The relocated code goes through a per-thread buffer (grown, never shrunk) into ExecMemory::write.
    thread_local std::vector<std::uint8_t> scratch;
    if (scratch.size() < size) scratch.resize(size);
    if (code.relocateToBase(reinterpret_cast<std::uint64_t>(memory->data())) != asmjit::kErrorOk ||
        code.copyFlattenedData(scratch.data(), size, asmjit::CopySectionFlags::kPadTargetBuffer) != asmjit::kErrorOk)
        return make_error(ErrorCode::kUnsupported, fmt::format("jit: cannot relocate {}", what));
    if (auto w = memory->write(std::span(scratch.data(), size)); !w) return std::unexpected(w.error());
    return memory;
}

namespace {

Result<EntryCode> build_entry_code() {
    asmjit::CodeHolder code;
    code.init(asmjit::Environment::host());
    x86::Assembler a(&code);
    const Label trampoline = a.newLabel();
    const Label ret = a.newLabel();
    const Label abort = a.newLabel();
    // u64 trampoline(Engine* e, const u64* args, u64 target, u64 frame_top)
    // The host's callee-saved registers (System V), pushed in this order and popped in the reverse one.
    const x86::Gp host_saved[] = {x86::rbx, x86::rbp, x86::r12, x86::r13, x86::r14, x86::r15};
    a.bind(trampoline);
    for (const x86::Gp& r : host_saved) a.push(r);
    a.sub(x86::rsp, 8);  // 8 (return address) + 48 + 8: aligned at the call below
    a.mov(x86::qword_ptr(x86::rdi, engine_offset_native_rsp()), x86::rsp);
    a.mov(kEngine, x86::rdi);
    a.mov(x86::r11, x86::rdx);
    a.mov(x86::rbp, x86::rcx);
    a.mov(x86::rdi, x86::qword_ptr(x86::rsi, 0));
    a.mov(x86::rdx, x86::qword_ptr(x86::rsi, 16));
    a.mov(x86::rcx, x86::qword_ptr(x86::rsi, 24));
    a.mov(x86::r8, x86::qword_ptr(x86::rsi, 32));
    a.mov(x86::rsi, x86::qword_ptr(x86::rsi, 8));
    // r0 and r6-r9 start at zero, as in the interpreter.
    a.xor_(x86::eax, x86::eax);
    a.xor_(x86::ebx, x86::ebx);
    a.xor_(x86::r13d, x86::r13d);
    a.xor_(x86::r14d, x86::r14d);
    a.xor_(x86::r15d, x86::r15d);
    a.call(x86::r11);
    a.bind(ret);
    a.add(x86::rsp, 8);
    for (auto it = std::rbegin(host_saved); it != std::rend(host_saved); ++it) a.pop(*it);
    a.ret();
    a.align(asmjit::AlignMode::kCode, 16);
    a.bind(abort);
    a.mov(x86::rsp, x86::qword_ptr(kEngine, engine_offset_native_rsp()));
    a.jmp(ret);
    auto memory = install(code, "the entry trampoline");
    if (!memory) return std::unexpected(memory.error());
    const auto base = reinterpret_cast<std::uint64_t>(memory->data());
    EntryCode e;
    e.trampoline = base + code.labelOffsetFromBase(trampoline);
    e.abort = base + code.labelOffsetFromBase(abort);
    e.memory = std::move(*memory);
    return e;
}

}  // namespace

const Result<EntryCode>& entry_code() {
    static const Result<EntryCode>* entry = new Result<EntryCode>(build_entry_code());  // never freed: runs may be
    return *entry;                                                                      // in flight at exit
}

void Lowering::emit_prologue(const Function& f) {
    for (const x86::Gp& r : f.saved) a_.push(r);
    if (f.pad) a_.sub(x86::rsp, 8);
}

void Lowering::emit_epilogue_body(const Function& f) {
    if (f.pad) a_.add(x86::rsp, 8);
    for (auto it = f.saved.rbegin(); it != f.saved.rend(); ++it) a_.pop(*it);
}

void Lowering::emit_function(Function& f) {
    cur_fn_ = static_cast<std::size_t>(&f - functions.data());
    a_.align(asmjit::AlignMode::kCode, 16);
    a_.bind(f.entry);
    emit_prologue(f);
    if (auto r = emit_slots(f.start, f.end, false); !r) {
        pending_error_ = r.error();
        return;
    }
    a_.bind(f.epilogue);
    emit_epilogue_body(f);
    a_.ret();
}

Result<void> Lowering::emit_slots(std::size_t from, std::size_t to, bool copy) {
    for (std::size_t pc = from; pc < to; ++pc) {
        if (!copy) {
            // Loop heads start a 64-byte line (code memory is 64-byte aligned), so a loop of up to 64 bytes is fetched
            // from one line and one op-cache window: 16 took strcmp from 1.8x to 1.5x native; 64 took xorshift, whose
            // 50-byte loop straddled two lines, from 1.00x-1.04x to 0.98x-1.01x the kernel's JIT.
            if (options_.optimize && loop_head_[pc]) a_.align(asmjit::AlignMode::kCode, 64);
            insn_offsets[pc] = static_cast<std::uint32_t>(a_.offset());
            if (slot_label[pc].isValid()) a_.bind(slot_label[pc]);
        }
        if (impl_.insns[pc].is_lddw_tail) continue;
        if (options_.checked && block_start_[pc]) {
            a_.sub(x86::qword_ptr(kEngine, engine_offset_budget()), Imm(block_len_[pc]));
            a_.jb(fault(FaultKind::Budget, 0, pc, block_len_[pc]));
        }
        if (!pending_loads_.empty() && emit_pending_load(pc)) continue;
        if (const std::size_t fused =
                options_.optimize && impl_.insns[pc].op == isa::Op::Mov64Reg ? fuse_address(pc) : 0;
            fused > 0) {
            // The folded slots (no jump targets) are part of this code.
            if (!copy)
                for (std::size_t i = 1; i < fused; ++i) insn_offsets[pc + i] = static_cast<std::uint32_t>(a_.offset());
            pc += fused - 1;
            continue;
        }
        if (auto r = lower(pc); !r) return r;
    }
    return {};
}

Result<void> Lowering::emit_copy(std::size_t from, std::size_t to) {
    if (auto r = emit_slots(from, to, true); !r) return r;
    const isa::Shape last = isa::info(impl_.insns[last_insn(from, to)].op).shape;
    if (last != isa::Shape::Ja && last != isa::Shape::Gotol) a_.jmp(slot_label[to]);  // the copy's fall-through
    return {};
}

std::size_t Lowering::fuse_address(std::size_t pc) {
    // `rD = rA; rD += imm; rD += rB` (either order, either add alone) computes an address: one lea
    // [rA + rB + imm]. When the next instruction loads through rD into rD itself (the sum is dead after it) and the
    // code is unchecked (the verifier proved the access), the sum folds into the load's addressing mode instead.
    // Only instructions nothing jumps to are folded; with blinding, immediates stay out of the code.
    // (The folded form uses the same registers, so it is the unfolded sequence's final state minus rD's sum.)
    const std::size_t end = functions[cur_fn_].end;
    const isa::Instruction& mov = impl_.insns[pc];
    if (mov.op != isa::Op::Mov64Reg || mov.dst == mov.src) return 0;
    const std::uint8_t d = mov.dst;
    std::int64_t disp = 0;
    int index = -1;
    bool has_disp = false;
    std::size_t n = 1;
    while (n < 3 && pc + n < end && !block_start_[pc + n]) {
        const isa::Instruction& add = impl_.insns[pc + n];
        if (add.dst != d) break;
        if (add.op == isa::Op::Add64Imm && !has_disp && !options_.blind_constants) {
            disp = add.imm;
            has_disp = true;
        } else if (add.op == isa::Op::Add64Reg && index < 0 && add.src != d) {
            index = add.src;
        } else {
            break;
        }
        ++n;
    }
    if (n == 1) return 0;
    const x86::Gp base = kReg[mov.src];
    auto address = [&](std::int64_t extra) {
        const auto off = static_cast<std::int32_t>(disp + extra);
        return index < 0 ? x86::ptr(base, off) : x86::ptr(base, kReg[index], 0, off);
    };
    if (!options_.checked) {
        // The load through rD into rD: right after the sum, or a few instructions later when those neither read nor
        // write rD nor write the sum's registers (the sum is then emitted with the load: nothing here).
        const int base_reg = mov.src;
        for (std::size_t j = pc + n; j < end && j <= pc + n + kMaxFoldDistance && !block_start_[j]; ++j) {
            const isa::Instruction& load = impl_.insns[j];
            const isa::Shape shape = isa::info(load.op).shape;
            if ((shape == isa::Shape::Ldx || shape == isa::Shape::LdxSx) && load.src == d && load.dst == d) {
                const std::int64_t total = disp + load.off;
                if (total < INT32_MIN || total > INT32_MAX) break;
                if (j == pc + n) {
                    emit_folded_load(j, base, index < 0 ? std::nullopt : std::optional(kReg[index]),
                                     static_cast<std::int32_t>(total));
                    return n + 1;
                }
                pending_loads_.push_back(
                    {j, base, index < 0 ? std::nullopt : std::optional(kReg[index]), static_cast<std::int32_t>(total)});
                return n;
            }
            const bool reg_form = shape == isa::Shape::AluReg || shape == isa::Shape::Ldx || shape == isa::Shape::LdxSx;
            const bool plain = shape == isa::Shape::AluImm || shape == isa::Shape::AluReg || shape == isa::Shape::Neg ||
                               shape == isa::Shape::MovSx || shape == isa::Shape::Endian || shape == isa::Shape::Ldx ||
                               shape == isa::Shape::LdxSx;
            if (!plain || load.dst == d || (reg_form && load.src == d) || load.dst == base_reg || load.dst == index)
                break;
        }
    }
    a_.lea(kReg[d], address(0));
    return n;
}

bool Lowering::emit_pending_load(std::size_t pc) {
    for (std::size_t i = 0; i < pending_loads_.size(); ++i) {
        if (pending_loads_[i].slot != pc) continue;
        const PendingLoad p = pending_loads_[i];
        pending_loads_.erase(pending_loads_.begin() + static_cast<std::ptrdiff_t>(i));
        emit_folded_load(pc, p.base, p.index, p.disp);
        return true;
    }
    return false;
}

void Lowering::emit_folded_load(std::size_t pc, const x86::Gp& base, std::optional<x86::Gp> index, std::int32_t disp) {
    const isa::Instruction& load = impl_.insns[pc];
    const std::uint32_t size = isa::info(load.op).width;
    emit_load(load, index ? x86::ptr(base, *index, 0, disp, size) : x86::ptr(base, disp, size));
}

void Lowering::emit_stubs() {
    // Slow paths of checked accesses first: they add fault sites.
    for (std::size_t i = 0; i < slow_checks_.size(); ++i) {
        const SlowCheck c = slow_checks_[i];
        a_.bind(c.label);
        a_.call(use(check_stub_[c.size][c.write ? 1 : 0]));
        a_.jz(fault(c.write ? FaultKind::Write : FaultKind::Read, c.size, c.pc));
        a_.jmp(c.back);
    }
    for (const FaultSite& site : faults_) {
        a_.bind(site.label);
        a_.mov(x86::r10, Imm(site.packed));
        a_.jmp(use(fault_common_));
    }
    if (fault_common_.isValid()) {
        a_.bind(fault_common_);
        a_.mov(x86::rdi, kEngine);
        a_.mov(x86::rsi, x86::r10);
        a_.mov(x86::rdx, x86::r11);
        call_abs(reinterpret_cast<const void*>(&rt_fault));
        a_.jmp(use(abort_));
    }
    if (end_zero_.isValid()) {
        a_.bind(end_zero_);
        a_.xor_(x86::eax, x86::eax);
        a_.jmp(use(abort_));
    }
    if (abort_.isValid()) {
        // Unwind to the innermost trampoline (the shared entry code's abort path).
        a_.bind(abort_);
        a_.mov(x86::r10, Imm(entry_abort_));
        a_.jmp(x86::r10);
    }

    // Checked access: r11 = address; returns ZF clear when allowed; preserves every BPF register and r11.
    for (std::uint32_t size : {1u, 2u, 4u, 8u})
        for (int write = 0; write < 2; ++write) {
            if (!check_stub_[size][write].isValid()) continue;
            a_.bind(check_stub_[size][write]);
            for (const x86::Gp& r : {x86::rax, x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8, x86::r11}) a_.push(r);
            a_.mov(x86::rdi, kEngine);
            a_.mov(x86::rsi, x86::r11);
            a_.mov(x86::edx, Imm(size | static_cast<std::uint32_t>(write) << 8));
            call_abs(reinterpret_cast<const void*>(&rt_access_ok));
            a_.test(x86::al, x86::al);
            for (const x86::Gp& r : {x86::r11, x86::r8, x86::rcx, x86::rdx, x86::rsi, x86::rdi, x86::rax}) a_.pop(r);
            a_.ret();
        }

    if (uses_callx_) {
        a_.align(asmjit::AlignMode::kData, 8);
        a_.bind(use(callx_table_));
        for (std::size_t pc = 0; pc < impl_.insns.size(); ++pc) {
            if (impl_.is_function_start[pc])
                a_.embedLabel(functions[static_cast<std::size_t>(function_of[pc])].entry);
            else
                a_.embedUInt64(0);
        }
    }
}

Result<void> Lowering::emit_all() {
    plan();
    for (Function& f : functions) {
        emit_function(f);
        if (pending_error_) return std::unexpected(*pending_error_);
    }
    insn_offsets[impl_.insns.size()] = static_cast<std::uint32_t>(a_.offset());
    if (slot_label[impl_.insns.size()].isValid()) a_.bind(slot_label[impl_.insns.size()]);
    emit_stubs();
    return {};
}

}  // namespace xbpf::jit::x86_64

namespace xbpf::jit {

namespace {

class RecordingErrorHandler : public asmjit::ErrorHandler {
  public:
    void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter*) override {
        if (!failed) {
            failed = true;
            text = fmt::format("{} ({})", message, err);
        }
    }
    bool failed = false;
    std::string text;
};

}  // namespace

Result<std::shared_ptr<const JitCode>> compile(const vm::Program& program, const JitOptions& options) {
    const vm::Program::Impl& impl = program.impl();
    const Result<x86_64::EntryCode>& entry = x86_64::entry_code();
    if (!entry) return std::unexpected(entry.error());
    // One CodeHolder per thread, soft-reset for each compile: its zone keeps its memory (labels, links, sections).
    thread_local asmjit::CodeHolder code;
    code.reset(asmjit::ResetPolicy::kSoft);
    RecordingErrorHandler eh;
    code.init(asmjit::Environment::host());
    code.setErrorHandler(&eh);
    const struct ForgetHandler {
        asmjit::CodeHolder& c;
        ~ForgetHandler() { c.resetErrorHandler(); }
    } forget{code};
    // About 8 bytes of code per instruction plus the stubs: one allocation instead of doublings.
    code.reserveBuffer(&code.textSection()->buffer(), impl.insns.size() * 12 + 1024);
    x86_64::Lowering lowering(impl, options, code, entry->abort);
    if (auto r = lowering.emit_all(); !r) return std::unexpected(r.error());
    if (eh.failed) return make_error(ErrorCode::kUnsupported, "jit: asmjit: " + eh.text);
    auto memory = x86_64::install(code, "the code");
    if (!memory) return std::unexpected(memory.error());
    const auto base = reinterpret_cast<std::uint64_t>(memory->data());

    auto m = std::make_unique<Module>();
    m->checked = options.checked;
    m->impl = &impl;
    m->trampoline = entry->trampoline;
    m->insn_offsets = std::move(lowering.insn_offsets);
    m->fn_address.reserve(lowering.functions.size());
    for (const x86_64::Function& f : lowering.functions)  // (in slot order)
        m->fn_address.emplace_back(static_cast<std::uint32_t>(f.start), base + code.labelOffsetFromBase(f.entry));
    m->memory = std::move(*memory);
    return std::shared_ptr<const JitCode>(std::make_shared<JitCode>(std::move(m)));
}

vm::LoadOptions::NativeCompiler native_compiler(bool blind) {
    return [blind](const vm::Program& program, const verifier::VerifyReport* report, bool checked,
                   bool unprivileged) -> Result<std::shared_ptr<const vm::NativeCode>> {
        JitOptions o;
        o.checked = checked;
        o.blind_constants = blind || unprivileged;
        if (report && !checked) o.facts = report->facts;
        auto code = compile(program, o);
        if (!code) return std::unexpected(code.error());
        return std::shared_ptr<const vm::NativeCode>(*code);
    };
}

}  // namespace xbpf::jit
