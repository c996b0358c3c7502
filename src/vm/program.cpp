#include <fmt/format.h>

#include "maps/prog_array.hpp"
#include "object/core.hpp"
#include "vm/engine.hpp"
#include "vm/program_impl.hpp"

namespace xbpf::vm {

Program::Program(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;
Program::~Program() = default;

const std::vector<isa::Instruction>& Program::instructions() const { return impl_->insns; }
std::size_t Program::size() const { return impl_->insns.size(); }
void Program::set_native(std::shared_ptr<const NativeCode> code) { impl_->native = std::move(code); }
const NativeCode* Program::native() const { return impl_->native.get(); }

namespace {

std::vector<ThreadedInsn> thread_code(const Program::Impl& impl, const void* const* labels) {
    std::vector<ThreadedInsn> code(impl.insns.size());
    for (std::size_t pc = 0; pc < impl.insns.size(); ++pc) {
        const isa::Instruction& insn = impl.insns[pc];
        ThreadedInsn& t = code[pc];
        t.handler = insn.is_lddw_tail ? nullptr : labels[static_cast<std::size_t>(insn.op)];
        t.dst = insn.dst;
        t.src = insn.src;
        t.off = insn.off;
        t.imm = insn.imm;
    }
    return code;
}

}  // namespace

Result<Program> Program::load(std::span<const isa::RawInsn> raw, const HelperTable* helpers) {
    ProgramEnv env;
    env.helpers = helpers;
    return load(raw, env);
}

Result<Program> Program::load(std::span<const isa::RawInsn> raw, const ProgramEnv& env) {
    const HelperTable* helpers = env.helpers;
    if (raw.empty()) return make_error(ErrorCode::kInvalidInstruction, "empty program");
    auto decoded = isa::decode(raw);
    if (!decoded) return std::unexpected(decoded.error());
    auto impl = std::make_unique<Impl>();
    impl->insns = std::move(*decoded);
    impl->is_function_start.assign(impl->insns.size(), false);
    impl->is_function_start[0] = true;
    impl->prog_type = env.prog_type;
    // Resolved 64-bit values of map lddw instructions (map object or map value addresses), by slot.
    std::vector<std::pair<std::size_t, std::uint64_t>> lddw_values;
    const auto use_map = [&](const std::shared_ptr<maps::Map>& m) {
        for (const auto& have : impl->maps)
            if (have == m) return;
        impl->maps.push_back(m);
    };

    // Resolve what the interpreter cannot do at run time: helper ids and pseudo immediates.
    std::vector<std::int32_t> call_index(impl->insns.size(), 0);
    for (std::size_t pc = 0; pc < impl->insns.size(); ++pc) {
        const isa::Instruction& insn = impl->insns[pc];
        if (insn.is_lddw_tail) continue;
        switch (insn.op) {
            case isa::Op::Call: {
                const Helper* h = helpers ? helpers->find(insn.imm) : nullptr;
                if ((!h || !h->fn) && insn.imm == object::kCorePoisonHelper) {
                    // A CO-RE relocation that found no target: an error only if the call is reached (the kernel's
                    // verifier likewise rejects it only on a live path; guarded field checks make it dead code).
                    call_index[pc] = static_cast<std::int32_t>(impl->helper_fns.size());
                    impl->helper_fns.push_back(core_poisoned);
                    impl->helper_ids.push_back(insn.imm);
                    break;
                }
                if (!h || !h->fn)
                    return make_error(ErrorCode::kNotFound, fmt::format("call to unknown helper {}", insn.imm),
                                      at_insn(pc));
                call_index[pc] = static_cast<std::int32_t>(impl->helper_fns.size());
                impl->helper_fns.push_back(h->fn);
                impl->helper_ids.push_back(insn.imm);
                break;
            }
            case isa::Op::CallLocal: impl->is_function_start[static_cast<std::size_t>(insn.target(pc))] = true; break;
            case isa::Op::CallKfunc:
                return make_error(ErrorCode::kUnsupported, "calls to kernel functions (kfuncs) need the kernel",
                                  at_insn(pc));
            case isa::Op::Lddw:
                if (insn.src == isa::kPseudoFunc) {
                    const std::int64_t t = static_cast<std::int64_t>(pc) + 1 + insn.imm;
                    if (t < 0 || t >= static_cast<std::int64_t>(impl->insns.size()) ||
                        impl->insns[static_cast<std::size_t>(t)].is_lddw_tail)
                        return make_error(ErrorCode::kInvalidInstruction,
                                          fmt::format("lddw: function address {} outside the program", t), at_insn(pc));
                    impl->is_function_start[static_cast<std::size_t>(t)] = true;
                } else if (!env.maps.empty() &&
                           (insn.src == isa::kPseudoMapFd || insn.src == isa::kPseudoMapIdx ||
                            insn.src == isa::kPseudoMapValue || insn.src == isa::kPseudoMapIdxValue)) {
                    const auto index = static_cast<std::uint32_t>(insn.imm);
                    if (index >= env.maps.size() || !env.maps[index])
                        return make_error(ErrorCode::kNotFound,
                                          fmt::format("lddw refers to map {}, but the program has {} map{}", index,
                                                      env.maps.size(), env.maps.size() == 1 ? "" : "s"),
                                          at_insn(pc));
                    const std::shared_ptr<maps::Map>& m = env.maps[index];
                    use_map(m);
                    if (insn.src == isa::kPseudoMapFd || insn.src == isa::kPseudoMapIdx) {
                        lddw_values.emplace_back(pc, reinterpret_cast<std::uint64_t>(m.get()));
                        if (m->type() == maps::MapType::ProgArray && env.prog_type != 0) {
                            auto* pa = static_cast<maps::ProgArrayMap*>(m.get());
                            if (!pa->claim_owner(env.prog_type))
                                return make_error(ErrorCode::kInvalidArgument,
                                                  fmt::format("prog_array map '{}' belongs to programs of another "
                                                              "type (tail calls need the same program type)",
                                                              m->spec().name),
                                                  at_insn(pc));
                        }
                        break;
                    }
                    // Direct value access (global data): array maps only, as the kernel's map_direct_value_addr.
                    const auto offset = static_cast<std::uint32_t>(insn.next_imm);
                    if (m->type() != maps::MapType::Array)
                        return make_error(ErrorCode::kInvalidArgument,
                                          fmt::format("lddw map value: map '{}' ({}) has no direct value access "
                                                      "(array maps only)",
                                                      m->spec().name, maps::map_type_name(m->type())),
                                          at_insn(pc));
                    if (offset >= m->spec().value_size)
                        return make_error(ErrorCode::kInvalidArgument,
                                          fmt::format("lddw map value: offset {} is past the {}-byte value of map '{}'",
                                                      offset, m->spec().value_size, m->spec().name),
                                          at_insn(pc));
                    const std::uint32_t zero = 0;
                    auto* value = static_cast<std::uint8_t*>(m->lookup(&zero));
                    if (!value)
                        return make_error(ErrorCode::kInvalidArgument,
                                          fmt::format("lddw map value: map '{}' has no element 0", m->spec().name),
                                          at_insn(pc));
                    lddw_values.emplace_back(pc, reinterpret_cast<std::uint64_t>(value + offset));
                    const auto start = reinterpret_cast<std::uint64_t>(value);
                    bool known = false;
                    for (const MemoryRegion& r : impl->data_regions) known = known || r.start == start;
                    if (!known)
                        impl->data_regions.push_back(MemoryRegion{
                            start, m->spec().value_size, (m->spec().flags & maps::kFRdonlyProg) == 0, m->spec().name});
                } else if (insn.src != isa::kPseudoImm64) {
                    return make_error(ErrorCode::kUnsupported,
                                      fmt::format("lddw with pseudo source {} refers to a map or kernel variable; "
                                                  "load the program from an object that defines it",
                                                  insn.src),
                                      at_insn(pc));
                }
                break;
            default: break;
        }
    }

    // Every function must end in exit or an unconditional jump, so execution never runs off a function (into the
    // next one, or past the last slot): the kernel's "last insn is not an exit or jmp".
    const auto ends_function = [&](std::size_t last) {
        const isa::Instruction& insn = impl->insns[last];
        if (insn.is_lddw_tail) return false;
        return insn.op == isa::Op::Exit || insn.op == isa::Op::Ja || insn.op == isa::Op::Gotol;
    };
    for (std::size_t pc = 1; pc <= impl->insns.size(); ++pc) {
        if (pc < impl->insns.size() && !impl->is_function_start[pc]) continue;
        if (!ends_function(pc - 1))
            return make_error(ErrorCode::kInvalidInstruction,
                              pc == impl->insns.size()
                                  ? std::string("last instruction is not an exit or jump: execution would run off the "
                                                "end of the program")
                                  : fmt::format("instruction before the function at {} is not an exit or jump: "
                                                "execution would fall into the next function",
                                                pc),
                              at_insn(pc - 1));
    }

    for (const bool checked : {true, false}) {
        auto code = thread_code(*impl, interpreter_labels(checked));
        for (std::size_t pc = 0; pc < code.size(); ++pc) {
            const isa::Instruction& insn = impl->insns[pc];
            if (insn.is_lddw_tail) continue;
            if (insn.op == isa::Op::Call) code[pc].imm = call_index[pc];
            if (insn.op == isa::Op::Lddw && insn.src == isa::kPseudoFunc) {
                // The code address of a function is its slot index; callx checks it.
                code[pc].imm = static_cast<std::int32_t>(pc + 1 + static_cast<std::size_t>(insn.imm));
                code[pc + 1].imm = 0;
            }
        }
        for (const auto& [slot, value] : lddw_values) {
            code[slot].imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
            code[slot + 1].imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value >> 32));
        }
        (checked ? impl->code_checked : impl->code_unchecked) = std::move(code);
    }
    return Program(std::move(impl));
}

Result<RunResult> run_raw(const Program& program, std::span<std::uint8_t> mem, const RunOptions& options) {
    RunInput input;
    input.args[0] = reinterpret_cast<std::uint64_t>(mem.data());
    input.args[1] = mem.size();
    input.packet = mem;
    if (!mem.empty()) input.regions.push_back({reinterpret_cast<std::uint64_t>(mem.data()), mem.size(), true, "mem"});
    return run(program, input, options);
}

}  // namespace xbpf::vm
