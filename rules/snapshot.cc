// The compiled rule snapshot and the list compiler.
//
// Precedence (one lookup, one deciding rule) is documented in rules/PRECEDENCE.md:
// exception > URL prefix (HTTP) > exact > longer suffix > shorter suffix > pattern; the
// deciding rule's list action applies. Entries outside their validity window are compiled
// into the rule table (so `cordonctl check` can name them) but not into the matchers.
//
// The implementation is split over rules/compiled_snapshot.h (the CompiledSnapshot class and
// its records), snapshot_build.cc (the list compiler), snapshot_match.cc (the fast path),
// snapshot_explain.cc (`cordonctl check`) and snapshot_file.cc (snapshot files). This file
// holds the remaining public entry points.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/compiled_snapshot.h"
#include "rules/compiler.h"
#include "rules/snapshot.h"

namespace cordon::rules {
namespace detail {

size_t CompiledSnapshot::memoryBytes() const {
  return domains_.memoryBytes() + url_hosts_.memoryBytes() + text_.capacity() + ids_.capacity() +
         records_.capacity() * sizeof(RuleRecord) + rules_.capacity() * sizeof(Rule) +
         extras_.capacity() * sizeof(ExtraRecord) + meta_records_.capacity() * sizeof(MetaRecord) +
         metas_.capacity() * sizeof(RuleMeta) + url_prefixes_.capacity() * sizeof(UrlPrefix) +
         url_paths_.capacity() + shadows_.capacity() * sizeof(Shadow) +
         inactive_.capacity() * sizeof(InactiveRecord);
}

}  // namespace detail

std::string_view ruleKindName(RuleKind kind) {
  switch (kind) {
    case RuleKind::kDomain:
      return "domain";
    case RuleKind::kExact:
      return "exact";
    case RuleKind::kSubdomains:
      return "subdomains";
    case RuleKind::kUrlPrefix:
      return "url-prefix";
    case RuleKind::kHostRegex:
      return "re";
    case RuleKind::kUrlRegex:
      return "url-re";
    case RuleKind::kIp:
      return "ip";
  }
  return "?";
}

std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors,
                                                CompileStats* stats,
                                                const CompileOptions& options) {
  CompileStats local;
  if (stats == nullptr) stats = &local;
  *stats = CompileStats();
  auto snap = std::make_shared<detail::CompiledSnapshot>();
  if (!snap->build(lists, errors, stats, options)) return nullptr;
  return snap;
}

std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors,
                                                CompileStats* stats) {
  return compileSnapshot(lists, errors, stats, CompileOptions());
}

std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors) {
  return compileSnapshot(lists, errors, nullptr, CompileOptions());
}

size_t snapshotMemoryBytes(const Snapshot& snap) {
  const auto* c = dynamic_cast<const detail::CompiledSnapshot*>(&snap);
  return c ? c->memoryBytes() : 0;
}

}  // namespace cordon::rules
