// The helpers src/helpers implements, keyed by the kernel's helper ids. The VM adds the helpers that need the engine
// itself (bpf_tail_call, bpf_loop, bpf_for_each_map_elem) on top: vm::standard_helpers().
#pragma once

#include "helpers/helper.hpp"

namespace xbpf::helpers {

/// Every helper implemented in this folder (map access, time, process, strings, output, packets, ...).
const HelperTable& kernel_helpers();

}  // namespace xbpf::helpers
