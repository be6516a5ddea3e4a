#pragma once
// Longest-prefix match of destination addresses against IP/CIDR rules, IPv4 and IPv6.
//
// Why not rte_lpm/rte_lpm6: the snapshot is built and checked by cordonctl, which runs
// without a DPDK EAL (no hugepages, no rte_malloc), and the snapshot will be serialised
// later, which wants plain position-independent arrays rather than DPDK-owned memory.
//
// Structure: one open-addressing hash table per family keyed by (prefix length, masked
// address). A lookup probes only the prefix lengths that are present, longest first, so
// a typical list (a handful of distinct lengths) costs a handful of probes. Each entry
// holds a block rule and an exception rule; an exception at any length wins over every
// block (see the precedence note in rules/snapshot.cc), so once a block is found the walk
// continues only over lengths that hold exceptions.

#include <cstdint>
#include <vector>

#include "rules/domain_table.h"
#include "rules/ip_addr.h"
#include "rules/serial.h"

namespace cordon::rules {

class IpLpm {
 public:
  // Build side. The rule stored for (prefix, exception) — kNoRule when new. Host bits of
  // `net` beyond `len` are cleared. len <= 32 (v4) or 128 (v6).
  uint32_t* ruleRef(const IpAddr& net, unsigned len, bool exception);

  // Fast path: the deciding rule for `a` (an exception if any matches, else the longest
  // block), or kNoRule. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) that no IPv6 rule
  // covers is looked up as IPv4.
  uint32_t lookup(const IpAddr& a) const;

  // Every rule (exceptions and blocks) whose prefix covers `a`, longest prefix first
  // (cordonctl check).
  std::vector<uint32_t> lookupAll(const IpAddr& a) const;

  // Snapshot file; read() checks the table shape and rule indices against `rule_count`.
  void write(ByteWriter* w) const;
  [[nodiscard]] bool read(ByteReader* r, uint32_t rule_count);

  bool empty() const { return v4_.count == 0 && v6_.count == 0; }
  size_t size() const { return v4_.count + v6_.count; }

 private:
  struct Entry {
    uint8_t addr[16];
    uint8_t len;
    uint8_t used;
    uint16_t pad;
    uint32_t block;
    uint32_t exception;
  };
  struct Family {
    std::vector<Entry> slots;
    size_t mask = 0;
    size_t count = 0;
    uint8_t lengths[129];  // present prefix lengths, longest first
    size_t num_lengths = 0;
    bool length_has_exception[129] = {};
    int shortest_exception = -1;  // shortest length holding an exception, or -1
  };

  static uint64_t hashKey(const uint8_t* addr, unsigned len);
  static void maskTo(const uint8_t* in, unsigned len, uint8_t* out);
  static uint32_t lookupIn(const Family& f, const uint8_t* addr);
  static const Entry* findEntry(const Family& f, const uint8_t* masked, unsigned len);
  static void grow(Family* f);

  Family v4_;
  Family v6_;
};

}  // namespace cordon::rules
