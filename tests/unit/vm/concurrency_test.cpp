// Programs on several threads at once, with the host reading the same maps: atomic instructions on a map value
// lose no update, helper updates of a hash map from every thread all land, and host lookups and dumps running
// meanwhile see only whole values. Run in both interpreter modes (the maps are shared; each run has its own
// engine state).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "../../support/insn_builder.hpp"
#include "maps/map.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

using namespace xbpf::test;  // NOLINT(google-build-using-namespace)

constexpr int kThreads = 3;
constexpr int kRuns = 20000;

Slots map_ref(std::uint8_t dst, std::int32_t index) {
    return Slots(make(isa::Op::Lddw, dst, isa::kPseudoMapIdx, 0, index), isa::RawInsn{});
}

std::shared_ptr<maps::Map> make(maps::MapType type, std::uint32_t entries) {
    maps::MapSpec s;
    s.name = type == maps::MapType::Array ? "counter" : "seen";
    s.type = type;
    s.key_size = 4;
    s.value_size = 8;
    s.max_entries = entries;
    auto m = maps::create_map(s);
    EXPECT_TRUE(m) << m.error().to_string();
    return *m;
}

// r1 = the run's number (its memory's first u32). Map 0 (array): value[0] += 1 atomically. Map 1 (hash):
// update key = run number with value = run number * 3. Returns 0.
std::vector<isa::RawInsn> counting_program() {
    return program({
        ldx_mem(Size::W, R6, R1, 0),  // r6 = run number
        st_mem(Size::W, R10, -4, 0),  // key 0
        map_ref(R1, 0),
        mov64_reg(R2, R10),
        alu64_imm(Alu::Add, R2, -4),
        call_helper(1),  // r0 = lookup(counter, &0)
        jmp_imm(Jmp::Jeq, R0, 0, 2),
        mov64_imm(R1, 1),
        atomic_op(Size::DW, Atomic::Add, R0, R1, 0),  // lock *(u64 *)(r0 + 0) += 1
        stx_mem(Size::W, R10, R6, -8),                // key = run number
        mov64_reg(R7, R6),
        alu64_imm(Alu::Mul, R7, 3),
        stx_mem(Size::DW, R10, R7, -16),  // value = run number * 3
        map_ref(R1, 1),
        mov64_reg(R2, R10),
        alu64_imm(Alu::Add, R2, -8),
        mov64_reg(R3, R10),
        alu64_imm(Alu::Add, R3, -16),
        mov64_imm(R4, 0),
        call_helper(2),  // update(seen, &key, &value, BPF_ANY)
        mov64_imm(R0, 0),
        exit_insn(),
    });
}

TEST(VmConcurrency, ProgramsOnSeveralThreadsAndTheHostShareMaps) {
    for (const bool checked : {true, false}) {
        SCOPED_TRACE(checked ? "checked" : "unchecked");
        std::vector<std::shared_ptr<maps::Map>> table{make(maps::MapType::Array, 1),
                                                      make(maps::MapType::Hash, kThreads * kRuns)};
        const auto insns = counting_program();
        auto prog = Program::load(insns, ProgramEnv{&standard_helpers(), table, 0});
        ASSERT_TRUE(prog) << prog.error().to_string();

        std::atomic<bool> done{false};
        std::atomic<int> torn{0};
        std::thread host([&] {  // the host reads while programs write
            std::uint64_t value = 0;
            while (!done.load()) {
                for (std::uint32_t k = 0; k < 64; ++k)
                    if (table[1]->lookup_copy(&k, &value) == 0 && value != std::uint64_t{k} * 3) ++torn;
                (void)table[1]->dump();
            }
        });
        std::vector<std::thread> workers;
        std::atomic<int> failures{0};
        for (int t = 0; t < kThreads; ++t) {
            workers.emplace_back([&, t] {
                for (int i = 0; i < kRuns; ++i) {
                    std::uint32_t run = static_cast<std::uint32_t>(t * kRuns + i);
                    RunInput in;
                    in.args[0] = reinterpret_cast<std::uint64_t>(&run);
                    in.regions.push_back(MemoryRegion{reinterpret_cast<std::uint64_t>(&run), sizeof run, false, "run"});
                    RunOptions options;
                    options.checked = checked;
                    auto r = interpret(*prog, in, options);
                    if (!r || r->r0 != 0) ++failures;
                }
            });
        }
        for (std::thread& w : workers) w.join();
        done = true;
        host.join();

        EXPECT_EQ(failures.load(), 0);
        EXPECT_EQ(torn.load(), 0);
        const std::uint32_t zero = 0;
        std::uint64_t count = 0;
        ASSERT_EQ(table[0]->lookup_copy(&zero, &count), 0);
        EXPECT_EQ(count, std::uint64_t{kThreads} * kRuns);  // no lost atomic add
        const auto entries = table[1]->dump();
        ASSERT_EQ(entries.size(), std::size_t{kThreads} * kRuns);  // every helper update landed
        for (const maps::MapEntry& e : entries) {
            std::uint32_t k = 0;
            std::uint64_t v = 0;
            std::memcpy(&k, e.key.data(), 4);
            std::memcpy(&v, e.value.data(), 8);
            ASSERT_EQ(v, std::uint64_t{k} * 3) << "key " << k;
        }
    }
}

}  // namespace
}  // namespace xbpf::vm
