// The compiled rule snapshot and the list compiler.
//
// Precedence (one lookup, one deciding rule):
//   1. An exception ("@@") that matches wins over everything. When several match, the one
//      ranked highest by the order below is reported.
//   2. Otherwise, for HTTP requests (matchUrl), URL-prefix rules rank above every
//      host-level rule; among them the longest path prefix wins.
//   3. Then domain-table rules: the longest matching name wins ("exact > longer suffix >
//      shorter suffix"); for one name, =exact > *.subdomains > domain.
//   4. Then pattern rules (re: and url-re:), which rank lowest; among them the first one
//      Hyperscan reports (re: is scanned before url-re:).
//   5. IP rules (matchIp) are separate: an exception covering the address wins, else the
//      longest prefix.
// The deciding rule's list action applies (Match::enforce()/monitor()), so a more specific
// rule in a monitor list lets the traffic pass. When the very same rule (same name and
// flavour, same URL prefix, same CIDR) appears in several lists, a block list's copy
// decides over a monitor list's; otherwise the first listed decides.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "rules/compiler.h"
#include "rules/domain_table.h"
#include "rules/ip_lpm.h"
#include "rules/list_parser.h"
#include "rules/pattern_set.h"

namespace cordon::rules {
namespace {

// A UTF-8 byte-order mark some editors put at the start of a file.
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

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
  bool exception;
};

// Build-time record of a rule's strings, as offsets into the snapshot's text arena (turned
// into Rule's string_views once the arena stops growing).
struct RuleRecord {
  uint32_t pattern_off, pattern_len;
  uint32_t id_off, id_len;
  uint32_t list_off, list_len;
  uint32_t file_off, file_len;
  uint32_t line;
  RuleKind kind;
  ListAction action;
  bool exception;
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

  // Build side.
  bool build(const std::vector<ListSource>& lists, std::vector<std::string>* errors,
             CompileStats* stats);

 private:
  void compileList(const ListSource& src, std::string_view content,
                   std::vector<std::string>* errors, CompileStats* stats);
  uint32_t addText(std::string_view s);
  // Stores `rule` in *ref unless a rule already decides there (see the precedence note).
  void offer(uint32_t* ref, uint32_t rule) const;
  void finishUrlPrefixes();

  void matchDomains(std::string_view host, Candidates* c) const;
  Match pick(uint32_t rule) const { return rule == kNoRule ? Match{} : Match{&rules_[rule]}; }
  hs_scratch_t* hsScratch(MatchScratch* scratch) const;

  std::string text_;  // every rule's pattern and id, list names and file names
  std::vector<RuleRecord> records_;
  std::vector<Rule> rules_;

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

uint32_t CompiledSnapshot::addText(std::string_view s) {
  if (text_.size() + s.size() > UINT32_MAX) throw std::length_error("rule text arena full");
  const auto off = static_cast<uint32_t>(text_.size());
  text_.append(s);
  return off;
}

void CompiledSnapshot::offer(uint32_t* ref, uint32_t rule) const {
  if (*ref == kNoRule) {
    *ref = rule;
    return;
  }
  const RuleRecord& have = records_[*ref];
  const RuleRecord& give = records_[rule];
  if (!give.exception && have.action == ListAction::kMonitor && give.action == ListAction::kBlock) {
    *ref = rule;
  }
}

void CompiledSnapshot::compileList(const ListSource& src, std::string_view content,
                                   std::vector<std::string>* errors, CompileStats* stats) {
  if (content.starts_with(kUtf8Bom)) content.remove_prefix(kUtf8Bom.size());
  const uint32_t list_off = addText(src.name);
  const uint32_t file_off = addText(src.path);
  ParsedRule pr;
  std::string reason;
  uint32_t line_no = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const LineResult res = parseRuleLine(line, &pr, &reason);
    if (res == LineResult::kEmpty) continue;
    if (res == LineResult::kError) {
      errors->push_back(src.path + ":" + std::to_string(line_no) + ": " + reason);
      continue;
    }
    if (records_.size() >= kNoRule - 1) throw std::length_error("too many rules");
    const auto idx = static_cast<uint32_t>(records_.size());
    RuleRecord rec{};
    rec.pattern_off = addText(pr.text);
    rec.pattern_len = static_cast<uint32_t>(pr.text.size());
    rec.id_off = addText(src.name);
    addText(":");
    addText(std::to_string(line_no));
    rec.id_len = static_cast<uint32_t>(text_.size() - rec.id_off);
    rec.list_off = list_off;
    rec.list_len = static_cast<uint32_t>(src.name.size());
    rec.file_off = file_off;
    rec.file_len = static_cast<uint32_t>(src.path.size());
    rec.line = line_no;
    rec.kind = pr.kind;
    rec.action = src.action;
    rec.exception = pr.exception;
    records_.push_back(rec);
    if (stats != nullptr) {
      ++stats->by_kind[static_cast<size_t>(pr.kind)];
      if (pr.exception) ++stats->exceptions;
      ++stats->rules;
    }
    const uint8_t ex = pr.exception ? kExceptionBase : 0;
    switch (pr.kind) {
      case RuleKind::kDomain:
      case RuleKind::kExact:
      case RuleKind::kSubdomains: {
        const Flavour f = pr.kind == RuleKind::kExact        ? kFlavourExact
                          : pr.kind == RuleKind::kSubdomains ? kFlavourSubdomains
                                                             : kFlavourDomain;
        offer(domains_.ruleRef(pr.host, static_cast<Flavour>(f + ex)), idx);
        domain_exceptions_ = domain_exceptions_ || pr.exception;
        break;
      }
      case RuleKind::kUrlPrefix: {
        if (url_paths_.size() + pr.path.size() > UINT32_MAX) {
          throw std::length_error("URL path arena full");
        }
        const UrlPrefix up{static_cast<uint32_t>(url_paths_.size()),
                           static_cast<uint32_t>(pr.path.size()), idx, pr.exception};
        url_paths_.append(pr.path);
        url_pending_.emplace_back(pr.host, up);
        break;
      }
      case RuleKind::kHostRegex:
        host_re_.add(pr.regex, HS_FLAG_CASELESS | HS_FLAG_DOTALL, idx, pr.exception);
        break;
      case RuleKind::kUrlRegex:
        url_re_.add(pr.regex, HS_FLAG_DOTALL, idx, pr.exception);
        break;
      case RuleKind::kIp:
        offer(ip_.ruleRef(pr.addr, pr.prefix_len, pr.exception), idx);
        break;
    }
  }
}

void CompiledSnapshot::finishUrlPrefixes() {
  // Group by host; within a host, longest path first, then exceptions before blocks; the
  // same (path, exception) twice keeps the one offer() prefers.
  std::stable_sort(url_pending_.begin(), url_pending_.end(), [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.second.path_len != b.second.path_len) return a.second.path_len > b.second.path_len;
    const std::string_view pa(url_paths_.data() + a.second.path_off, a.second.path_len);
    const std::string_view pb(url_paths_.data() + b.second.path_off, b.second.path_len);
    if (pa != pb) return pa < pb;
    return a.second.exception > b.second.exception;
  });
  for (size_t i = 0; i < url_pending_.size();) {
    const std::string& host = url_pending_[i].first;
    uint32_t* ref = url_hosts_.ruleRef(host, kFlavourExact);
    *ref = static_cast<uint32_t>(url_groups_.size());
    url_groups_.push_back(static_cast<uint32_t>(url_prefixes_.size()));
    for (; i < url_pending_.size() && url_pending_[i].first == host; ++i) {
      const UrlPrefix& up = url_pending_[i].second;
      if (!url_prefixes_.empty() && url_prefixes_.size() > url_groups_.back()) {
        UrlPrefix& prev = url_prefixes_.back();
        if (prev.exception == up.exception && prev.path_len == up.path_len &&
            std::memcmp(url_paths_.data() + prev.path_off, url_paths_.data() + up.path_off,
                        up.path_len) == 0) {
          offer(&prev.rule, up.rule);
          continue;
        }
      }
      url_prefixes_.push_back(up);
    }
  }
  url_groups_.push_back(static_cast<uint32_t>(url_prefixes_.size()));
  url_pending_.clear();
  url_pending_.shrink_to_fit();
}

bool readFile(const std::string& path, std::string* out, std::string* reason) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *reason = std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    *reason = std::strerror(S_ISDIR(st.st_mode) ? EISDIR : errno);
    ::close(fd);
    return false;
  }
  out->clear();
  if (st.st_size > 0) out->reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      *reason = std::strerror(errno);
      ::close(fd);
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

bool CompiledSnapshot::build(const std::vector<ListSource>& lists, std::vector<std::string>* errors,
                             CompileStats* stats) {
  const size_t errors_before = errors->size();
  std::string content;
  std::string reason;
  for (const ListSource& src : lists) {
    if (!readFile(src.path, &content, &reason)) {
      errors->push_back(src.path + ": " + reason);
      continue;
    }
    if (stats != nullptr) ++stats->lists;
    // A rough pre-size of the domain table: most lines of a big list are domains.
    if (content.size() > (1 << 20)) {
      domains_.reserve(domains_.size() + content.size() / 24);
    }
    compileList(src, content, errors, stats);
  }
  if (errors->size() != errors_before) return false;

  int bad = -1;
  std::string message;
  for (PatternSet* set : {&host_re_, &url_re_}) {
    if (set->compile(&bad, &message)) continue;
    // check() at parse time catches nearly everything; this names the rule when it did not.
    if (bad >= 0) {
      // Find the bad_index-th rule of this set's kind.
      const RuleKind kind = set == &host_re_ ? RuleKind::kHostRegex : RuleKind::kUrlRegex;
      int seen = -1;
      for (const RuleRecord& r : records_) {
        if (r.kind == kind && ++seen == bad) {
          errors->push_back(std::string(text_.data() + r.file_off, r.file_len) + ":" +
                            std::to_string(r.line) + ": Hyperscan rejected regex: " + message);
          break;
        }
      }
    } else {
      errors->push_back("Hyperscan rejected the pattern database: " + message);
    }
    return false;
  }
  finishUrlPrefixes();

  rules_.reserve(records_.size());
  const auto view = [this](uint32_t off, uint32_t len) {
    return std::string_view(text_.data() + off, len);
  };
  for (const RuleRecord& r : records_) {
    Rule rule;
    rule.pattern = view(r.pattern_off, r.pattern_len);
    rule.list = view(r.list_off, r.list_len);
    rule.id = view(r.id_off, r.id_len);
    rule.file = view(r.file_off, r.file_len);
    rule.line = r.line;
    rule.kind = r.kind;
    rule.action = r.action;
    rule.exception = r.exception;
    rules_.push_back(rule);
  }
  records_.clear();
  records_.shrink_to_fit();
  return true;
}

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

}  // namespace

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
                                                CompileStats* stats) {
  if (stats != nullptr) *stats = CompileStats();
  auto snap = std::make_shared<CompiledSnapshot>();
  if (!snap->build(lists, errors, stats)) return nullptr;
  return snap;
}

std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors) {
  return compileSnapshot(lists, errors, nullptr);
}

}  // namespace cordon::rules
