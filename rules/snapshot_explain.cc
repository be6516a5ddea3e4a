// `cordonctl check`: CompiledSnapshot::explain and explainHost/explainUrl/explainIp — every
// rule that matches a query, and why it did not decide.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rules/compiled_snapshot.h"
#include "rules/compiler.h"
#include "rules/domain_table.h"
#include "rules/formats.h"
#include "rules/ip_lpm.h"
#include "rules/pattern_set.h"

namespace cordon::rules {
namespace detail {

Explanation CompiledSnapshot::explain(int kind, std::string_view host, std::string_view path,
                                      const IpAddr& addr) const {
  // kind: 0 host, 1 URL, 2 IP.
  struct Cand {
    uint32_t rule;
    int tier;       // 3 URL prefix, 2 domain table / IP, 1 pattern
    uint32_t rank;  // within the tier: longer name or prefix ranks higher
  };
  std::vector<Cand> cands;
  Explanation out;
  const auto scratch = newScratch();
  if (kind == 2) {
    out.decision = matchIp(addr);
    const std::vector<uint32_t> all = ip_.lookupAll(addr);
    for (size_t i = 0; i < all.size(); ++i) {
      cands.push_back({all[i], 2, static_cast<uint32_t>(all.size() - i)});
    }
  } else {
    out.decision = kind == 0 ? matchHost(host, scratch.get()) : matchUrl(host, path, scratch.get());
    if (kind == 1) {
      if (const DomainTable::Slot* slot = url_hosts_.find(host)) {
        const uint32_t g = url_hosts_.rule(*slot, kFlavourExact);
        for (uint32_t i = url_groups_[g]; i < url_groups_[g + 1]; ++i) {
          const UrlPrefix& up = url_prefixes_[i];
          if (path.starts_with(std::string_view(url_paths_.data() + up.path_off, up.path_len))) {
            cands.push_back({up.rule, 3, up.path_len});
          }
        }
      }
    }
    DomainTable::SuffixHit hits[DomainTable::kMaxLabels];
    const size_t n = domains_.findSuffixes(host, hits);
    for (size_t k = 0; k < n; ++k) {
      const bool whole = hits[k].name_len == host.size();
      for (const Flavour f : {kFlavourExact, kFlavourSubdomains, kFlavourDomain}) {
        if ((f == kFlavourExact && !whole) || (f == kFlavourSubdomains && whole)) continue;
        for (const uint8_t ex : {uint8_t{0}, uint8_t{kExceptionBase}}) {
          const uint32_t r = domains_.rule(*hits[k].slot, static_cast<Flavour>(f + ex));
          if (r != kNoRule) cands.push_back({r, 2, domainRank(hits[k].name_len, f)});
        }
      }
    }
    hs_scratch_t* hs = hsScratch(scratch.get());
    for (uint32_t r : host_re_.scanAll(host, hs)) cands.push_back({r, 1, 1});
    if (kind == 1) {
      const std::string url = std::string(host) + std::string(path);
      for (uint32_t r : url_re_.scanAll(url, hs)) cands.push_back({r, 1, 0});
    }
  }
  const uint32_t winner =
      out.decision.matched() ? static_cast<uint32_t>(out.decision.rule - rules_.data()) : kNoRule;
  const Cand* win = nullptr;
  for (const Cand& c : cands) {
    if (c.rule == winner) win = &c;
  }
  if (winner != kNoRule) out.candidates.push_back({&rules_[winner], ""});
  const auto pat = [this](uint32_t r) {
    return "'" + std::string(rules_[r].exception ? "@@" : "") + std::string(rules_[r].pattern) +
           "'";
  };
  const auto lostTo = [&](const Cand& c) -> std::string {
    if (win == nullptr) return "not the deciding rule";
    const Rule& w = rules_[winner];
    const Rule& r = rules_[c.rule];
    if (w.exception && !r.exception)
      return "the exception " + pat(winner) + " wins over every rule";
    if (c.tier != win->tier) {
      if (win->tier == 3) return "a URL-prefix rule (" + pat(winner) + ") ranks above host rules";
      return "a domain/IP rule (" + pat(winner) + ") ranks above pattern rules";
    }
    if (c.tier == 1) return "another pattern (" + pat(winner) + ") comes first in rule order";
    if (c.tier == 3) return "the longer URL prefix " + pat(winner) + " decides";
    if (kind == 2) return "the longer prefix " + pat(winner) + " decides";
    if (c.rank / 4 < win->rank / 4) return "the longer suffix " + pat(winner) + " decides";
    return "for one name =exact > *.subdomains > plain domain: " + pat(winner) + " decides";
  };
  for (const Cand& c : cands) {
    if (c.rule == winner) continue;
    out.candidates.push_back({&rules_[c.rule], lostTo(c)});
  }
  // The same rule in several lists (or twice in one): the copies that were dropped.
  const size_t direct = out.candidates.size();
  for (size_t i = 0; i < direct; ++i) {
    const auto kept = static_cast<uint32_t>(out.candidates[i].rule - rules_.data());
    for (const Shadow& sh : shadows_) {
      if (sh.kept != kept) continue;
      const Rule& k = rules_[sh.kept];
      const Rule& d = rules_[sh.dropped];
      std::string why;
      if (k.list() == d.list()) {
        why = "duplicate of line " + std::to_string(k.line) + " of the same list";
      } else if (k.action == ListAction::kBlock && d.action == ListAction::kMonitor) {
        why = "the same rule in the block list '" + std::string(k.list()) +
              "' decides over a monitor list's copy";
      } else {
        why = "the same rule in list '" + std::string(k.list()) + "' (listed first) decides";
      }
      out.candidates.push_back({&d, why});
    }
  }
  // Rules outside their validity window, matched naively.
  for (const InactiveRecord& in : inactive_) {
    const Rule& r = rules_[in.rule];
    const std::string_view key = text(in.key_off, in.key_len);
    bool hit = false;
    const auto suffix = [&](std::string_view h) {
      return h.size() > key.size() && h.ends_with(key) && h[h.size() - key.size() - 1] == '.';
    };
    switch (r.kind) {
      case RuleKind::kDomain:
        hit = kind != 2 && (host == key || suffix(host));
        break;
      case RuleKind::kExact:
        hit = kind != 2 && host == key;
        break;
      case RuleKind::kSubdomains:
        hit = kind != 2 && suffix(host);
        break;
      case RuleKind::kUrlPrefix:
        hit = kind == 1 && host == key && path.starts_with(text(in.path_off, in.path_len));
        break;
      case RuleKind::kHostRegex:
      case RuleKind::kUrlRegex: {
        if (kind == 2 || (r.kind == RuleKind::kUrlRegex && kind != 1)) break;
        PatternSet one;
        one.add(std::string(key),
                r.kind == RuleKind::kHostRegex ? HS_FLAG_CASELESS | HS_FLAG_DOTALL : HS_FLAG_DOTALL,
                0, false);
        int bad;
        std::string msg;
        hs_scratch_t* s = nullptr;
        if (one.compile(&bad, &msg) && one.allocScratch(&s)) {
          const std::string subject = r.kind == RuleKind::kHostRegex
                                          ? std::string(host)
                                          : std::string(host) + std::string(path);
          hit = !one.scanAll(subject, s).empty();
        }
        if (s != nullptr) hs_free_scratch(s);
        break;
      }
      case RuleKind::kIp: {
        if (kind != 2 || addr.family != in.addr.family) break;
        hit = true;
        for (unsigned b = 0; b < in.prefix_len; ++b) {
          const uint8_t m = static_cast<uint8_t>(0x80 >> (b % 8));
          if ((addr.bytes[b / 8] & m) != (in.addr.bytes[b / 8] & m)) hit = false;
        }
        break;
      }
    }
    if (!hit) continue;
    const int64_t from = r.meta ? r.meta->valid_from : kNoTimeBound;
    const int64_t until = r.meta ? r.meta->valid_until : kForever;
    out.candidates.push_back(
        {&r, "inactive: valid " +
                 (from == kNoTimeBound ? std::string("") : "from " + formatTime(from) + " ") +
                 (until == kForever ? std::string("") : "until " + formatTime(until) + " ") +
                 "(snapshot compiled for " + formatTime(as_of_) + ")"});
  }
  return out;
}

}  // namespace detail

namespace {
const detail::CompiledSnapshot& compiled(const Snapshot& snap) {
  const auto* c = dynamic_cast<const detail::CompiledSnapshot*>(&snap);
  if (c == nullptr) throw std::invalid_argument("not a compiled snapshot");
  return *c;
}
}  // namespace

Explanation explainHost(const Snapshot& snap, std::string_view host) {
  return compiled(snap).explain(0, host, {}, IpAddr());
}

Explanation explainUrl(const Snapshot& snap, std::string_view host, std::string_view path_query) {
  return compiled(snap).explain(1, host, path_query, IpAddr());
}

Explanation explainIp(const Snapshot& snap, const IpAddr& addr) {
  return compiled(snap).explain(2, {}, {}, addr);
}

}  // namespace cordon::rules
