#pragma once
// Internal to rules/, not part of the public API (that is rules/snapshot.h and
// rules/compiler.h): the CompiledSnapshot behind every rules::Snapshot, its records and its
// matching helpers, shared by rules/snapshot*.cc.
//
// Layout: every rule is a 24-byte RuleRecord; its strings (pattern, explicit id, reference)
// live in one text arena, and a plain domain rule written in canonical form has no text of
// its own — its pattern is its name in the domain table's arena. Rule structs (what Match
// points to) are materialised from the records after a compile or a load.

#include <hs/hs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/compiler.h"
#include "rules/domain_table.h"
#include "rules/formats.h"
#include "rules/ip_addr.h"
#include "rules/ip_lpm.h"
#include "rules/normalize.h"
#include "rules/pattern_set.h"
#include "rules/serial.h"
#include "rules/snapshot.h"

namespace cordon::rules::detail {

class HsScratch final : public MatchScratch {
 public:
  explicit HsScratch(const void* owner) : owner_(owner) {}
  ~HsScratch() override {
    if (hs_ != nullptr) hs_free_scratch(hs_);
  }
  const void* owner_;
  hs_scratch_t* hs_ = nullptr;
  // "host/path?query" for url-re: scans.
  char url_[kMaxHostLen + kMaxUrlPathLen + 1];
};

// Rank of a domain-table candidate: longer name first, then exact > subdomains > domain.
constexpr uint32_t domainRank(size_t name_len, Flavour f) {
  const uint32_t flavour_rank = f == kFlavourExact ? 2 : f == kFlavourSubdomains ? 1 : 0;
  return static_cast<uint32_t>(name_len) * 4 + flavour_rank;
}

struct Candidates {
  uint32_t block = kNoRule;
  uint32_t block_rank = 0;
  uint32_t exception = kNoRule;
  uint32_t exception_rank = 0;
};

// One URL-prefix rule of a host.
struct UrlPrefix {
  uint32_t path_off;
  uint32_t path_len;
  uint32_t rule;
  uint8_t exception;
  uint8_t pad[3];
};

struct ListRecord {
  uint32_t name_off, name_len;
  uint32_t file_off, file_len;
  ListAction action;
  uint8_t pad[3];
};

enum RecordFlags : uint8_t {
  kRecException = 1,
  kRecPatternInArena = 2,  // pattern_off indexes the domain table's name arena
  kRecInactive = 4,        // outside its validity window at asOf(): not in the matchers
};

struct RuleRecord {
  uint32_t pattern_off;
  uint32_t pattern_len;
  uint32_t line;
  uint32_t extra;  // index into extras_, or kNoRule
  uint16_t list;
  RuleKind kind;
  ListAction action;
  uint8_t flags;
  RuleAction policy;
  uint16_t pad;
};
static_assert(sizeof(RuleRecord) == 24);

// Explicit id and reference of a rule, and its RuleMeta (feeds, CSV, RPZ local data).
struct ExtraRecord {
  uint32_t id_off, id_len;
  uint32_t ref_off, ref_len;
  uint32_t meta;  // index into metas_, or kNoRule
};

struct MetaRecord {
  uint32_t rights_off, rights_len;
  uint32_t category_off, category_len;
  int64_t valid_from;
  int64_t valid_until;
  IpAddr a;
  IpAddr aaaa;
  uint8_t pad[6];
};

// What `cordonctl check` needs to match an inactive rule naively.
struct InactiveRecord {
  uint32_t rule;
  uint32_t key_off, key_len;    // host (domain kinds, URL prefix) or regex, in text_
  uint32_t path_off, path_len;  // URL prefix path, in text_
  IpAddr addr;                  // kIp
  uint8_t prefix_len;
  uint8_t pad[2];
};

// A rule dropped at compile time because the very same rule decides (kept).
struct Shadow {
  uint32_t kept;
  uint32_t dropped;
};

class CompiledSnapshot final : public Snapshot {
 public:
  std::unique_ptr<MatchScratch> newScratch() const override;
  Match matchHost(std::string_view host, MatchScratch* scratch) const override;
  Match matchUrl(std::string_view host, std::string_view path_query,
                 MatchScratch* scratch) const override;
  Match matchIp(const IpAddr& addr) const override;
  bool hasIpRules() const override { return !ip_.empty(); }
  size_t ruleCount() const override { return rules_.size(); }
  int64_t asOf() const override { return as_of_; }
  int64_t nextBoundary() const override { return next_boundary_; }

  // Build side.
  bool build(const std::vector<ListSource>& lists, std::vector<std::string>* errors,
             CompileStats* stats, const CompileOptions& options);
  void addEntry(const Entry& e, uint16_t list, ListAction list_action, const std::string& file,
                CompileStats* stats, std::vector<std::string>* warnings, size_t* warned);

  // Snapshot file.
  bool write(ByteWriter* w, std::string* error) const;
  bool read(ByteReader* r, std::string* error);

  Explanation explain(int kind, std::string_view host, std::string_view path,
                      const IpAddr& addr) const;
  size_t memoryBytes() const;

 private:
  uint32_t addText(std::string_view s);
  std::string_view text(uint32_t off, uint32_t len) const { return {text_.data() + off, len}; }
  // Stores `rule` in *ref unless a rule already decides there (see PRECEDENCE.md); records
  // the loser. True when *ref was free.
  bool offer(uint32_t* ref, uint32_t rule);
  void finishUrlPrefixes();
  void materialise();

  void matchDomains(std::string_view host, Candidates* c) const;
  Match pick(uint32_t rule) const { return rule == kNoRule ? Match{} : Match{&rules_[rule]}; }
  hs_scratch_t* hsScratch(MatchScratch* scratch) const;

  int64_t as_of_ = 0;
  int64_t next_boundary_ = kForever;

  std::string text_;  // patterns, explicit ids, references, list and file names, metadata
  std::vector<ListRecord> lists_;
  std::vector<RuleRecord> records_;
  std::vector<ExtraRecord> extras_;
  std::vector<MetaRecord> meta_records_;
  std::vector<InactiveRecord> inactive_;
  std::vector<Shadow> shadows_;

  // Materialised from the records.
  std::vector<RuleList> rule_lists_;  // one per lists_ entry; Rule::source points here
  std::vector<Rule> rules_;
  std::vector<RuleMeta> metas_;
  std::string ids_;  // "<list>:<line>" of rules without an explicit id

  DomainTable domains_;
  bool domain_exceptions_ = false;

  // URL prefixes: host (exact, flavour kFlavourExact) → group g; the group's prefixes are
  // url_prefixes_[url_groups_[g] .. url_groups_[g + 1]), longest path first.
  DomainTable url_hosts_;
  std::vector<UrlPrefix> url_prefixes_;
  std::vector<uint32_t> url_groups_;
  std::string url_paths_;
  std::vector<std::pair<std::string, UrlPrefix>> url_pending_;  // build only

  PatternSet host_re_;
  PatternSet url_re_;
  IpLpm ip_;
};

}  // namespace cordon::rules::detail
