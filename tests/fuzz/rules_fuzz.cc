// libFuzzer target for the rule-list readers and the domain table. Lists arrive from third
// parties (feeds fetched over the network), so every reader must take any bytes.
//
// The first input byte picks the format (auto, list, hosts, rpz, adguard, csv, feed; its
// top bit seals the table, i.e. builds its membership filter), the rest is the list. Then the
// domain table is checked against a naive reference: the names the reader produced and the input's
// raw lines (any bytes) go into a DomainTable and a std::set; for each of those lines and names,
// and each with a label prepended, find() and findSuffixes() must agree with the set.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rules/domain_table.h"
#include "rules/formats.h"

namespace {

using cordon::rules::DomainTable;
using cordon::rules::Entry;
using cordon::rules::kMaxHostLen;

class Collect : public cordon::rules::EntrySink {
 public:
  void entry(const Entry& e) override {
    using cordon::rules::RuleKind;
    const RuleKind k = e.rule.kind;
    if ((k == RuleKind::kDomain || k == RuleKind::kExact || k == RuleKind::kSubdomains) &&
        (e.rule.host.empty() || e.rule.host.size() > kMaxHostLen)) {
      __builtin_trap();  // a reader must not hand out a name the table cannot hold
    }
    if (k == RuleKind::kDomain || k == RuleKind::kExact || k == RuleKind::kSubdomains) {
      hosts.push_back(e.rule.host);
    }
  }
  void error(uint32_t, const std::string&) override {}
  void warning(uint32_t, const std::string&) override {}
  std::vector<std::string> hosts;
};

bool usable(std::string_view s) {
  return !s.empty() && s.size() <= kMaxHostLen;
}

// The lengths of q's label-boundary suffixes that are in `names`, shortest first, among the
// first kMaxLabels candidates (as DomainTable::findSuffixes() walks them).
std::vector<size_t> reference(std::string_view q, const std::set<std::string, std::less<>>& names) {
  std::vector<size_t> candidates;
  for (size_t pos = q.size() + 1; pos-- > 0;) {
    if (pos == q.size() ? (pos > 0 && q[pos - 1] == '.') : (pos == 0 || q[pos - 1] == '.')) {
      candidates.push_back(q.size() - pos);
    }
  }
  if (candidates.size() > DomainTable::kMaxLabels) candidates.resize(DomainTable::kMaxLabels);
  std::vector<size_t> out;
  for (size_t len : candidates) {
    if (len > 0 && names.count(q.substr(q.size() - len))) out.push_back(len);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr cordon::rules::ListFormat kFormats[] = {
      cordon::rules::ListFormat::kAuto,    cordon::rules::ListFormat::kList,
      cordon::rules::ListFormat::kHosts,   cordon::rules::ListFormat::kRpz,
      cordon::rules::ListFormat::kAdguard, cordon::rules::ListFormat::kCsv,
      cordon::rules::ListFormat::kFeed};
  const auto format = kFormats[data[0] % std::size(kFormats)];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  Collect sink;
  cordon::rules::parseList(text, format, cordon::rules::CsvOptions{}, &sink);

  std::vector<std::string> names = sink.hosts;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    names.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  DomainTable table;
  std::set<std::string, std::less<>> listed;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!usable(names[i])) continue;
    *table.ruleRef(names[i], cordon::rules::kFlavourDomain) = static_cast<uint32_t>(i);
    listed.insert(names[i]);
  }
  if (table.size() != listed.size()) __builtin_trap();
  if (data[0] & 0x80) table.seal();  // half the inputs also go through the membership filter
  DomainTable::SuffixHit hits[DomainTable::kMaxLabels];
  for (const std::string& n : names) {
    for (const std::string& q : {n, "x." + n, n + "."}) {
      if (!usable(q)) continue;
      if ((table.find(q) != nullptr) != (listed.count(q) != 0)) __builtin_trap();
      const size_t found = table.findSuffixes(q, hits);
      const std::vector<size_t> want = reference(q, listed);
      if (found != want.size()) __builtin_trap();
      for (size_t k = 0; k < found; ++k) {
        if (hits[k].name_len != want[k]) __builtin_trap();
      }
    }
  }
  return 0;
}
