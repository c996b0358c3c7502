#include "maps/memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace xbpf::maps {

std::size_t page_size() {
    static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return p;
}

MapMemory MapMemory::allocate(std::size_t bytes) {
    MapMemory m;
    const std::size_t page = page_size();
    if (bytes > SIZE_MAX - page) return m;
    const std::size_t size = bytes == 0 ? page : (bytes + page - 1) / page * page;
    // No MAP_NORESERVE: the kernel's overcommit heuristic then refuses absurd sizes here (-ENOMEM), instead of
    // the process dying when the pages are touched.
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return m;
    m.data_ = static_cast<std::byte*>(p);
    m.size_ = size;
    return m;
}

MapMemory& MapMemory::operator=(MapMemory&& o) noexcept {
    if (this != &o) {
        if (data_) ::munmap(data_, size_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

MapMemory::~MapMemory() {
    if (data_) ::munmap(data_, size_);
}

}  // namespace xbpf::maps
