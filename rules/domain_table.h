#pragma once
// Open-addressing hash table of domain names for the rule snapshot.
//
// Design (ARCHITECTURE.md "Matching strategy"): a lookup walks the query name label by label
// from the right (for a.b.example.com it probes com, example.com, b.example.com,
// a.b.example.com), one probe per label. There are no per-entry heap strings: every name
// lives in one byte arena and a 32-byte slot holds hash tag, arena offset, length, flavour
// flags, a rule index and, for names of up to 16 bytes (most listed names), the name
// itself, so that a hit is confirmed without a second cache miss into the arena.
//
// The hash is built label by label from the right (each label read 8 bytes at a time and
// folded into the running state with one 64x64->128 multiply for labels of up to 16
// bytes), so one right-to-left pass over the query yields the hash of every suffix.
// Beside the slots sits a one-byte control array (as in Abseil's SwissTable): 0 for empty,
// else 8 hash bits. Probing compares a group of 16 control bytes at once (SSE2), and the
// table can be 70% full; its size need not be a power of two (multiply-shift).
//
// At a million names the control array (1.4 MiB) and the slots no longer stay in the L2
// cache, and a lookup would pay a cache miss per unlisted suffix and two dependent misses
// (control bytes, then slot) per listed one. Two things hide most of that:
// - seal() builds a Bloom filter with one 64-bit word per name (8 bits per name, 4 bits
//   per key, ~3.3% false positives; 1 MiB at 1M names, small enough to stay in L2), so most
//   unlisted suffixes stop there;
// - a name takes its preferred slot in its group (prefOf) when free, and the lookup
//   prefetches that slot together with the control bytes, so a listed name usually costs
//   one miss instead of two.
//
// Measured (bench_rules lookup: random names with ~15% near hits and ~20% listed, medians of
// 1000-query batches, this 2-CPU VM; same binary, filter on/off): the old linear-probing
// table with a byte-by-byte label walk took 94 ns at 1K names and 112-117 ns at 1M. Group
// probing, the word-wise walk and names kept in the slot brought that to 53-57 ns and
// 78-82 ns; the filter and the preferred slot bring it to 50-52 ns and 71-72 ns (1.39-1.41x).
//
// One slot per name carries up to six flavours: exact (=name), subdomains-only (*.name),
// domain (name and subdomains), each as a block rule or as an exception.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/huge_page_allocator.h"
#include "rules/normalize.h"
#include "rules/serial.h"

namespace cordon::rules {

inline constexpr uint32_t kNoRule = UINT32_MAX;

// The flavour of a name entry; exception flavours are kExceptionBase + flavour.
enum Flavour : uint8_t {
  kFlavourExact = 0,       // =name
  kFlavourSubdomains = 1,  // *.name
  kFlavourDomain = 2,      // name
  kExceptionBase = 3,
  kFlavourCount = 6,
};

class DomainTable {
 public:
  struct Slot {
    uint32_t tag = 0;       // low 32 bits of the name hash (also picks the home slot)
    uint32_t name_off = 0;  // offset of the name in the arena
    uint32_t value = 0;     // rule index (one flavour) or index into multi_ (several)
    uint8_t name_len = 0;
    uint8_t flags = 0;  // bit f set: flavour f present; 0 = empty slot
    uint16_t pad = 0;
    char inl[16] = {};  // the name itself when it fits (name_len <= 16)
  };
  static_assert(sizeof(Slot) == 32);

  // A suffix of the query name that is in the table.
  struct SuffixHit {
    const Slot* slot;
    uint16_t name_len;  // length of the suffix; == query length for the name itself
  };
  // Most labels a name of kMaxHostLen bytes can have ("a.b.c...").
  static constexpr size_t kMaxLabels = (kMaxHostLen + 1) / 2;
  // Control bytes are compared 16 at a time (one SSE2 compare); a probe moves group by group.
  static constexpr size_t kGroup = 16;
  // Most names per slot before the table grows: kLoadNum / kLoadDen.
  static constexpr size_t kLoadNum = 7;
  static constexpr size_t kLoadDen = 10;

  DomainTable();

  // Build side (control plane; may allocate, not thread-safe).
  void reserve(size_t names);
  // The rule stored for (name, flavour), creating the name if needed; *ref is kNoRule when
  // the flavour is new. `name` must be normalised and at most kMaxHostLen bytes.
  // *name_off (may be nullptr) receives the name's offset in arena().
  uint32_t* ruleRef(std::string_view name, Flavour flavour, uint32_t* name_off = nullptr);

  // Builds the membership filter over every name (call after the last ruleRef(); a later
  // ruleRef() drops it, and lookups then probe every suffix).
  void seal();

  // Lookup side (fast path; no allocation).
  // Fills hits[] (capacity kMaxLabels) with every suffix of `host` on a label boundary that
  // is in the table, shortest first; returns how many.
  size_t findSuffixes(std::string_view host, SuffixHit* hits) const;
  // The slot of exactly this name, or nullptr.
  const Slot* find(std::string_view name) const;
  // The rule of one flavour of a slot, or kNoRule.
  uint32_t rule(const Slot& s, Flavour f) const {
    if (!(s.flags & (1u << f))) return kNoRule;
    if ((s.flags & (s.flags - 1)) == 0) return s.value;  // a single flavour: stored inline
    return multi_[s.value * kFlavourCount + f];
  }

  // The name arena: names of slots, back to back (Slot::name_off).
  std::string_view arena() const { return {arena_.data(), arena_.size()}; }

  // Snapshot file: the occupied slots (without the empty ones) and the arena; read()
  // rebuilds the slot array by rehashing, so the file costs no empty slots. read() checks
  // every offset against the arena and every rule index against `rule_count`.
  void write(ByteWriter* w) const;
  [[nodiscard]] bool read(ByteReader* r, uint32_t rule_count);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t memoryBytes() const {
    return slots_.capacity() * sizeof(Slot) + ctrl_.capacity() + arena_.capacity() +
           multi_.capacity() * sizeof(uint32_t) + filter_.capacity() * sizeof(uint64_t);
  }

  static uint64_t hashName(std::string_view name);

 private:
  void grow();
  // The slot of `name`, or the free slot where it would go.
  size_t probe(uint32_t tag, std::string_view name) const;
  size_t freeSlot(uint32_t tag) const;  // where a name known to be new goes
  static uint8_t ctrlOf(uint32_t tag) {
    const auto c = static_cast<uint8_t>(tag >> 24);
    return c != 0 ? c : 1;
  }
  // The first slot of the tag's home group: the low 24 bits of the tag scaled to the group
  // count (Lemire's multiply-shift); the control byte uses the other 8 bits.
  static constexpr size_t kMaxGroups = size_t{1} << 24;
  // The slot of its group a name prefers (from the control-byte bits, which are independent
  // of the group): lookups prefetch it together with the group's control bytes.
  static unsigned prefOf(uint32_t tag) { return (tag >> 24) & (kGroup - 1); }
  size_t homeGroup(uint32_t tag) const {
    return static_cast<size_t>((uint64_t{tag & 0xffffffu} * groups_) >> 24) * kGroup;
  }

  std::vector<uint8_t, HugePageAllocator<uint8_t>> ctrl_;  // per slot: 0 empty, else ctrlOf
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::vector<char, HugePageAllocator<char>> arena_;
  std::vector<uint32_t> multi_;  // kFlavourCount rule indices per multi-flavour name
  // A Bloom filter with one 64-bit word per name hash (kFilterHashes bits set in it),
  // kFilterBitsPerName bits per name: small enough to stay in the L2 cache at 1M names, so
  // most unlisted suffixes are rejected without a cache miss on ctrl_. Empty until seal().
  static constexpr size_t kFilterBitsPerName = 8;
  static constexpr unsigned kFilterHashes = 4;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> filter_;
  // Keyed by the 32-bit tag (mixed), so seal() needs no name bytes: names that share a
  // tag share their filter bits, which costs nothing, since probe() would compare them anyway.
  bool mayContain(uint32_t tag) const {
    if (filter_.empty()) return true;
    const uint64_t x = filterKey(tag);
    const uint64_t want = filterBits(x);
    return (filter_[filterWord(x)] & want) == want;
  }
  static uint64_t filterKey(uint32_t tag) { return uint64_t{tag} * 0x9e3779b97f4a7c15ull; }
  size_t filterWord(uint64_t x) const {
    return static_cast<size_t>(((x >> 32) * filter_.size()) >> 32);
  }
  static uint64_t filterBits(uint64_t x) {
    const uint64_t y = x * 0xbf58476d1ce4e5b9ull;
    uint64_t bits = 0;
    for (unsigned i = 0; i < kFilterHashes; ++i) bits |= uint64_t{1} << ((y >> (58 - 6 * i)) & 63);
    return bits;
  }
  size_t groups_ = 0;  // slots_.size() / kGroup
  size_t size_ = 0;
};

}  // namespace cordon::rules
