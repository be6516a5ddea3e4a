#include "control/feed/scheduler.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "rules/formats.h"

namespace cordon::feed {
namespace {

// Problems quoted in a rejection message; the rest are counted.
constexpr size_t kMaxQuotedProblems = 3;
// First retry of a failed feed; doubles per consecutive failure, up to the refresh interval.
constexpr std::chrono::seconds kFirstRetry{30};

class CountingSink : public rules::EntrySink {
 public:
  void entry(const rules::Entry&) override { ++entries; }
  void error(uint32_t line, const std::string& reason) override {
    (line == 0 ? file_errors : entry_errors)++;
    if (quoted.size() < kMaxQuotedProblems) {
      quoted.push_back((line ? "line " + std::to_string(line) + ": " : "") + reason);
    }
  }
  void warning(uint32_t, const std::string&) override {}
  uint64_t entries = 0, file_errors = 0, entry_errors = 0;
  std::vector<std::string> quoted;
};

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string jsonTime(int64_t t) {
  return t ? jsonString(rules::formatTime(t)) : "null";
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::seconds retryAfter(const FeedSource& f, uint64_t consecutive_failures) {
  const std::chrono::seconds refresh{f.refresh_s};
  if (consecutive_failures == 0) return refresh;
  const auto backoff =
      kFirstRetry * (int64_t{1} << std::min<uint64_t>(consecutive_failures - 1, 16));
  return std::min(refresh, backoff);
}

}  // namespace

FeedValidator ruleListValidator(const rules::ListSource& ls) {
  return [format = ls.format, csv = ls.csv, strict = ls.strict](const std::string& path,
                                                                std::string* err) {
    CountingSink sink;
    const rules::ListFormat used = rules::readList(path, format, csv, &sink);
    if (sink.file_errors || (strict && sink.entry_errors)) {
      const uint64_t n = sink.file_errors + sink.entry_errors;
      std::string why = "not a valid rule list (";
      if (used != rules::ListFormat::kAuto) {
        why += "format " + std::string(rules::formatName(used)) + ", ";
      }
      why += std::to_string(n) + " error" + (n == 1 ? "" : "s");
      for (const auto& q : sink.quoted) why += "; " + q;
      *err = why + ")";
      return false;
    }
    return true;
  };
}

std::vector<FeedSource> feedSourcesFromConfig(const Config& cfg) {
  std::vector<FeedSource> out;
  for (const FeedConfig& fc : cfg.feeds) {
    FeedSource s;
    s.name = fc.list;
    s.url = fc.url;
    s.refresh_s = fc.refresh_s;
    s.pubkey_path = fc.pubkey;
    s.sig_url = fc.signature;
    s.max_bytes = fc.max_bytes;
    s.timeout_s = fc.timeout_s;
    s.access = HttpAccess{fc.ca_file, fc.client_cert, fc.client_key, fc.headers_file};
    s.cache_dir = cfg.feeds_cache_dir;
    for (const auto& ls : cfg.rules) {
      if (ls.name == fc.list) s.validate = ruleListValidator(ls);
    }
    out.push_back(std::move(s));
  }
  return out;
}

FeedScheduler::FeedScheduler(std::vector<FeedSource> feeds)
    : feeds_(std::move(feeds)), state_(feeds_.size()) {
  for (size_t i = 0; i < feeds_.size(); ++i) {
    state_[i].st.name = feeds_[i].name;
    state_[i].st.url = feeds_[i].url;
  }
  if (!feeds_.empty()) thread_ = std::thread([this] { run(); });
}

FeedScheduler::~FeedScheduler() {
  {
    std::lock_guard<std::mutex> g(mu_);
    // relaxed: the fetch thread also re-reads it under mu_; libcurl polls it at least once a
    // second through the progress callback.
    cancel_.store(true, std::memory_order_relaxed);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FeedScheduler::apply(size_t i, const FetchResult& r) {
  FeedStatus& st = state_[i].st;
  st.result = std::string(fetchStatusName(r.status));
  st.last_attempt = unixNow();
  ++st.attempts;
  st.path = r.path;
  if (!r.path.empty()) {
    st.fetched_at = r.meta.fetched_at;
    st.bytes = r.meta.bytes;
    st.sha256 = r.meta.sha256;
    st.verified = !r.meta.key.empty();
  }
  if (r.status == FetchStatus::kFailed) {
    st.error = r.error;
    ++st.failures;
    ++st.consecutive_failures;
    messages_.push_back(r.error + (r.path.empty() ? "" : "; keeping the last good copy"));
    return;
  }
  st.error.clear();
  st.last_success = st.last_attempt;
  st.consecutive_failures = 0;
  if (r.status == FetchStatus::kUpdated) {
    changed_ = true;
    messages_.push_back("feed '" + st.name + "': updated, " + std::to_string(r.meta.bytes) +
                        " bytes, sha256 " + r.meta.sha256 + (st.verified ? ", signature ok" : ""));
  }
}

bool FeedScheduler::prepare(std::vector<rules::ListSource>* lists,
                            std::vector<std::string>* warnings, std::string* err) {
  std::vector<FetchResult> results(feeds_.size());
  std::vector<std::string> fallback_errors(feeds_.size());
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < feeds_.size(); ++i) {
      threads.emplace_back([this, i, &results, &fallback_errors] {
        const FeedFetcher fetcher(&cancel_);
        FetchResult good;
        std::string why;
        // A cached copy that no longer checks out (sha256, key) must not be "not modified".
        const bool cache_ok = FeedFetcher::lastGood(feeds_[i], &good, &why);
        results[i] = fetcher.fetch(feeds_[i], !cache_ok);
        if (results[i].status != FetchStatus::kFailed) return;
        if (cache_ok) {
          results[i].path = good.path;
          results[i].meta = good.meta;
        } else {
          results[i].path.clear();
          fallback_errors[i] = why;
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  std::string errors;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> g(mu_);
  for (size_t i = 0; i < feeds_.size(); ++i) {
    const FetchResult& r = results[i];
    apply(i, r);
    State& s = state_[i];
    s.next_due = now + retryAfter(feeds_[i], s.st.consecutive_failures);
    if (r.status == FetchStatus::kFailed) {
      if (r.path.empty()) {
        errors += r.error + "; no usable last good copy (" + fallback_errors[i] + ")\n";
        continue;
      }
      s.st.result = "cached";
      warnings->push_back(r.error + "; using the last good copy fetched " +
                          rules::formatTime(r.meta.fetched_at) + " (sha256 " + r.meta.sha256 + ")");
    }
    for (auto& ls : *lists) {
      if (ls.name == feeds_[i].name) ls.path = feeds_[i].dataPath();
    }
  }
  messages_.clear();  // prepare()'s outcome is reported through *warnings and *err
  changed_ = false;   // the first compile reads these copies
  if (!errors.empty()) {
    errors.pop_back();
    *err = errors;
    return false;
  }
  return true;
}

bool FeedScheduler::poll(std::chrono::steady_clock::time_point now) {
  bool wake = false;
  std::lock_guard<std::mutex> g(mu_);
  for (size_t i = 0; i < state_.size(); ++i) {
    State& s = state_[i];
    if (s.finished) {
      s.finished = false;
      s.queued = false;
      s.next_due = now + retryAfter(feeds_[i], s.st.consecutive_failures);
    }
    if (!s.queued && now >= s.next_due) {
      s.queued = true;
      queue_.push_back(i);
      wake = true;
    }
  }
  if (wake) cv_.notify_one();
  const bool changed = changed_;
  changed_ = false;
  return changed;
}

void FeedScheduler::refreshAll() {
  std::lock_guard<std::mutex> g(mu_);
  for (State& s : state_) {
    if (!s.queued) s.next_due = {};
  }
}

std::vector<std::string> FeedScheduler::takeMessages() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> out;
  out.swap(messages_);
  return out;
}

void FeedScheduler::run() {
  const FeedFetcher fetcher(&cancel_);
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return cancel_.load(std::memory_order_relaxed) || !queue_.empty(); });
    if (cancel_.load(std::memory_order_relaxed)) return;
    const size_t i = queue_.front();
    queue_.pop_front();
    lk.unlock();
    const FetchResult r = fetcher.fetch(feeds_[i]);
    lk.lock();
    apply(i, r);
    state_[i].finished = true;
  }
}

std::vector<FeedStatus> FeedScheduler::status() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<FeedStatus> out;
  for (const State& s : state_) out.push_back(s.st);
  return out;
}

std::string FeedScheduler::statusJson() const {
  std::string j = "[";
  for (const FeedStatus& st : status()) {
    if (j.size() > 1) j += ",";
    j += "{\"name\":" + jsonString(st.name) + ",\"url\":" + jsonString(st.url) +
         ",\"result\":" + jsonString(st.result) +
         ",\"error\":" + (st.error.empty() ? "null" : jsonString(st.error)) +
         ",\"last_attempt\":" + jsonTime(st.last_attempt) +
         ",\"last_success\":" + jsonTime(st.last_success) +
         ",\"fetched_at\":" + jsonTime(st.fetched_at) + ",\"bytes\":" + std::to_string(st.bytes) +
         ",\"sha256\":" + (st.sha256.empty() ? "null" : jsonString(st.sha256)) +
         ",\"verified\":" + (st.verified ? "true" : "false") +
         ",\"attempts\":" + std::to_string(st.attempts) +
         ",\"failures\":" + std::to_string(st.failures) +
         ",\"consecutive_failures\":" + std::to_string(st.consecutive_failures) +
         ",\"path\":" + (st.path.empty() ? "null" : jsonString(st.path)) + "}";
  }
  return j + "]";
}

std::string FeedScheduler::prometheus() const {
  const std::vector<FeedStatus> all = status();
  if (all.empty()) return "";
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*get)(const FeedStatus&);
  };
  static const Metric kMetrics[] = {
      {"cordon_feed_last_success_seconds", "gauge",
       "Unix time of the last fetch that reached the feed (0: never)",
       [](const FeedStatus& s) { return static_cast<uint64_t>(s.last_success); }},
      {"cordon_feed_fetched_at_seconds", "gauge", "Unix time the copy in use was fetched",
       [](const FeedStatus& s) { return static_cast<uint64_t>(s.fetched_at); }},
      {"cordon_feed_bytes", "gauge", "Size of the copy in use",
       [](const FeedStatus& s) { return s.bytes; }},
      {"cordon_feed_fetches_total", "counter", "Fetches finished",
       [](const FeedStatus& s) { return s.attempts; }},
      {"cordon_feed_failures_total", "counter", "Fetches that failed",
       [](const FeedStatus& s) { return s.failures; }},
      {"cordon_feed_consecutive_failures", "gauge", "Failed fetches since the last success",
       [](const FeedStatus& s) { return s.consecutive_failures; }},
  };
  std::string out;
  for (const Metric& m : kMetrics) {
    out +=
        std::string("# HELP ") + m.name + " " + m.help + "\n# TYPE " + m.name + " " + m.type + "\n";
    for (const FeedStatus& s : all) {
      // Feed names are [A-Za-z0-9._-] (config.cc): no label escaping needed.
      out += std::string(m.name) + "{feed=\"" + s.name + "\"} " + std::to_string(m.get(s)) + "\n";
    }
  }
  return out;
}

}  // namespace cordon::feed
