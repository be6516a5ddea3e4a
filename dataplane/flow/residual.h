#pragma once
// Residual blocking (actions.residual, off by default): after cordon blocks a TLS, HTTP or
// QUIC connection, the (client IP, server IP, server port, protocol) tuple stays blocked for
// a configured time, so new connections from that client to that service are refused without
// inspection (the client cannot retry its way past a block with another ClientHello shape).
// DNS is never residual-blocked: the tuple would be the client's resolver. FRAGMENTS.md
// ("Residual blocking") has the semantics.
//
// A fixed-capacity per-worker table (no allocation after construction); when full, the entry
// blocked longest ago is evicted (counted by the worker). No DPDK dependency.

#include <cstdint>
#include <vector>

#include "rules/ip_addr.h"

namespace cordon {

// Tuples remembered per worker: a worker blocks at most a few thousand connections a
// minute in a heavy enforcement scenario; 16384 keeps several minutes of them (~1.3 MiB).
inline constexpr uint32_t kResidualEntries = 16384;

struct ResidualKey {
  uint8_t client[16];
  uint8_t server[16];
  uint16_t port;
  uint8_t proto;
  uint8_t family;
};
static_assert(sizeof(ResidualKey) == 36);

ResidualKey makeResidualKey(const IpAddr& client, const IpAddr& server, uint16_t server_port,
                            uint8_t proto);

class ResidualTable {
 public:
  explicit ResidualTable(uint32_t capacity);

  // Remembers k until until_ns (a refresh moves it to the newest end). Returns true when the
  // oldest entry had to be evicted to make room.
  bool add(const ResidualKey& k, uint64_t until_ns);
  // True while k is blocked at now_ns; an expired entry is removed.
  bool blocked(const ResidualKey& k, uint64_t now_ns);
  uint32_t size() const { return count_; }

 private:
  struct Entry {
    ResidualKey key;
    uint64_t until_ns = 0;
    int32_t hnext = -1;
    int32_t prev = -1;  // age list, oldest first
    int32_t next = -1;
    bool used = false;
  };
  uint32_t bucketOf(const ResidualKey& k) const;
  int32_t find(const ResidualKey& k) const;
  void unlinkAge(int32_t idx);
  void linkTail(int32_t idx);
  void remove(int32_t idx);

  std::vector<Entry> e_;
  std::vector<int32_t> buckets_;
  std::vector<int32_t> free_;
  int32_t head_ = -1;
  int32_t tail_ = -1;
  uint32_t count_ = 0;
};

}  // namespace cordon
