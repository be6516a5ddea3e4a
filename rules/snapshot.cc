// The compiled rule snapshot and the list compiler.
//
// Precedence (one lookup, one deciding rule) is documented in rules/PRECEDENCE.md:
// exception > URL prefix (HTTP) > exact > longer suffix > shorter suffix > pattern; the
// deciding rule's list action applies. Entries outside their validity window are compiled
// into the rule table (so `cordonctl check` can name them) but not into the matchers.
//
// Layout: every rule is a 24-byte RuleRecord; its strings (pattern, explicit id, reference)
// live in one text arena, and a plain domain rule written in canonical form has no text of
// its own — its pattern is its name in the domain table's arena. Rule structs (what Match
// points to) are materialised from the records after a compile or a load.

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "rules/compiler.h"
#include "rules/digest.h"
#include "rules/domain_table.h"
#include "rules/formats.h"
#include "rules/ip_lpm.h"
#include "rules/list_parser.h"
#include "rules/pattern_set.h"

namespace cordon::rules {
namespace {

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

constexpr uint8_t kFileMagic[8] = {'C', 'O', 'R', 'D', 'S', 'N', 'A', 'P'};
// 2: pattern sets stored as shards (rules/pattern_set.h).
constexpr uint32_t kFileVersion = 2;
constexpr size_t kFileHeaderBytes = 8 + 4 + 4 + 8 + 32;

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

uint32_t CompiledSnapshot::addText(std::string_view s) {
  if (text_.size() + s.size() > UINT32_MAX) throw std::length_error("rule text arena full");
  const auto off = static_cast<uint32_t>(text_.size());
  text_.append(s);
  return off;
}

bool CompiledSnapshot::offer(uint32_t* ref, uint32_t rule) {
  if (*ref == kNoRule) {
    *ref = rule;
    return true;
  }
  const RuleRecord& have = records_[*ref];
  const RuleRecord& give = records_[rule];
  if (!(give.flags & kRecException) && have.action == ListAction::kMonitor &&
      give.action == ListAction::kBlock) {
    shadows_.push_back({rule, *ref});
    *ref = rule;
  } else {
    shadows_.push_back({*ref, rule});
  }
  return false;
}

// Receives one list's entries.
class ListSink final : public EntrySink {
 public:
  ListSink(CompiledSnapshot* snap, const ListSource& src, uint16_t list,
           std::vector<std::string>* errors, CompileStats* stats)
      : snap_(snap), src_(src), list_(list), errors_(errors), stats_(stats) {}

  void entry(const Entry& e) override {
    snap_->addEntry(e, list_, src_.action, src_.path, stats_, &stats_->warnings, &warned_);
  }
  void error(uint32_t line, const std::string& reason) override {
    const std::string where = line ? src_.path + ":" + std::to_string(line) : src_.path;
    if (src_.strict || line == 0) {
      if (++failed_ <= kMaxErrorsPerList) errors_->push_back(where + ": " + reason);
      return;
    }
    ++stats_->skipped;
    warning(line, reason + " (skipped: strict is off)");
  }
  void warning(uint32_t line, const std::string& reason) override {
    ++stats_->warnings_total;
    if (++warned_ <= kMaxWarningsPerList) {
      stats_->warnings.push_back((line ? src_.path + ":" + std::to_string(line) : src_.path) +
                                 ": " + reason);
    }
  }
  void finish() {
    if (failed_ > kMaxErrorsPerList) {
      errors_->push_back(src_.path + ": ... and " + std::to_string(failed_ - kMaxErrorsPerList) +
                         " more errors");
    }
    if (warned_ > kMaxWarningsPerList) {
      stats_->warnings.push_back(src_.path + ": ... and " +
                                 std::to_string(warned_ - kMaxWarningsPerList) + " more warnings");
    }
  }
  size_t failed() const { return failed_; }

 private:
  CompiledSnapshot* snap_;
  const ListSource& src_;
  uint16_t list_;
  std::vector<std::string>* errors_;
  CompileStats* stats_;
  size_t failed_ = 0;
  size_t warned_ = 0;
};

void CompiledSnapshot::addEntry(const Entry& e, uint16_t list, ListAction list_action,
                                const std::string& file, CompileStats* stats,
                                std::vector<std::string>* warnings, size_t* warned) {
  const ParsedRule& pr = e.rule;
  if (records_.size() >= kNoRule - 1) throw std::length_error("too many rules");
  const auto idx = static_cast<uint32_t>(records_.size());
  RuleRecord rec{};
  rec.line = e.line;
  rec.list = list;
  rec.kind = pr.kind;
  rec.action = e.monitor ? ListAction::kMonitor : list_action;
  rec.flags = pr.exception ? kRecException : 0;
  rec.policy = e.policy;
  rec.extra = kNoRule;
  if (!e.id.empty() || !e.ref.empty() || e.hasMeta()) {
    ExtraRecord x{};
    x.id_off = addText(e.id);
    x.id_len = static_cast<uint32_t>(e.id.size());
    x.ref_off = addText(e.ref);
    x.ref_len = static_cast<uint32_t>(e.ref.size());
    x.meta = kNoRule;
    if (e.hasMeta()) {
      MetaRecord m{};
      m.rights_off = addText(e.rights_holder);
      m.rights_len = static_cast<uint32_t>(e.rights_holder.size());
      m.category_off = addText(e.category);
      m.category_len = static_cast<uint32_t>(e.category.size());
      m.valid_from = e.valid_from;
      m.valid_until = e.valid_until;
      m.a = e.sinkhole_a;
      m.aaaa = e.sinkhole_aaaa;
      x.meta = static_cast<uint32_t>(meta_records_.size());
      meta_records_.push_back(m);
    }
    rec.extra = static_cast<uint32_t>(extras_.size());
    extras_.push_back(x);
  }
  // Validity window: active for valid_from <= as_of_ < valid_until.
  const bool active = e.valid_from <= as_of_ && as_of_ < e.valid_until;
  if (e.valid_from != kNoTimeBound && e.valid_from > as_of_) {
    next_boundary_ = std::min(next_boundary_, e.valid_from);
  }
  if (e.valid_until != kForever && e.valid_until > as_of_) {
    next_boundary_ = std::min(next_boundary_, e.valid_until);
  }
  const bool is_domain = pr.kind == RuleKind::kDomain || pr.kind == RuleKind::kExact ||
                         pr.kind == RuleKind::kSubdomains;
  if (stats != nullptr) {
    ++stats->by_kind[static_cast<size_t>(pr.kind)];
    if (pr.exception) ++stats->exceptions;
    ++stats->rules;
  }
  if (!active) {
    rec.flags |= kRecInactive;
    rec.pattern_off = addText(pr.text);
    rec.pattern_len = static_cast<uint32_t>(pr.text.size());
    InactiveRecord in{};
    in.rule = idx;
    const std::string& key =
        pr.kind == RuleKind::kHostRegex || pr.kind == RuleKind::kUrlRegex ? pr.regex : pr.host;
    in.key_off = addText(key);
    in.key_len = static_cast<uint32_t>(key.size());
    in.path_off = addText(pr.path);
    in.path_len = static_cast<uint32_t>(pr.path.size());
    in.addr = pr.addr;
    in.prefix_len = static_cast<uint8_t>(pr.prefix_len);
    inactive_.push_back(in);
    records_.push_back(rec);
    if (stats != nullptr) ++stats->inactive;
    return;
  }
  uint32_t* ref = nullptr;
  uint32_t name_off = 0;
  switch (pr.kind) {
    case RuleKind::kDomain:
    case RuleKind::kExact:
    case RuleKind::kSubdomains: {
      const Flavour f = pr.kind == RuleKind::kExact        ? kFlavourExact
                        : pr.kind == RuleKind::kSubdomains ? kFlavourSubdomains
                                                           : kFlavourDomain;
      const uint8_t ex = pr.exception ? kExceptionBase : 0;
      ref = domains_.ruleRef(pr.host, static_cast<Flavour>(f + ex), &name_off);
      domain_exceptions_ = domain_exceptions_ || pr.exception;
      break;
    }
    case RuleKind::kUrlPrefix: {
      if (url_paths_.size() + pr.path.size() > UINT32_MAX) {
        throw std::length_error("URL path arena full");
      }
      UrlPrefix up{};
      up.path_off = static_cast<uint32_t>(url_paths_.size());
      up.path_len = static_cast<uint32_t>(pr.path.size());
      up.rule = idx;
      up.exception = pr.exception;
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
      ref = ip_.ruleRef(pr.addr, pr.prefix_len, pr.exception);
      break;
  }
  // The pattern: a canonical plain name is its own entry in the domain arena.
  if (is_domain && pr.kind == RuleKind::kDomain && pr.text == pr.host) {
    rec.flags |= kRecPatternInArena;
    rec.pattern_off = name_off;
  } else {
    rec.pattern_off = addText(pr.text);
  }
  rec.pattern_len = static_cast<uint32_t>(pr.text.size());
  records_.push_back(rec);
  if (ref != nullptr && !offer(ref, idx)) {
    const Shadow& sh = shadows_.back();
    const RuleRecord& other = records_[sh.kept == idx ? sh.dropped : sh.kept];
    if (other.list == list) {
      if (stats != nullptr) ++stats->duplicates;
      if (stats != nullptr) ++stats->warnings_total;
      if (++*warned <= kMaxWarningsPerList) {
        warnings->push_back(file + ":" + std::to_string(e.line) + ": duplicate of line " +
                            std::to_string(other.line) + ", ignored");
      }
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

void CompiledSnapshot::materialise() {
  metas_.clear();
  metas_.reserve(meta_records_.size());
  for (const MetaRecord& m : meta_records_) {
    RuleMeta meta;
    meta.rights_holder = text(m.rights_off, m.rights_len);
    meta.category = text(m.category_off, m.category_len);
    meta.valid_from = m.valid_from;
    meta.valid_until = m.valid_until;
    meta.sinkhole_a = m.a;
    meta.sinkhole_aaaa = m.aaaa;
    metas_.push_back(meta);
  }
  // Generated ids first (ids_ must stop growing before views into it are taken).
  ids_.clear();
  std::vector<uint32_t> id_off(records_.size(), 0);
  std::vector<uint16_t> id_len(records_.size(), 0);
  char buf[16];
  for (size_t i = 0; i < records_.size(); ++i) {
    const RuleRecord& r = records_[i];
    if (r.extra != kNoRule && extras_[r.extra].id_len != 0) continue;
    const ListRecord& l = lists_[r.list];
    id_off[i] = static_cast<uint32_t>(ids_.size());
    ids_.append(text(l.name_off, l.name_len));
    ids_.push_back(':');
    const int n = std::snprintf(buf, sizeof buf, "%u", r.line);
    ids_.append(buf, static_cast<size_t>(n));
    id_len[i] = static_cast<uint16_t>(ids_.size() - id_off[i]);
  }
  const std::string_view arena = domains_.arena();
  rules_.clear();
  rules_.reserve(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) {
    const RuleRecord& r = records_[i];
    const ListRecord& l = lists_[r.list];
    Rule rule;
    rule.pattern = r.flags & kRecPatternInArena ? arena.substr(r.pattern_off, r.pattern_len)
                                                : text(r.pattern_off, r.pattern_len);
    rule.list = text(l.name_off, l.name_len);
    rule.file = text(l.file_off, l.file_len);
    rule.id = std::string_view(ids_).substr(id_off[i], id_len[i]);
    if (r.extra != kNoRule) {
      const ExtraRecord& x = extras_[r.extra];
      if (x.id_len != 0) rule.id = text(x.id_off, x.id_len);
      rule.ref = text(x.ref_off, x.ref_len);
      if (x.meta != kNoRule) rule.meta = &metas_[x.meta];
    }
    rule.line = r.line;
    rule.kind = r.kind;
    rule.action = r.action;
    rule.exception = r.flags & kRecException;
    rule.policy = r.policy;
    rules_.push_back(rule);
  }
}

bool CompiledSnapshot::build(const std::vector<ListSource>& lists, std::vector<std::string>* errors,
                             CompileStats* stats, const CompileOptions& options) {
  as_of_ = options.now != kNoTimeBound ? options.now : static_cast<int64_t>(::time(nullptr));
  auto t_phase = std::chrono::steady_clock::now();
  const size_t errors_before = errors->size();
  if (lists.size() > UINT16_MAX) {
    errors->push_back("too many lists (" + std::to_string(lists.size()) + ")");
    return false;
  }
  for (const ListSource& src : lists) {
    ListRecord lr{};
    lr.name_off = addText(src.name);
    lr.name_len = static_cast<uint32_t>(src.name.size());
    lr.file_off = addText(src.path);
    lr.file_len = static_cast<uint32_t>(src.path.size());
    lr.action = src.action;
    const auto list_idx = static_cast<uint16_t>(lists_.size());
    lists_.push_back(lr);
    // A rough pre-size of the domain table: most lines of a big list are domains.
    struct stat st {};
    if (::stat(src.path.c_str(), &st) == 0 && st.st_size > (1 << 20)) {
      // ~20 bytes per line in domain lists (16.5 for 2-3 label names + a newline).
      const size_t lines = static_cast<size_t>(st.st_size) / 20;
      domains_.reserve(domains_.size() + lines);
      records_.reserve(records_.size() + lines);
    }
    ListSink sink(this, src, list_idx, errors, stats);
    const ListFormat used = readList(src.path, src.format, src.csv, &sink);
    sink.finish();
    if (stats != nullptr) {
      ++stats->lists;
      stats->formats.emplace_back(src.name, used);
    }
  }
  if (errors->size() != errors_before) return false;
  const auto lap = [&t_phase](double* field) {
    const auto now = std::chrono::steady_clock::now();
    *field = std::chrono::duration<double, std::milli>(now - t_phase).count();
    t_phase = now;
  };
  if (stats != nullptr) lap(&stats->parse_ms);

  // The two regex sets compile concurrently (url-re: in a second thread), each split into
  // shards by its share of the hardware threads (rules/pattern_set.h): with two sets of
  // similar size that gives two-way parallelism without extra shards to scan per lookup.
  struct SetCompile {
    PatternSet* set = nullptr;
    double* ms = nullptr;
    bool ok = true;
    bool reused = false;
    int bad = -1;
    std::string message;
  };
  double ignored_ms[2] = {0, 0};
  SetCompile jobs[2];
  jobs[0].set = &host_re_;
  jobs[0].ms = stats != nullptr ? &stats->host_re_ms : &ignored_ms[0];
  jobs[1].set = &url_re_;
  jobs[1].ms = stats != nullptr ? &stats->url_re_ms : &ignored_ms[1];
  const size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t total = std::max<size_t>(1, host_re_.size() + url_re_.size());
  for (SetCompile& j : jobs) {
    const size_t share = std::max<size_t>(1, (hw * j.set->size() + total - 1) / total);
    j.set->setShardCount(options.pattern_shards != 0
                             ? options.pattern_shards
                             : PatternSet::shardCount(j.set->size(), share));
  }
  const auto run = [&options](SetCompile* j) {
    const auto t0 = std::chrono::steady_clock::now();
    j->ok = j->set->compile(&j->bad, &j->message, options.cache, &j->reused);
    *j->ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  std::thread second;
  if (!url_re_.empty() && !host_re_.empty() && !options.serial_patterns) {
    try {
      second = std::thread(run, &jobs[1]);
    } catch (const std::system_error&) {
    }
  }
  run(&jobs[0]);
  if (second.joinable()) {
    second.join();
  } else {
    run(&jobs[1]);
  }
  double ignored = 0;
  lap(&ignored);  // both sets' wall time is in host_re_ms/url_re_ms (they overlap)
  for (const SetCompile& j : jobs) {
    if (j.ok) {
      if (j.reused && stats != nullptr) ++stats->patterns_reused;
      continue;
    }
    // check() at parse time catches nearly everything; this names the rule when it did not.
    if (j.bad >= 0) {
      const uint32_t rule = j.set->ruleOf(static_cast<unsigned>(j.bad));
      const RuleRecord& r = records_[rule];
      const ListRecord& l = lists_[r.list];
      errors->push_back(std::string(text(l.file_off, l.file_len)) + ":" + std::to_string(r.line) +
                        ": Hyperscan rejected regex: " + j.message);
    } else {
      errors->push_back("Hyperscan rejected the pattern database: " + j.message);
    }
    return false;
  }
  finishUrlPrefixes();
  if (stats != nullptr) lap(&stats->url_prefix_ms);
  materialise();
  if (stats != nullptr) lap(&stats->materialise_ms);
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

// ---- explain (cordonctl check) -------------------------------------------------------------

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
      if (k.list == d.list) {
        why = "duplicate of line " + std::to_string(k.line) + " of the same list";
      } else if (k.action == ListAction::kBlock && d.action == ListAction::kMonitor) {
        why = "the same rule in the block list '" + std::string(k.list) +
              "' decides over a monitor list's copy";
      } else {
        why = "the same rule in list '" + std::string(k.list) + "' (listed first) decides";
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

size_t CompiledSnapshot::memoryBytes() const {
  return domains_.memoryBytes() + url_hosts_.memoryBytes() + text_.capacity() + ids_.capacity() +
         records_.capacity() * sizeof(RuleRecord) + rules_.capacity() * sizeof(Rule) +
         extras_.capacity() * sizeof(ExtraRecord) + meta_records_.capacity() * sizeof(MetaRecord) +
         metas_.capacity() * sizeof(RuleMeta) + url_prefixes_.capacity() * sizeof(UrlPrefix) +
         url_paths_.capacity() + shadows_.capacity() * sizeof(Shadow) +
         inactive_.capacity() * sizeof(InactiveRecord);
}

// ---- snapshot file -------------------------------------------------------------------------

bool CompiledSnapshot::write(ByteWriter* w, std::string* error) const {
  w->put(as_of_);
  w->put(next_boundary_);
  w->putBytes(text_);
  w->putVec(lists_);
  w->putVec(records_);
  w->putVec(extras_);
  w->putVec(meta_records_);
  w->putVec(inactive_);
  w->putVec(shadows_);
  domains_.write(w);
  w->put<uint8_t>(domain_exceptions_);
  w->putVec(url_prefixes_);
  w->putVec(url_groups_);
  w->putBytes(url_paths_);
  url_hosts_.write(w);
  if (!host_re_.write(w, error) || !url_re_.write(w, error)) return false;
  ip_.write(w);
  return true;
}

bool CompiledSnapshot::read(ByteReader* r, std::string* error) {
  const auto bad = [error](const std::string& what) {
    *error = "malformed snapshot (" + what + ")";
    return false;
  };
  uint8_t dom_ex = 0;
  if (!r->get(&as_of_) || !r->get(&next_boundary_) || !r->getBytes(&text_) || !r->getVec(&lists_) ||
      !r->getVec(&records_) || !r->getVec(&extras_) || !r->getVec(&meta_records_) ||
      !r->getVec(&inactive_) || !r->getVec(&shadows_)) {
    return bad("rule table");
  }
  const auto n = static_cast<uint32_t>(records_.size());
  if (records_.size() >= kNoRule) return bad("rule count");
  const auto inText = [this](uint64_t off, uint64_t len) { return off + len <= text_.size(); };
  for (const ListRecord& l : lists_) {
    if (!inText(l.name_off, l.name_len) || !inText(l.file_off, l.file_len) ||
        static_cast<uint8_t>(l.action) > 1) {
      return bad("list table");
    }
  }
  for (const ExtraRecord& x : extras_) {
    if (!inText(x.id_off, x.id_len) || !inText(x.ref_off, x.ref_len) || x.id_len > UINT16_MAX ||
        (x.meta != kNoRule && x.meta >= meta_records_.size())) {
      return bad("rule metadata");
    }
  }
  for (const MetaRecord& m : meta_records_) {
    if (!inText(m.rights_off, m.rights_len) || !inText(m.category_off, m.category_len)) {
      return bad("rule metadata");
    }
  }
  for (const InactiveRecord& in : inactive_) {
    if (in.rule >= n || !inText(in.key_off, in.key_len) || !inText(in.path_off, in.path_len)) {
      return bad("inactive rules");
    }
  }
  for (const Shadow& sh : shadows_) {
    if (sh.kept >= n || sh.dropped >= n) return bad("duplicates");
  }
  if (!domains_.read(r, n) || !r->get(&dom_ex)) return bad("domain table");
  domain_exceptions_ = dom_ex != 0;
  for (const RuleRecord& rec : records_) {
    const uint64_t limit = rec.flags & kRecPatternInArena ? domains_.arena().size() : text_.size();
    if (rec.list >= lists_.size() || static_cast<uint8_t>(rec.kind) >= kRuleKindCount ||
        static_cast<uint8_t>(rec.action) > 1 ||
        static_cast<uint8_t>(rec.policy) > static_cast<uint8_t>(RuleAction::kSinkhole) ||
        uint64_t{rec.pattern_off} + rec.pattern_len > limit ||
        (rec.extra != kNoRule && rec.extra >= extras_.size())) {
      return bad("rule table");
    }
  }
  if (!r->getVec(&url_prefixes_) || !r->getVec(&url_groups_) || !r->getBytes(&url_paths_)) {
    return bad("URL table");
  }
  for (const UrlPrefix& up : url_prefixes_) {
    if (up.rule >= n || uint64_t{up.path_off} + up.path_len > url_paths_.size()) {
      return bad("URL table");
    }
  }
  for (size_t i = 0; i < url_groups_.size(); ++i) {
    if (url_groups_[i] > url_prefixes_.size() || (i > 0 && url_groups_[i] < url_groups_[i - 1])) {
      return bad("URL table");
    }
  }
  const auto groups = static_cast<uint32_t>(url_groups_.empty() ? 0 : url_groups_.size() - 1);
  if (!url_hosts_.read(r, groups)) return bad("URL hosts");
  if (!host_re_.read(r, n, error) || !url_re_.read(r, n, error)) return false;
  if (!ip_.read(r, n)) return bad("IP table");
  if (!r->atEnd()) return bad("trailing data");
  materialise();
  return true;
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
                                                CompileStats* stats,
                                                const CompileOptions& options) {
  CompileStats local;
  if (stats == nullptr) stats = &local;
  *stats = CompileStats();
  auto snap = std::make_shared<CompiledSnapshot>();
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

// File layout: magic "CORDSNAP", u32 version, u32 reserved, u64 payload length, SHA-256 of
// the payload, payload (CompiledSnapshot::write).
bool saveSnapshot(const Snapshot& snap, const std::string& path, std::string* error) {
  const auto* c = dynamic_cast<const CompiledSnapshot*>(&snap);
  if (c == nullptr) {
    *error = "not a compiled snapshot";
    return false;
  }
  ByteWriter payload;
  if (!c->write(&payload, error)) return false;
  ByteWriter file;
  file.put(kFileMagic);
  file.put(kFileVersion);
  file.put(uint32_t{0});
  file.put(static_cast<uint64_t>(payload.data().size()));
  file.data().append(Sha256::of(payload.data()));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(file.data().data(), static_cast<std::streamsize>(file.data().size()));
    out.write(payload.data().data(), static_cast<std::streamsize>(payload.data().size()));
    out.flush();
    if (!out) {
      *error = path + ": cannot write: " + std::strerror(errno);
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = path + ": cannot rename into place: " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

std::shared_ptr<const Snapshot> loadSnapshot(const std::string& path, std::string* error) {
  std::string data;
  {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
      *error = path + ": " + std::strerror(errno);
      return nullptr;
    }
    const std::streamoff size = in.tellg();
    if (size < 0) {
      *error = path + ": cannot determine the file size";
      return nullptr;
    }
    data.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(data.data(), size);
    if (!in) {
      *error = path + ": read error";
      return nullptr;
    }
  }
  if (data.size() < kFileHeaderBytes) {
    *error = path + ": truncated snapshot (" + std::to_string(data.size()) +
             " bytes, shorter than the header)";
    return nullptr;
  }
  if (std::memcmp(data.data(), kFileMagic, sizeof kFileMagic) != 0) {
    *error = path + ": not a cordon snapshot (bad magic)";
    return nullptr;
  }
  uint32_t version = 0;
  uint32_t reserved = 0;
  uint64_t len = 0;
  std::memcpy(&version, data.data() + 8, 4);
  std::memcpy(&reserved, data.data() + 12, 4);
  std::memcpy(&len, data.data() + 16, 8);
  if (version != kFileVersion) {
    *error = path + ": snapshot format version " + std::to_string(version) +
             ", this build reads version " + std::to_string(kFileVersion) + " (recompile it)";
    return nullptr;
  }
  if (reserved != 0) {
    *error = path + ": snapshot header has unknown flags (corrupted or newer format)";
    return nullptr;
  }
  const std::string_view payload = std::string_view(data).substr(kFileHeaderBytes);
  if (payload.size() != len) {
    *error = path + ": " + (payload.size() < len ? "truncated" : "oversized") +
             " snapshot (header says " + std::to_string(len) + " payload bytes, file has " +
             std::to_string(payload.size()) + ")";
    return nullptr;
  }
  if (Sha256::of(payload) != std::string_view(data).substr(24, 32)) {
    *error = path + ": checksum mismatch (the file is corrupted)";
    return nullptr;
  }
  auto snap = std::make_shared<CompiledSnapshot>();
  ByteReader r(payload);
  std::string why;
  try {
    if (!snap->read(&r, &why)) {
      *error = path + ": " + why;
      return nullptr;
    }
  } catch (const std::exception& e) {
    *error = path + ": malformed snapshot (" + e.what() + ")";
    return nullptr;
  }
  return snap;
}

size_t snapshotMemoryBytes(const Snapshot& snap) {
  const auto* c = dynamic_cast<const CompiledSnapshot*>(&snap);
  return c ? c->memoryBytes() : 0;
}

namespace {
const CompiledSnapshot& compiled(const Snapshot& snap) {
  const auto* c = dynamic_cast<const CompiledSnapshot*>(&snap);
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
