#pragma once
// The Hyperscan block-mode databases of one set of regex rules (re: over the host, or
// url-re: over "host/path?query"). Patterns are compiled with HS_FLAG_SINGLEMATCH: a rule
// is reported at most once per scan.
//
// Compiling 10K regexes costs several milliseconds each in Hyperscan (linear in the
// count), so the set is split into shards of consecutive patterns (add() order, i.e. rule
// order) that are compiled concurrently, one thread per shard (shard count: hardware
// threads, at most kMaxShards, at least kMinShardPatterns patterns each). A scan runs the
// shards in order. Precedence does not depend on the sharding: the matching exception of
// lowest add() index decides, else the matching block of lowest add() index (so a scan
// stops after the first shard with an exception, or, in a set without exceptions, after
// the first shard with a hit).

#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/domain_table.h"
#include "rules/serial.h"

namespace cordon::rules {

// A compiled Hyperscan database shared between snapshots (hs_database_t is immutable and
// may be scanned concurrently, each caller with its own scratch).
using HsDatabase = std::shared_ptr<const hs_database_t>;
HsDatabase makeHsDatabase(hs_database_t* db);

// The compiled shards of one pattern set: shard k holds add() indices
// [begin[k], begin[k+1]); begin has dbs.size() + 1 entries.
struct HsShards {
  std::vector<HsDatabase> dbs;
  std::vector<uint32_t> begin;
};
using HsShardsPtr = std::shared_ptr<const HsShards>;

// Compiled pattern sets keyed by the SHA-256 of their expressions and flags, so a reload
// whose regexes did not change reuses the databases instead of compiling them again (10K
// regexes take tens of seconds). Thread-safe. Keeps the `capacity` most recently used sets.
class PatternCache {
 public:
  explicit PatternCache(size_t capacity = 8);
  HsShardsPtr find(const std::string& key);
  void put(const std::string& key, HsShardsPtr shards);
  size_t hits() const;
  size_t misses() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  size_t capacity_;
};

class PatternSet {
 public:
  PatternSet() = default;
  ~PatternSet();
  PatternSet(const PatternSet&) = delete;
  PatternSet& operator=(const PatternSet&) = delete;

  // Build side. `flags` are Hyperscan compile flags (HS_FLAG_SINGLEMATCH is added).
  void add(std::string regex, unsigned flags, uint32_t rule, bool exception);
  // Compiles the database. On failure returns false and sets *bad_index to the add() order
  // index of the offending pattern (-1 when no single pattern is to blame) and *message.
  // With a cache, a database compiled before from the very same expressions is reused
  // (*reused set to true).
  bool compile(int* bad_index, std::string* message, PatternCache* cache = nullptr,
               bool* reused = nullptr);

  // Most shards a set is split into, and the fewest patterns per shard.
  static constexpr size_t kMaxShards = 8;
  static constexpr size_t kMinShardPatterns = 4000;
  // Shards compile() uses for `patterns` patterns on `threads` hardware threads.
  static size_t shardCount(size_t patterns, size_t threads);
  // Forces compile() to use `k` shards (at most one per pattern); 0: shardCount(). Tests.
  void setShardCount(size_t k) { forced_shards_ = k; }

  // Fast path. Scans `text`; sets *exception to the matching exception of lowest add()
  // index, else *block to the matching block of lowest add() index (each left alone when
  // none matches). `scratch` must come from allocScratch().
  void scan(std::string_view text, hs_scratch_t* scratch, uint32_t* block,
            uint32_t* exception) const;

  // Grows *scratch (may be nullptr) to fit this database. Control plane only.
  bool allocScratch(hs_scratch_t** scratch) const;

  bool empty() const { return rules_.empty(); }
  size_t size() const { return rules_.size(); }
  bool hasExceptions() const { return has_exceptions_; }
  size_t shards() const { return shards_ == nullptr ? 0 : shards_->dbs.size(); }
  // The rule of database id `id` and whether it is an exception (explain, tests).
  uint32_t ruleOf(unsigned id) const { return rules_[id]; }

  // Every pattern of this set that matches `text` (not just the first), as rule indices
  // in add() order.
  // Control plane only (cordonctl check); needs a scratch from allocScratch().
  std::vector<uint32_t> scanAll(std::string_view text, hs_scratch_t* scratch) const;

  // Snapshot file: the rule mapping and each shard via hs_serialize_database; read()
  // deserialises it (no compile) and checks rule indices against `rule_count`.
  bool write(ByteWriter* w, std::string* error) const;
  [[nodiscard]] bool read(ByteReader* r, uint32_t rule_count, std::string* error);

  // Checks one regex alone, as add()+compile() would; "" when Hyperscan accepts it.
  static std::string check(const std::string& regex, unsigned flags);

 private:
  struct ScanState;
  static int onMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                     void* ctx);

  std::vector<std::string> regexes_;
  std::vector<unsigned> flags_;
  std::vector<uint32_t> rules_;
  std::vector<uint8_t> exception_;
  bool has_exceptions_ = false;
  HsShardsPtr shards_;
  size_t forced_shards_ = 0;
};

}  // namespace cordon::rules
