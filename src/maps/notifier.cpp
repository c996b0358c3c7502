#include "maps/notifier.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace xbpf::maps {

Notifier::~Notifier() {
    if (event_fd_ >= 0) ::close(event_fd_);
}

int Notifier::init() {
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return event_fd_ < 0 ? -errno : 0;
}

void Notifier::signal() {
    if (!signaled_.exchange(true, std::memory_order_acq_rel)) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof one);
    }
    std::shared_ptr<const std::function<void()>> cb;
    {
        std::lock_guard lock(callback_mu_);
        cb = callback_;
    }
    if (cb && *cb) (*cb)();
}

void Notifier::set_callback(std::function<void()> fn) {
    auto cb = std::make_shared<const std::function<void()>>(std::move(fn));
    std::lock_guard lock(callback_mu_);
    callback_ = std::move(cb);
}

void Notifier::arm() {
    signaled_.store(false, std::memory_order_seq_cst);
    std::uint64_t drained;
    while (::read(event_fd_, &drained, sizeof drained) > 0) {
    }
}

int Notifier::wait(int timeout_ms) {
    pollfd pfd{event_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) < 0) return errno == EINTR ? 0 : -errno;
    return 0;
}

}  // namespace xbpf::maps
