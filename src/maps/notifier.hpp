// Wake-ups of the output maps (ringbuf, perf_event_array): an eventfd a consumer can poll, a flag so that a burst
// of records signals once until the consumer re-arms, and an optional callback for in-process consumers.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace xbpf::maps {

/// One consumer-facing wake-up channel. Thread-safe: producers call signal() from any thread.
class Notifier {
  public:
    Notifier() = default;
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;
    ~Notifier();

    /// Creates the eventfd: 0 or a negative errno.
    int init();
    /// The eventfd (readable after a signal), or -1 before init().
    [[nodiscard]] int fd() const { return event_fd_; }
    /// Wakes the consumer: the first signal since the last arm() writes the eventfd; the callback runs every time.
    void signal();
    /// Replaces the callback signal() runs (outside any lock; may be empty).
    void set_callback(std::function<void()> fn);

    /// The consumer's wait, as poll(2) on the map: consume(); if it found nothing, arm, consume again (a signal that
    /// raced with the first pass is not lost), wait up to timeout_ms for a signal and consume once more. Returns
    /// what the last consume returned, or a negative errno from poll (EINTR counts as nothing consumed).
    template <class Consume>
    int poll(Consume&& consume, int timeout_ms) {
        if (const int n = consume(); n != 0) return n;
        arm();
        if (const int n = consume(); n != 0) return n;
        if (const int err = wait(timeout_ms); err < 0) return err;
        return consume();
    }

  private:
    void arm();
    int wait(int timeout_ms);

    int event_fd_ = -1;
    alignas(64) std::atomic<bool> signaled_{false};
    std::mutex callback_mu_;
    std::shared_ptr<const std::function<void()>> callback_;  // read under callback_mu_, called outside it
};

}  // namespace xbpf::maps
