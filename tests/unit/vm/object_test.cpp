// vm::Object::load and vm::test_run on the clang-built objects of tests/programs: global data, sub-programs and
// bpf_loop callbacks, static prog_array slots and tail calls, XDP packet parsing with a BTF hash map, externs.
// Expected values are derived by hand from the C sources.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>

#include <cstring>

#include "../object/object_test_support.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

using object::testing::read_program;

/// Loads tests/programs/<name>.bpf.o or skips the test.
#define XBPF_LOAD_OBJECT(obj, name, helper_table)                              \
    XBPF_LOAD_PROGRAM(obj##_spec, name);                                       \
    LoadOptions obj##_options;                                                 \
    obj##_options.helpers = (helper_table);                                    \
    auto obj##_loaded = Object::load(obj##_spec, obj##_options);               \
    ASSERT_TRUE(obj##_loaded.has_value()) << obj##_loaded.error().to_string(); \
    const Object& obj = **obj##_loaded

// Test doubles for helpers another part of xbpf implements, so these tests depend on the VM only.
std::uint64_t stub_trace_printk(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, RunState*) {
    return 0;
}
std::uint64_t stub_probe_read_str(std::uint64_t dst, std::uint64_t size, std::uint64_t src, std::uint64_t,
                                  std::uint64_t, RunState*) {
    auto* d = reinterpret_cast<char*>(dst);
    const auto* s = reinterpret_cast<const char*>(src);
    std::size_t n = 0;
    while (n + 1 < size && s[n] != 0) {
        d[n] = s[n];
        ++n;
    }
    if (size > 0) d[n] = 0;
    return n + 1;
}
std::uint64_t stub_map_lookup(std::uint64_t map, std::uint64_t key, std::uint64_t, std::uint64_t, std::uint64_t,
                              RunState* ctx) {
    auto* m = reinterpret_cast<maps::Map*>(map);
    void* v = m->lookup(reinterpret_cast<const void*>(key));
    if (v) ctx->grant(ctx, v, m->spec().value_size, true);
    return reinterpret_cast<std::uint64_t>(v);
}
std::uint64_t stub_map_update(std::uint64_t map, std::uint64_t key, std::uint64_t value, std::uint64_t flags,
                              std::uint64_t, RunState*) {
    auto* m = reinterpret_cast<maps::Map*>(map);
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(
        m->update(reinterpret_cast<const void*>(key), reinterpret_cast<const void*>(value), flags)));
}

const HelperTable* test_helpers() {
    static const HelperTable table = [] {
        HelperTable t = standard_helpers();
        t.add({6, "bpf_trace_printk", stub_trace_printk});
        t.add({115, "bpf_probe_read_kernel_str", stub_probe_read_str});
        if (!t.find(1)) t.add({1, "bpf_map_lookup_elem", stub_map_lookup});
        if (!t.find(2)) t.add({2, "bpf_map_update_elem", stub_map_update});
        return t;
    }();
    return &table;
}

std::vector<std::uint8_t> eth_frame(std::size_t size, std::uint16_t ethertype) {
    std::vector<std::uint8_t> f(size, 0);
    f[12] = static_cast<std::uint8_t>(ethertype >> 8);
    f[13] = static_cast<std::uint8_t>(ethertype);
    return f;
}

template <class T>
T value_at(const maps::Map& m, std::size_t offset) {
    const std::uint32_t zero = 0;
    const auto* v = static_cast<const std::uint8_t*>(const_cast<maps::Map&>(m).lookup(&zero));
    T out{};
    std::memcpy(&out, v + offset, sizeof(T));
    return out;
}

TEST(VmObject, GlobalDataPersistsAcrossRuns) {
    XBPF_LOAD_OBJECT(obj, "globals", test_helpers());
    const LoadedProgram* prog = obj.program("use_globals");
    ASSERT_NE(prog, nullptr);
    EXPECT_EQ(prog->type(), object::ProgramType::SocketFilter);
    TestRunInput in;
    in.data_in = eth_frame(14 + 6, 0x0800);  // skb->len = 6 for a socket filter
    // counter 42 -> 43, hidden 5 + big_table[2] (3) = 8, buf[0] = 'a' (97): 43 + 8 + 97.
    auto first = test_run(*prog, in);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ(first->retval, 148u);
    auto second = test_run(*prog, in);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->retval, 44u + 11u + 97u);

    // .bss: total += len twice; scratch[len & 15] = threshold (7).
    auto bss = obj.map("globals.bss");
    ASSERT_NE(bss, nullptr);
    EXPECT_EQ(value_at<std::uint64_t>(*bss, 0), 12u);
    EXPECT_EQ(value_at<std::uint32_t>(*bss, 8 + 6 * 4), 7u);
    // .data.custom: 0x1234 ^ 'e' ^ 'e'.
    auto custom = obj.map(".data.custom");
    ASSERT_NE(custom, nullptr);
    EXPECT_EQ(value_at<std::uint32_t>(*custom, 0), 0x1234u);
    // .rodata is frozen from the host side and read-only for programs.
    auto rodata = obj.map("globals.rodata");
    ASSERT_NE(rodata, nullptr);
    EXPECT_TRUE(rodata->frozen());
    EXPECT_NE(rodata->spec().flags & maps::kFRdonlyProg, 0u);
    EXPECT_EQ(value_at<std::uint32_t>(*rodata, 0), 7u);
}

TEST(VmObject, SubprogramsAndLoopCallbacks) {
    XBPF_LOAD_OBJECT(obj, "subprogs", test_helpers());
    TestRunInput skb;
    skb.data_in = eth_frame(14 + 6, 0x0800);  // len 6
    auto one = test_run(*obj.program("entry_one"), skb);
    ASSERT_TRUE(one) << one.error().to_string();
    EXPECT_EQ(one->retval, 36u + 18u + 42u);  // x*x + 3x + 7x
    auto two = test_run(*obj.program("entry_two"), skb);
    ASSERT_TRUE(two) << two.error().to_string();
    EXPECT_EQ(two->retval, 7u + 96u);
    TestRunInput xdp;
    xdp.data_in = eth_frame(60, 0x0800);
    auto loop = test_run(*obj.program("entry_loop"), xdp);
    ASSERT_TRUE(loop) << loop.error().to_string();
    EXPECT_EQ(loop->retval, 45u + 135u);  // sum of 0..9, plus triple(sum)
    auto unchecked = xdp;
    unchecked.checked = false;
    auto fast = test_run(*obj.program("entry_loop"), unchecked);
    ASSERT_TRUE(fast);
    EXPECT_EQ(fast->retval, 180u);
}

TEST(VmObject, StaticProgArraySlotsAndTailCalls) {
    XBPF_LOAD_OBJECT(obj, "tailcall", test_helpers());
    const LoadedProgram* dispatcher = obj.program("dispatcher");
    ASSERT_NE(dispatcher, nullptr);
    auto bss = obj.map("tailcall.bss");
    ASSERT_NE(bss, nullptr);
    // Program ids are unique.
    EXPECT_NE(obj.program("stage_one")->prog_id(), obj.program("stage_two")->prog_id());
    struct Case {
        std::uint32_t ifindex;
        std::uint64_t retval;
        std::uint32_t stage;
    };
    // Without ctx_in (or ingress_ifindex 0) the kernel's test run receives on the loopback device, ifindex 1.
    // ingress_ifindex must name an existing device: use the host's devices whose index selects slot 0 or 2.
    std::vector<Case> cases = {Case{1, 0, 0}, Case{0, 0, 0}};
    if (struct if_nameindex* names = if_nameindex()) {
        for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
            if ((n->if_index & 3) == 0) cases.push_back(Case{n->if_index, 2, 1});
            if ((n->if_index & 3) == 2) cases.push_back(Case{n->if_index, 1, 2});
        }
        if_freenameindex(names);
    }
    for (const Case& c : cases) {
        const std::uint32_t zero = 0;
        std::memset(bss->lookup(&zero), 0, bss->spec().value_size);
        TestRunInput in;
        in.data_in = eth_frame(60, 0x0800);
        xdp_md md{};
        md.data_end = 60;
        md.ingress_ifindex = c.ifindex;
        in.ctx_in.resize(sizeof(md));
        std::memcpy(in.ctx_in.data(), &md, sizeof(md));
        auto out = test_run(*dispatcher, in);
        ASSERT_TRUE(out) << out.error().to_string();
        EXPECT_EQ(out->retval, c.retval) << "ifindex " << c.ifindex;
        EXPECT_EQ(value_at<std::uint32_t>(*bss, 0), c.stage) << "ifindex " << c.ifindex;
    }
}

std::vector<std::uint8_t> ipv4_frame(std::uint8_t proto, std::uint16_t dport, std::size_t size = 64,
                                     bool vlan = false) {
    std::vector<std::uint8_t> f(size, 0);
    std::size_t l3 = 14;
    if (vlan) {
        f[12] = 0x81;
        f[13] = 0x00;
        f[16] = 0x08;
        f[17] = 0x00;
        l3 = 18;
    } else {
        f[12] = 0x08;
        f[13] = 0x00;
    }
    f[l3] = 0x45;  // version 4, ihl 5
    f[l3 + 9] = proto;
    f[l3 + 20 + 2] = static_cast<std::uint8_t>(dport >> 8);
    f[l3 + 20 + 3] = static_cast<std::uint8_t>(dport);
    return f;
}

TEST(VmObject, XdpParserCountsAndDrops) {
    XBPF_LOAD_OBJECT(obj, "xdp_parser", test_helpers());
    const LoadedProgram* prog = obj.program("xdp_parse");
    ASSERT_NE(prog, nullptr);
    struct Case {
        const char* what;
        std::vector<std::uint8_t> frame;
        std::uint64_t retval;
    };
    std::vector<Case> cases = {
        {"udp to port 9 is dropped", ipv4_frame(17, 9), 1},
        {"udp to port 53 passes", ipv4_frame(17, 53), 2},
        {"tcp passes", ipv4_frame(6, 9), 2},
        {"vlan-tagged udp to port 9 is dropped", ipv4_frame(17, 9, 64, true), 1},
        {"arp passes uncounted", eth_frame(60, 0x0806), 2},
        {"truncated ipv4 is dropped", eth_frame(20, 0x0800), 1},
        {"udp without room for its header is dropped", ipv4_frame(17, 9, 14 + 20 + 4), 1},
    };
    for (const Case& c : cases) {
        TestRunInput in;
        in.data_in = c.frame;
        auto out = test_run(*prog, in);
        ASSERT_TRUE(out) << c.what << ": " << out.error().to_string();
        EXPECT_EQ(out->retval, c.retval) << c.what;
        EXPECT_EQ(out->data_out, c.frame) << c.what;
    }
    // proto_count: udp (17) counted 4 times, tcp (6) once.
    auto counts = obj.map("proto_count");
    ASSERT_NE(counts, nullptr);
    std::uint64_t n = 0;
    std::uint32_t key = 17;
    ASSERT_EQ(counts->lookup_copy(&key, &n), 0);
    EXPECT_EQ(n, 4u);
    key = 6;
    ASSERT_EQ(counts->lookup_copy(&key, &n), 0);
    EXPECT_EQ(n, 1u);
}

TEST(VmObject, KernelSymbolsAreRefusedClearly) {
    XBPF_LOAD_PROGRAM(spec, "externs");
    auto obj = Object::load(spec);
    ASSERT_FALSE(obj);
    EXPECT_NE(obj.error().message.find("use_externs"), std::string::npos) << obj.error().message;
    EXPECT_NE(obj.error().message.find("__ksym"), std::string::npos) << obj.error().message;
}

TEST(VmObject, KconfigMapHoldsTheKernelVersion) {
    XBPF_LOAD_PROGRAM(spec, "externs");
    // Without the program (which needs kernel symbols), the maps alone load and .kconfig is filled in.
    object::ObjectSpec maps_only = spec;
    maps_only.programs.clear();
    auto obj = Object::load(maps_only);
    ASSERT_TRUE(obj) << obj.error().to_string();
    std::shared_ptr<maps::Map> kconfig;
    for (std::size_t i = 0; i < maps_only.maps.size(); ++i)
        if (maps_only.map_info[i].origin == object::MapOrigin::Kconfig) kconfig = (*obj)->maps()[i];
    ASSERT_NE(kconfig, nullptr);
    EXPECT_TRUE(kconfig->frozen());
    for (const object::ExternSpec& ext : maps_only.externs) {
        if (ext.name != "LINUX_KERNEL_VERSION") continue;
        EXPECT_GT(value_at<std::uint32_t>(*kconfig, ext.offset), 0x050000u);
    }
}

}  // namespace
}  // namespace xbpf::vm
