// The fast path: CompiledSnapshot::matchHost/matchUrl/matchIp and the per-worker Hyperscan
// scratch they scan with.

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "rules/compiled_snapshot.h"
#include "rules/domain_table.h"
#include "rules/ip_lpm.h"
#include "rules/pattern_set.h"

namespace cordon::rules::detail {

std::unique_ptr<MatchScratch> CompiledSnapshot::newScratch() const {
  auto s = std::make_unique<HsScratch>(this);
  if (!host_re_.allocScratch(&s->hs_) || !url_re_.allocScratch(&s->hs_)) {
    throw std::runtime_error("hs_alloc_scratch failed");
  }
  return s;
}

hs_scratch_t* CompiledSnapshot::hsScratch(MatchScratch* scratch) const {
  // A scratch made for another snapshot may be too small for these databases: not used.
  auto* s = static_cast<HsScratch*>(scratch);
  return s != nullptr && s->owner_ == this ? s->hs_ : nullptr;
}

void CompiledSnapshot::matchDomains(std::string_view host, Candidates* c) const {
  DomainTable::SuffixHit hits[DomainTable::kMaxLabels];
  const size_t n = domains_.findSuffixes(host, hits);
  for (size_t k = 0; k < n; ++k) {
    const DomainTable::Slot& slot = *hits[k].slot;
    const bool whole = hits[k].name_len == host.size();
    for (const Flavour f : {kFlavourExact, kFlavourSubdomains, kFlavourDomain}) {
      if ((f == kFlavourExact && !whole) || (f == kFlavourSubdomains && whole)) continue;
      const uint32_t rank = domainRank(hits[k].name_len, f);
      const uint32_t b = domains_.rule(slot, f);
      if (b != kNoRule && (c->block == kNoRule || rank > c->block_rank)) {
        c->block = b;
        c->block_rank = rank;
      }
      const uint32_t e = domains_.rule(slot, static_cast<Flavour>(f + kExceptionBase));
      if (e != kNoRule && (c->exception == kNoRule || rank > c->exception_rank)) {
        c->exception = e;
        c->exception_rank = rank;
      }
    }
  }
}

Match CompiledSnapshot::matchHost(std::string_view host, MatchScratch* scratch) const {
  if (host.empty() || host.size() > kMaxHostLen) return {};
  Candidates c;
  matchDomains(host, &c);
  if (c.exception != kNoRule) return pick(c.exception);
  if (!host_re_.empty() && (c.block == kNoRule || host_re_.hasExceptions())) {
    uint32_t block = kNoRule;
    uint32_t exception = kNoRule;
    host_re_.scan(host, hsScratch(scratch), &block, &exception);
    if (exception != kNoRule) return pick(exception);
    if (c.block == kNoRule) return pick(block);
  }
  return pick(c.block);
}

Match CompiledSnapshot::matchUrl(std::string_view host, std::string_view path_query,
                                 MatchScratch* scratch) const {
  if (host.empty() || host.size() > kMaxHostLen) return {};
  if (path_query.size() > kMaxUrlPathLen) path_query = path_query.substr(0, kMaxUrlPathLen);

  // 1. URL prefixes of this exact host, longest first.
  uint32_t url_block = kNoRule;
  if (const DomainTable::Slot* slot = url_hosts_.find(host)) {
    const uint32_t g = url_hosts_.rule(*slot, kFlavourExact);
    for (uint32_t i = url_groups_[g]; i < url_groups_[g + 1]; ++i) {
      const UrlPrefix& up = url_prefixes_[i];
      if (url_block != kNoRule && !up.exception) continue;
      const std::string_view prefix(url_paths_.data() + up.path_off, up.path_len);
      if (!path_query.starts_with(prefix)) continue;
      if (up.exception) return pick(up.rule);  // the longest matching URL exception
      url_block = up.rule;
    }
  }
  // 2. Host-level rules; skipped when a URL prefix decides and no exception could override.
  Candidates c;
  if (url_block == kNoRule || domain_exceptions_) {
    matchDomains(host, &c);
    if (c.exception != kNoRule) return pick(c.exception);
  }
  const uint32_t decided = url_block != kNoRule ? url_block : c.block;
  // 3. Patterns: needed when nothing decided yet, or to look for a pattern exception.
  uint32_t block = decided;
  uint32_t exception = kNoRule;
  hs_scratch_t* hs = nullptr;
  if (!host_re_.empty() && (block == kNoRule || host_re_.hasExceptions())) {
    hs = hsScratch(scratch);
    host_re_.scan(host, hs, &block, &exception);
    if (exception != kNoRule) return pick(exception);
  }
  if (!url_re_.empty() && (block == kNoRule || url_re_.hasExceptions())) {
    auto* s = static_cast<HsScratch*>(scratch);
    hs = hsScratch(scratch);
    if (hs != nullptr) {
      std::memcpy(s->url_, host.data(), host.size());
      std::memcpy(s->url_ + host.size(), path_query.data(), path_query.size());
      url_re_.scan({s->url_, host.size() + path_query.size()}, hs, &block, &exception);
      if (exception != kNoRule) return pick(exception);
    }
  }
  return pick(block);
}

Match CompiledSnapshot::matchIp(const IpAddr& addr) const {
  if (ip_.empty()) return {};
  return pick(ip_.lookup(addr));
}

}  // namespace cordon::rules::detail
