#pragma once
// Bounded reassembly of a client's first flight (a ClientHello, an HTTP request head, a DNS
// message over TCP) when it spans several segments, arrives out of order or retransmitted.
//
// A ReasmBuffer holds the bytes of stream offsets [0, kReasmWindowBytes) relative to the
// start of the message being inspected, with the ranges received so far. Buffers come from
// a per-worker pool sized at start-up; nothing is allocated per packet.

#include <cstdint>
#include <span>
#include <vector>

namespace cordon {

// Window of stream bytes buffered per flow: the largest ClientHello cordon inspects (16 KiB,
// tls::kMaxClientHelloBytes) plus the headers of the TLS records it may be split into.
inline constexpr uint32_t kReasmWindowBytes = 16384 + 4096;
// Distinct received ranges tracked; a stream with more holes than this is abandoned (a
// legitimate client sends a handful of segments; thousands of slivers are an evasion).
inline constexpr int kMaxReasmRanges = 16;
// How long a flow may take to deliver its first flight before cordon stops waiting and
// lets it pass (fail-open); a client that stalls this long is not a browser.
inline constexpr uint64_t kReassemblyTimeoutNs = 10'000'000'000ull;

class ReasmBuffer {
 public:
  enum class Insert : uint8_t { kAdded, kOutsideWindow, kTooManyRanges };

  void reset(uint64_t now_ns) {
    ranges_ = 0;
    started_ns_ = now_ns;
  }
  // Stores `bytes` at relative offset `rel` (may be negative: the part before 0 is
  // dropped; the part past the window is dropped). Later copies of a byte overwrite earlier.
  Insert insert(int64_t rel, std::span<const uint8_t> bytes);
  // Length of the contiguous prefix received from offset 0.
  uint32_t contiguous() const { return ranges_ && range_[0].begin == 0 ? range_[0].end : 0; }
  std::span<const uint8_t> prefix() const { return {data_, contiguous()}; }
  // Drops the first n bytes and shifts the rest down (the next message starts at 0).
  void consume(uint32_t n);
  bool empty() const { return ranges_ == 0; }
  uint64_t startedNs() const { return started_ns_; }

 private:
  struct Range {
    uint32_t begin;
    uint32_t end;
  };
  uint64_t started_ns_ = 0;
  int ranges_ = 0;
  Range range_[kMaxReasmRanges];
  uint8_t data_[kReasmWindowBytes];
};

// Fixed pool of buffers, handed out by index.
class ReasmPool {
 public:
  explicit ReasmPool(uint32_t count);
  // -1 when the pool is exhausted.
  int32_t acquire(uint64_t now_ns);
  void release(int32_t idx);
  ReasmBuffer& at(int32_t idx) { return bufs_[static_cast<size_t>(idx)]; }
  uint32_t inUse() const { return static_cast<uint32_t>(bufs_.size() - free_.size()); }

 private:
  std::vector<ReasmBuffer> bufs_;
  std::vector<int32_t> free_;
};

}  // namespace cordon
