#include "maps/cpu.hpp"

#include <fstream>
#include <string>
#include <thread>

namespace xbpf::maps {
namespace {

/// Parses the kernel's cpulist format ("0-3,8,10-11") and returns highest CPU + 1, or 0 if malformed.
std::uint32_t parse_cpulist(const std::string& text) {
    std::uint32_t highest = 0;
    bool any = false;
    std::size_t i = 0;
    auto number = [&](std::uint32_t& out) {
        if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
        std::uint64_t v = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
            if (v > 65535) return false;
            ++i;
        }
        out = static_cast<std::uint32_t>(v);
        return true;
    };
    while (i < text.size() && text[i] != '\n') {
        std::uint32_t lo = 0, hi = 0;
        if (!number(lo)) return 0;
        hi = lo;
        if (i < text.size() && text[i] == '-') {
            ++i;
            if (!number(hi) || hi < lo) return 0;
        }
        highest = std::max(highest, hi);
        any = true;
        if (i < text.size() && text[i] == ',') ++i;
    }
    return any ? highest + 1 : 0;
}

std::uint32_t detect_possible_cpus() {
    std::ifstream in("/sys/devices/system/cpu/possible");
    std::string line;
    if (in && std::getline(in, line)) {
        if (const std::uint32_t n = parse_cpulist(line); n > 0) return n;
    }
    const unsigned hc = std::thread::hardware_concurrency();
    return hc > 0 ? hc : 1;
}

}  // namespace

std::uint32_t num_possible_cpus() {
    static const std::uint32_t n = detect_possible_cpus();
    return n;
}

CpuScope::CpuScope(std::uint32_t cpu) : saved_(detail::tls_current_cpu) {
    detail::tls_current_cpu = cpu % num_possible_cpus();
}

CpuScope::~CpuScope() { detail::tls_current_cpu = saved_; }

}  // namespace xbpf::maps
