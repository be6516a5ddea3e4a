#pragma once
// Per-worker flow table: state for the connections cordon inspects or has blocked.
// Keys are direction-independent (both directions of a connection find the same entry).
// Backed by DPDK rte_hash (cuckoo, preallocated); one writer (the owning worker), no locks.
// State is created only where inspection needs it: a SYN, or a first payload segment that
// looks like a ClientHello, an HTTP request or DNS over TCP; bulk mid-stream traffic of an
// unknown connection makes no entry.

#include <rte_hash.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/parse/packet.h"

namespace cordon {

struct FlowKey {
  uint8_t addr_lo[16];
  uint8_t addr_hi[16];
  uint16_t port_lo;
  uint16_t port_hi;
  uint8_t proto;
  uint8_t family;
  uint8_t pad[2];
};
static_assert(sizeof(FlowKey) == 40);

// Canonical key of a packet's connection; *src_is_lo tells which side sent this packet.
FlowKey makeFlowKey(const PacketInfo& p, bool* src_is_lo);

enum class FlowState : uint8_t {
  kInspect,  // waiting for / reassembling the client's first flight
  kPassed,   // inspected (or not inspectable): forward without looking
  kBlocked,  // enforcement decided: drop every packet, both directions
};

enum class FlowApp : uint8_t { kUnknown, kTls, kHttp, kDnsTcp, kOther };

struct Flow {
  FlowKey key;
  uint64_t last_ns = 0;
  uint32_t base_seq = 0;   // client sequence number of stream offset 0
  uint32_t msg_start = 0;  // stream offset where the next message to inspect starts
  int32_t reasm = -1;      // ReasmPool index while reassembling
  FlowState state = FlowState::kInspect;
  FlowApp app = FlowApp::kUnknown;
  bool client_is_lo = true;
  bool isn_known = false;  // base_seq came from the client's SYN
  uint8_t fins = 0;        // bit 0: client FIN seen, bit 1: server FIN seen
};

class FlowTable {
 public:
  // Control-time constructor; `name` must be unique per process (rte_hash registry).
  static std::unique_ptr<FlowTable> create(const std::string& name, uint32_t capacity,
                                           int socket_id, std::string* err);
  ~FlowTable();

  hash_sig_t hash(const FlowKey& k) const { return rte_hash_hash(h_, &k); }
  // nullptr when absent.
  Flow* find(const FlowKey& k, hash_sig_t sig);
  // New zeroed entry for k (which must be absent); nullptr when the table is full.
  Flow* insert(const FlowKey& k, hash_sig_t sig);
  void erase(Flow* f);
  // Visits up to `budget` slots from where the last call stopped, erasing flows idle since
  // before `cutoff_ns`; calls on_erase(flow) first. Returns the number erased.
  template <typename F>
  uint32_t age(uint64_t cutoff_ns, uint32_t budget, F on_erase);
  // Approximate LRU (Redis-style sampled eviction): visits up to `slots` slots from a
  // rotating cursor and returns the used flow with the lowest rank(flow), or nullptr when
  // none is eligible (rank returns kNotEvictable). O(slots), no per-packet list upkeep.
  static constexpr uint64_t kNotEvictable = UINT64_MAX;
  template <typename R>
  Flow* sampleVictim(uint32_t slots, R rank);
  uint32_t size() const { return count_; }
  uint32_t capacity() const { return static_cast<uint32_t>(flows_.size()); }

 private:
  FlowTable() = default;
  rte_hash* h_ = nullptr;
  std::vector<Flow> flows_;
  std::vector<uint8_t> used_;
  uint32_t count_ = 0;
  uint32_t age_cursor_ = 0;
  uint32_t evict_cursor_ = 0;
};

template <typename R>
Flow* FlowTable::sampleVictim(uint32_t slots, R rank) {
  Flow* best = nullptr;
  uint64_t best_rank = kNotEvictable;
  const uint32_t n = capacity();
  for (uint32_t i = 0; i < slots && n; ++i) {
    const uint32_t idx = evict_cursor_;
    evict_cursor_ = (evict_cursor_ + 1) % n;
    if (!used_[idx]) continue;
    const uint64_t r = rank(static_cast<const Flow&>(flows_[idx]));
    if (r < best_rank) {
      best_rank = r;
      best = &flows_[idx];
    }
  }
  return best;
}

template <typename F>
uint32_t FlowTable::age(uint64_t cutoff_ns, uint32_t budget, F on_erase) {
  uint32_t erased = 0;
  const uint32_t n = capacity();
  for (uint32_t i = 0; i < budget && n; ++i) {
    const uint32_t idx = age_cursor_;
    age_cursor_ = (age_cursor_ + 1) % n;
    if (used_[idx] && flows_[idx].last_ns < cutoff_ns) {
      on_erase(flows_[idx]);
      erase(&flows_[idx]);
      ++erased;
    }
  }
  return erased;
}

}  // namespace cordon
