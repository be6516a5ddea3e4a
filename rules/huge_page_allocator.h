#pragma once
// A std::allocator replacement for the big lookup arrays of the snapshot (domain slots,
// name arena). Allocations of 2 MiB and more are 2 MiB aligned and marked
// MADV_HUGEPAGE, so a random probe into a table of a million names costs one cache miss
// rather than a cache miss plus a page walk (transparent huge pages in "madvise" mode, the
// Debian default). Smaller ones come from operator new. Control plane only.

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace cordon::rules {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocator rebinding

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure only costs speed
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePage) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace cordon::rules
