// Shared by the helper unit tests: a Context with recording grant/call stubs and an Environment that collects
// trace_printk lines, and a call() that runs a helper of helpers::kernel_helpers() by id.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers/helper.hpp"
#include "helpers/registry.hpp"
#include "maps/map.hpp"

namespace xbpf::helpers::test {

using u64 = std::uint64_t;

/// r0 of a helper that returned -err.
constexpr u64 neg(int err) { return static_cast<u64>(-static_cast<std::int64_t>(err)); }

/// A host pointer as a helper argument.
inline u64 arg(const void* p) { return reinterpret_cast<u64>(p); }

struct Grant {
    const void* p;
    std::size_t n;
    bool writable;
};

/// A run context for calling helpers directly.
class TestContext {
  public:
    TestContext() {
        env.trace = [this](std::string_view m) { lines.emplace_back(m); };
        ctx.user = this;
        ctx.env = &env;
        ctx.grant = [](Context* self, const void* p, std::size_t n, bool writable) {
            static_cast<TestContext*>(self->user)->grants.push_back(Grant{p, n, writable});
        };
        ctx.call = [](Context* self, u64, u64, u64, u64, u64, u64) -> u64 {
            self->aborted = true;
            return 0;
        };
        // The run owns what the test lists in `owned`; with an empty list, everything (the test's own memory stands
        // for the program's stack and maps).
        ctx.owns = [](const Context* self, u64 addr, std::size_t n) {
            const auto& owned = static_cast<const TestContext*>(self->user)->owned;
            if (owned.empty()) return true;
            for (const auto& [p, size] : owned) {
                const auto start = reinterpret_cast<u64>(p);
                if (addr >= start && n <= size && addr - start <= size - n) return true;
            }
            return false;
        };
    }
    TestContext(const TestContext&) = delete;
    TestContext& operator=(const TestContext&) = delete;

    /// Runs helper `id` with r1..r5.
    u64 call(std::int32_t id, u64 r1 = 0, u64 r2 = 0, u64 r3 = 0, u64 r4 = 0, u64 r5 = 0) {
        const Helper* h = kernel_helpers().find(id);
        EXPECT_NE(h, nullptr) << "helper " << id;
        if (!h) return ~0ULL;
        return h->fn(r1, r2, r3, r4, r5, &ctx);
    }

    Environment env;
    Context ctx;
    std::vector<std::string> lines;
    std::vector<Grant> grants;
    std::vector<std::pair<const void*, std::size_t>> owned;  ///< what Context::owns confirms (empty: everything)
};

/// A map from a spec (fails the test on refusal).
inline std::shared_ptr<maps::Map> make_map(maps::MapType type, std::uint32_t key, std::uint32_t value,
                                           std::uint32_t max, std::uint32_t flags = 0) {
    maps::MapSpec spec{.name = "t",
                       .type = type,
                       .key_size = key,
                       .value_size = value,
                       .max_entries = max,
                       .flags = flags,
                       .map_extra = 0,
                       .inner = nullptr,
                       .spin_lock_off = -1};
    auto m = maps::create_map(spec);
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
    return m ? *m : nullptr;
}

}  // namespace xbpf::helpers::test
