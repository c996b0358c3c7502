#include "helpers/registry.hpp"

#include "helpers/internal.hpp"

namespace xbpf::helpers {

const HelperTable& kernel_helpers() {
    static const HelperTable table = [] {
        HelperTable t;
        detail::register_map_helpers(t);
        detail::register_time_helpers(t);
        detail::register_task_helpers(t);
        detail::register_string_helpers(t);
        detail::register_printk_helpers(t);
        detail::register_probe_helpers(t);
        detail::register_output_helpers(t);
        detail::register_stack_helpers(t);
        detail::register_packet_helpers(t);
        detail::register_checksum_helpers(t);
        return t;
    }();
    return table;
}

}  // namespace xbpf::helpers
