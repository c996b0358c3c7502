#include "support/engine_diff.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "isa/disassembler.hpp"
#include "jit/jit.hpp"
#include "vm/object.hpp"

namespace xbpf::test {

namespace {

// bpf_get_prandom_u32 (7), made repeatable: the same sequence in every run (reset by run_engine), so that a program
// calling it gives both engines the same numbers.
thread_local std::uint64_t prandom_state = 0;

std::uint64_t repeatable_prandom(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                 helpers::Context*) {
    prandom_state = prandom_state * 6364136223846793005ull + 1442695040888963407ull;
    return prandom_state >> 32;
}

}  // namespace

const vm::HelperTable& engine_diff_helpers() {
    static const vm::HelperTable table = [] {
        vm::HelperTable t;
        for (const vm::Helper& h : vm::standard_helpers().all()) t.add(h);
        t.add(vm::Helper{7, "bpf_get_prandom_u32", &repeatable_prandom});
        return t;
    }();
    return table;
}

std::string EngineOutcome::to_string() const {
    if (!ok) return "error: " + error;
    std::string m;
    for (std::size_t i = 0; i < mem.size() && i < 48; ++i) m += fmt::format("{:02x}", mem[i]);
    return fmt::format("r0={:#x} mem={}{}", r0, m, mem.size() > 48 ? "..." : "");
}

bool same_outcome(const EngineOutcome& a, const EngineOutcome& b) {
    if (a.ok != b.ok) return false;
    if (a.ok) return a.r0 == b.r0 && a.mem == b.mem;
    if (a.budget || b.budget) return a.budget && b.budget;
    return a.error == b.error;
}

EngineOutcome run_engine(const vm::Program& program, std::span<const std::uint8_t> content,
                         std::span<const std::uint8_t> packet, bool checked, vm::EngineKind engine,
                         std::uint64_t budget, std::size_t shift) {
    // The memory sits `shift` bytes into a per-thread buffer that is only ever grown, so consecutive runs of the
    // same content (the interpreter's and the JIT's) see it at the same address even where the allocator would move
    // a fresh buffer (ASan's quarantine): a program that turns its address into a number sees another number only
    // when the shift changes (address_dependent).
    thread_local std::vector<std::uint8_t> buffer;
    if (buffer.size() < content.size() + shift) buffer.resize(std::max<std::size_t>(content.size() + shift, 4096));
    std::copy(content.begin(), content.end(), buffer.begin() + static_cast<std::ptrdiff_t>(shift));
    std::uint8_t* mem = buffer.data() + shift;
    vm::RunInput input;
    const auto addr = reinterpret_cast<std::uint64_t>(mem);
    input.args = {addr, content.size(), 0, 0, 0};
    if (!content.empty()) input.regions.push_back(vm::MemoryRegion{addr, content.size(), true, "mem"});
    input.packet = packet;
    vm::RunOptions options;
    options.checked = checked;
    options.insn_budget = budget;
    options.engine = engine;
    options.zero_stack = true;  // a privileged program may read stack it never wrote
    prandom_state = 0x5eed;
    auto r = vm::run(program, input, options);
    EngineOutcome out;
    out.mem.assign(mem, mem + content.size());
    if (r) {
        out.ok = true;
        out.r0 = r->r0;
        out.native = r->native;
    } else {
        out.error = r.error().to_string();
        out.budget = r.error().message.find("budget") != std::string::npos;
    }
    return out;
}

namespace {

// The interpreter's run from a frame 8 KB deeper, with the memory 40 bytes further on.
[[gnu::noinline]] EngineOutcome run_deeper(const vm::Program& program, std::span<const std::uint8_t> content,
                                           std::span<const std::uint8_t> packet, bool checked) {
    volatile std::uint8_t pad[8192];
    pad[0] = 1;
    pad[sizeof(pad) - 1] = pad[0];
    EngineOutcome out = run_engine(program, content, packet, checked, vm::EngineKind::Interp, 1u << 20, 40);
    pad[1] = pad[sizeof(pad) - 1];
    return out;
}

}  // namespace

bool address_dependent(const vm::Program& program, std::span<const std::uint8_t> content,
                       std::span<const std::uint8_t> packet, bool checked) {
    return !same_outcome(run_engine(program, content, packet, checked, vm::EngineKind::Interp),
                         run_deeper(program, content, packet, checked));
}

std::string mask_stack_addresses(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 5, "0x7ff") == 0) {
            std::size_t j = i + 5;
            while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j])) != 0) ++j;
            out += "<stack address>";
            i = j;
            continue;
        }
        out += text[i++];
    }
    return out;
}

std::string engine_diff_listing(std::span<const isa::RawInsn> insns) { return isa::disassemble(insns); }

std::string compare_engines(const VerifierCase& c, const verifier::VerifyReport& report,
                            const std::vector<std::vector<std::uint8_t>>& contents, EngineDiffStats& stats) {
    auto program = vm::Program::load(c.insns, &engine_diff_helpers());
    if (!program) return "";  // refused before it could run: nothing to compare
    for (const auto& content : contents) {
        if (address_dependent(*program, content, {}, true)) {
            stats.address_dependent = true;
            return "";
        }
    }
    const auto compare = [&](bool checked, const jit::JitOptions& options) -> std::string {
        auto code = jit::compile(*program, options);
        if (!code) return "the JIT refused the program: " + code.error().to_string();
        program->set_native(*code);
        for (const auto& content : contents) {
            const EngineOutcome interp = run_engine(*program, content, {}, checked, vm::EngineKind::Interp);
            const EngineOutcome jitted = run_engine(*program, content, {}, checked, vm::EngineKind::Jit);
            if (jitted.ok && !jitted.native) return "the run did not enter JIT code";
            if (!same_outcome(interp, jitted))
                return fmt::format("{}{}: interpreter {}, JIT {}", checked ? "checked" : "unchecked",
                                   options.blind_constants ? " (blinded)" : "", interp.to_string(), jitted.to_string());
            ++(checked ? stats.checked_runs : stats.unchecked_runs);
            if (checked && !interp.ok) ++stats.faults;
        }
        return "";
    };
    jit::JitOptions checked_options;
    checked_options.checked = true;
    if (std::string problem = compare(true, checked_options); !problem.empty()) return problem;
    if (!report.accepted) return "";
    jit::JitOptions options;
    options.checked = false;
    options.facts = report.facts;
    options.blind_constants = !c.privileged;
    return compare(false, options);
}

}  // namespace xbpf::test
