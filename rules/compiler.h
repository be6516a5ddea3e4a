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

inline constexpr size_t kRuleKindCount = 7;

// Short name of a rule kind: "domain", "exact", "subdomains", "url-prefix", "re", "url-re",
// "ip".
std::string_view ruleKindName(RuleKind kind);

struct CompileStats {
  std::array<size_t, kRuleKindCount> by_kind = {};  // indexed by RuleKind (incl. exceptions)
  size_t exceptions = 0;                            // "@@" rules among them
  size_t rules = 0;
  size_t lists = 0;
};

// compileSnapshot() that also reports per-kind counts in *stats (may be nullptr).
std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors,
                                                CompileStats* stats);

}  // namespace cordon::rules
