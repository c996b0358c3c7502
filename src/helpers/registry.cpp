#include "helpers/registry.hpp"

namespace xbpf::helpers {

const HelperTable& kernel_helpers() {
    static const HelperTable table = [] {
        HelperTable t;
        return t;
    }();
    return table;
}

}  // namespace xbpf::helpers
