// The list compiler: CompiledSnapshot::build reads the lists into the rule records and lookup
// tables, compiles the regex sets and materialises the rule table.

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "rules/compiled_snapshot.h"
#include "rules/compiler.h"
#include "rules/domain_table.h"
#include "rules/formats.h"
#include "rules/ip_lpm.h"
#include "rules/list_parser.h"
#include "rules/pattern_set.h"

namespace cordon::rules::detail {

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

namespace {

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

}  // namespace

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
  domains_.seal();
  url_hosts_.seal();
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
  rule_lists_.clear();
  rule_lists_.reserve(lists_.size());
  for (const ListRecord& l : lists_) {
    rule_lists_.push_back({text(l.name_off, l.name_len), text(l.file_off, l.file_len)});
  }
  rules_.clear();
  rules_.reserve(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) {
    const RuleRecord& r = records_[i];
    Rule rule;
    rule.pattern = r.flags & kRecPatternInArena ? arena.substr(r.pattern_off, r.pattern_len)
                                                : text(r.pattern_off, r.pattern_len);
    rule.source = &rule_lists_[r.list];
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
      // Records are cheap to over-reserve (untouched capacity costs no memory): assume short
      // lines, so a list of short names never reallocates 24 bytes x 1M records mid-parse.
      records_.reserve(records_.size() + static_cast<size_t>(st.st_size) / 10);
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

}  // namespace cordon::rules::detail
