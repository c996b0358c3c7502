#include <algorithm>
#include <cstdio>

#include "helpers/helper.hpp"

namespace xbpf::helpers {

void HelperTable::add(Helper helper) {
    auto it = std::lower_bound(helpers_.begin(), helpers_.end(), helper.id,
                               [](const Helper& h, std::int32_t id) { return h.id < id; });
    if (it != helpers_.end() && it->id == helper.id)
        *it = std::move(helper);
    else
        helpers_.insert(it, std::move(helper));
}

const Helper* HelperTable::find(std::int32_t id) const {
    auto it = std::lower_bound(helpers_.begin(), helpers_.end(), id,
                               [](const Helper& h, std::int32_t i) { return h.id < i; });
    return it != helpers_.end() && it->id == id ? &*it : nullptr;
}

const Helper* HelperTable::find(std::string_view name) const {
    if (name.starts_with("bpf_")) name.remove_prefix(4);
    for (const Helper& h : helpers_) {
        std::string_view n = h.name;
        if (n.starts_with("bpf_")) n.remove_prefix(4);
        if (n == name) return &h;
    }
    return nullptr;
}

const Environment& default_environment() {
    static const Environment env = [] {
        Environment e;
        e.trace = [](std::string_view message) {
            std::fwrite(message.data(), 1, message.size(), stderr);
            if (message.empty() || message.back() != '\n') std::fputc('\n', stderr);
        };
        return e;
    }();
    return env;
}

}  // namespace xbpf::helpers
