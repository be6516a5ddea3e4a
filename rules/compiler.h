#pragma once
// Extensions of the rule compiler beyond the snapshot contract (rules/snapshot.h), for
// tools such as `cordonctl compile` that report what a snapshot holds.

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/snapshot.h"

namespace cordon::rules {

class PatternCache;

inline constexpr size_t kRuleKindCount = 7;

// Short name of a rule kind: "domain", "exact", "subdomains", "url-prefix", "re", "url-re",
// "ip".
std::string_view ruleKindName(RuleKind kind);

// An invalid list stops being reported after this many errors ("... and N more").
inline constexpr size_t kMaxErrorsPerList = 100;
// Likewise for warnings (skipped syntax, duplicates).
inline constexpr size_t kMaxWarningsPerList = 100;

struct CompileStats {
  std::array<size_t, kRuleKindCount> by_kind = {};  // indexed by RuleKind (incl. exceptions)
  size_t exceptions = 0;                            // "@@" rules among them
  size_t rules = 0;
  size_t lists = 0;
  size_t inactive = 0;         // rules outside their validity window at `now` (not matched)
  size_t duplicates = 0;       // repeated rules within one list (the first one kept)
  size_t skipped = 0;          // invalid entries skipped by lists with strict: false
  size_t warnings_total = 0;   // warnings, including those not kept in `warnings`
  size_t patterns_reused = 0;  // Hyperscan databases taken from the PatternCache (0-2)
  // Wall time of the compile phases (benchmarks): reading and parsing the lists including
  // the domain-table inserts, the Hyperscan compile of the re: and url-re: sets, grouping
  // the URL prefixes, and materialising the rule table.
  double parse_ms = 0;
  double host_re_ms = 0;
  double url_re_ms = 0;
  double url_prefix_ms = 0;
  double materialise_ms = 0;
  std::vector<std::string> warnings;                        // "file:line: reason"
  std::vector<std::pair<std::string, ListFormat>> formats;  // list name, format read
};

struct CompileOptions {
  // The time the snapshot is compiled for (Unix seconds): entries whose validity window
  // does not contain it are inactive. kNoTimeBound: the current time.
  int64_t now = kNoTimeBound;
  // Reuse of compiled Hyperscan databases across compiles (rules/pattern_set.h).
  PatternCache* cache = nullptr;
  // Shards per regex set (rules/pattern_set.h); 0: by the set's share of the hardware
  // threads, bounded. The re: and url-re: sets compile concurrently unless
  // serial_patterns is set.
  size_t pattern_shards = 0;
  bool serial_patterns = false;
};

// compileSnapshot() that also reports per-kind counts in *stats (may be nullptr).
std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors,
                                                CompileStats* stats);
std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors,
                                                CompileStats* stats, const CompileOptions& options);

// Writes a compiled snapshot to `path` (atomically: a temporary file renamed over it). The
// file layout is described in rules/PRECEDENCE.md ("Snapshot files"). False with *error on failure,
// or when `snap` was not made by compileSnapshot()/loadSnapshot().
bool saveSnapshot(const Snapshot& snap, const std::string& path, std::string* error);

// Bytes a snapshot takes in memory (lookup structures, rule table, text) — for benchmarks.
size_t snapshotMemoryBytes(const Snapshot& snap);

// `cordonctl check`: every rule that matches a query, and why it did not decide.
struct Candidate {
  const Rule* rule = nullptr;
  std::string lost_because;  // empty for the deciding rule
};
struct Explanation {
  Match decision;                     // what matchHost/matchUrl/matchIp return
  std::vector<Candidate> candidates;  // the decider first, then the others
};
// `host` and `path_query` normalised as for matchHost()/matchUrl(). Control plane only.
Explanation explainHost(const Snapshot& snap, std::string_view host);
Explanation explainUrl(const Snapshot& snap, std::string_view host, std::string_view path_query);
Explanation explainIp(const Snapshot& snap, const IpAddr& addr);

}  // namespace cordon::rules
