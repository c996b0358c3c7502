#include "object/embedded.hpp"

#include <algorithm>
#include <cstring>

namespace xbpf::object {

namespace {

constexpr std::size_t kEhdrSize = 64;
constexpr std::size_t kShdrSize = 64;
constexpr std::uint16_t kEmBpf = 247;
constexpr std::uint32_t kShtNobits = 8;

template <class T>
T load(std::span<const std::uint8_t> bytes, std::size_t offset) {
    T v{};
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

}  // namespace

std::vector<EmbeddedObject> find_embedded_objects(std::span<const std::uint8_t> bytes) {
    static constexpr std::uint8_t kMagic[] = {0x7f, 'E', 'L', 'F'};
    std::vector<EmbeddedObject> out;
    auto it = bytes.begin();
    while (true) {
        it = std::search(it, bytes.end(), std::begin(kMagic), std::end(kMagic));
        if (it == bytes.end()) break;
        const auto start = static_cast<std::size_t>(it - bytes.begin());
        ++it;
        const auto image = bytes.subspan(start);
        if (image.size() < kEhdrSize) continue;
        if (image[4] != 2 || image[5] != 1) continue;  // ELFCLASS64, ELFDATA2LSB
        if (load<std::uint16_t>(image, 18) != kEmBpf) continue;
        const auto shoff = load<std::uint64_t>(image, 0x28);
        const auto shentsize = load<std::uint16_t>(image, 0x3a);
        const auto shnum = load<std::uint16_t>(image, 0x3c);
        if (shentsize != kShdrSize || shnum == 0 || shoff > image.size() ||
            static_cast<std::uint64_t>(shnum) * kShdrSize > image.size() - shoff)
            continue;
        std::uint64_t end = shoff + static_cast<std::uint64_t>(shnum) * kShdrSize;
        bool ok = true;
        for (std::uint16_t i = 1; i < shnum && ok; ++i) {
            const std::size_t sh = shoff + static_cast<std::size_t>(i) * kShdrSize;
            if (load<std::uint32_t>(image, sh + 4) == kShtNobits) continue;
            const auto offset = load<std::uint64_t>(image, sh + 0x18);
            const auto size = load<std::uint64_t>(image, sh + 0x20);
            if (offset > image.size() || size > image.size() - offset) ok = false;
            end = std::max(end, offset + size);
        }
        if (!ok) continue;
        out.push_back({start, static_cast<std::size_t>(end)});
        it = bytes.begin() + static_cast<std::ptrdiff_t>(start + end);
    }
    return out;
}

}  // namespace xbpf::object
