#pragma once
// Single-producer single-consumer ring of fixed-size records, used to hand events from a
// worker (producer) to the control plane (consumer) without locks or allocation.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cordon {

template <typename T>
class SpscRing {
 public:
  // capacity is rounded up to a power of two; storage is allocated here, at start-up.
  explicit SpscRing(size_t capacity) {
    size_t c = 1;
    while (c < capacity) c <<= 1;
    slots_.resize(c);
    mask_ = c - 1;
  }
  // Producer: a slot to fill, or nullptr when full. Publish with commit().
  T* reserve() {
    const size_t h = head_.load(std::memory_order_relaxed);
    // acquire: the consumer's reads of a slot finish before we overwrite it.
    if (h - tail_.load(std::memory_order_acquire) > mask_) return nullptr;
    return &slots_[h & mask_];
  }
  // release: the slot's contents are visible before the consumer sees the new head.
  void commit() {
    head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Consumer: the oldest record, or nullptr when empty. Release it with pop().
  const T* front() const {
    const size_t t = tail_.load(std::memory_order_relaxed);
    // acquire: pairs with commit()'s release.
    if (t == head_.load(std::memory_order_acquire)) return nullptr;
    return &slots_[t & mask_];
  }
  void pop() { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

 private:
  std::vector<T> slots_;
  size_t mask_ = 0;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

}  // namespace cordon
