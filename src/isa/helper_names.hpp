// The Linux kernel's BPF helper functions by name and id (include/uapi/linux/bpf.h, `___BPF_FUNC_MAPPER`).
// Used by the assembler (`call bpf_map_lookup_elem`) and the disassembler (`call 1` annotated with its name).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace xbpf::isa {

/// Highest helper id the kernel defines (BPF_FUNC_cgrp_storage_delete); the kernel froze the list there.
inline constexpr std::int32_t kMaxHelperId = 211;

/// The kernel id of helper `name`, given with or without the "bpf_" prefix ("map_lookup_elem" or
/// "bpf_map_lookup_elem" -> 1). nullopt for unknown names and for "unspec" (id 0, not a callable helper).
std::optional<std::int32_t> helper_id(std::string_view name);

/// The kernel name of helper `id` without the "bpf_" prefix (1 -> "map_lookup_elem"); "" when unknown.
std::string_view helper_name(std::int32_t id);

}  // namespace xbpf::isa
