#include "dataplane/flow/reassembly.h"

#include <algorithm>
#include <cstring>

namespace cordon {

ReasmBuffer::Insert ReasmBuffer::insert(int64_t rel, std::span<const uint8_t> bytes) {
  int64_t begin = rel;
  int64_t end = rel + static_cast<int64_t>(bytes.size());
  if (begin < 0) begin = 0;
  if (end > kReasmWindowBytes) end = kReasmWindowBytes;
  if (begin >= end) return Insert::kOutsideWindow;
  // Merge [begin, end) into the sorted, disjoint, non-adjacent range list.
  Range merged{static_cast<uint32_t>(begin), static_cast<uint32_t>(end)};
  Range out[kMaxReasmRanges + 2];
  int n = 0;
  bool placed = false;
  for (int i = 0; i < ranges_; ++i) {
    const Range r = range_[i];
    if (r.end < merged.begin) {
      out[n++] = r;
    } else if (merged.end < r.begin) {
      if (!placed) {
        out[n++] = merged;
        placed = true;
      }
      out[n++] = r;
    } else {
      merged.begin = std::min(merged.begin, r.begin);
      merged.end = std::max(merged.end, r.end);
    }
    if (n > kMaxReasmRanges) return Insert::kTooManyRanges;
  }
  if (!placed) out[n++] = merged;
  if (n > kMaxReasmRanges) return Insert::kTooManyRanges;
  std::memcpy(data_ + begin, bytes.data() + (begin - rel), static_cast<size_t>(end - begin));
  std::copy(out, out + n, range_);
  ranges_ = n;
  return Insert::kAdded;
}

void ReasmBuffer::consume(uint32_t n) {
  int k = 0;
  for (int i = 0; i < ranges_; ++i) {
    Range r = range_[i];
    if (r.end <= n) continue;
    r.begin = r.begin > n ? r.begin - n : 0;
    r.end -= n;
    range_[k++] = r;
  }
  ranges_ = k;
  if (k) {
    const uint32_t last = range_[k - 1].end;
    std::memmove(data_, data_ + n, last);
  }
}

ReasmPool::ReasmPool(uint32_t count) : bufs_(count) {
  free_.reserve(count);
  for (uint32_t i = count; i > 0; --i) free_.push_back(static_cast<int32_t>(i - 1));
}

int32_t ReasmPool::acquire(uint64_t now_ns) {
  if (free_.empty()) return -1;
  const int32_t idx = free_.back();
  free_.pop_back();
  bufs_[static_cast<size_t>(idx)].reset(now_ns);
  return idx;
}

void ReasmPool::release(int32_t idx) {
  if (idx >= 0) free_.push_back(idx);
}

}  // namespace cordon
