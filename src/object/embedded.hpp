// Finding BPF ELF objects embedded in other files, such as the skeletons (bpftool gen skeleton) that libbpf-based
// tools compile into their binaries as a byte array.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace xbpf::object {

/// One embedded object: where it starts in the enclosing file and how long it is.
struct EmbeddedObject {
    std::size_t offset = 0;
    std::size_t size = 0;

    friend bool operator==(const EmbeddedObject&, const EmbeddedObject&) = default;
};

/// Every 64-bit little-endian ELF image with e_machine == EM_BPF inside `bytes`, found by scanning for "\x7fELF".
/// An image's size is the end of its section header table or of its furthest section, whichever is larger; images
/// whose headers point outside `bytes` are skipped. Reads only inside `bytes`.
std::vector<EmbeddedObject> find_embedded_objects(std::span<const std::uint8_t> bytes);

}  // namespace xbpf::object
