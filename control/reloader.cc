#include "control/reloader.h"

#include "rules/compiler.h"

#include <sys/stat.h>

namespace cordon {

Reloader::Reloader(std::vector<rules::ListSource> lists, unsigned workers, RuleSlot* slot,
                   std::function<void()> drain_events, std::string snapshot_path)
    : lists_(std::move(lists)),
      snapshot_path_(std::move(snapshot_path)),
      cache_(std::make_unique<rules::PatternCache>()),
      workers_(workers),
      slot_(slot),
      drain_events_(std::move(drain_events)) {
  for (const auto& l : lists_) {
    if (!l.path.empty()) watched_.push_back({l.path});
  }
  if (!snapshot_path_.empty()) watched_.push_back({snapshot_path_});
  (void)filesChanged();  // the state the first snapshot was built from
}

bool Reloader::filesChanged() {
  bool changed = false;
  for (auto& w : watched_) {
    struct stat st {};
    int64_t mtime = -2, size = -2;  // -2: missing (a reload then reports the error)
    if (::stat(w.path.c_str(), &st) == 0) {
      mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      size = static_cast<int64_t>(st.st_size);
    }
    if (w.mtime_ns != -1 && (mtime != w.mtime_ns || size != w.size)) changed = true;
    w.mtime_ns = mtime;
    w.size = size;
  }
  return changed;
}

std::shared_ptr<const rules::Snapshot> Reloader::build(std::vector<std::string>* errors) {
  if (!snapshot_path_.empty()) {
    std::string err;
    auto snap = rules::loadSnapshot(snapshot_path_, &err);
    if (!snap) errors->push_back(err);
    return snap;
  }
  rules::CompileOptions options;
  options.cache = cache_.get();
  return rules::compileSnapshot(lists_, errors, nullptr, options);
}

void Reloader::watchBoundary(const rules::Snapshot& snap) {
  next_boundary_.store(snap.nextBoundary(), std::memory_order_relaxed);
}

Reloader::~Reloader() {
  if (compiler_.joinable()) compiler_.join();
}

void Reloader::setInitial(uint64_t version, size_t rules) {
  std::lock_guard<std::mutex> g(mu_);
  result_.version = version;
  result_.rules = rules;
  result_.last_time = std::chrono::system_clock::now();
}

bool Reloader::poll() {
  // A validity window opened or closed: the rules in force change without any file changing.
  const int64_t boundary = next_boundary_.load(std::memory_order_relaxed);
  if (boundary != rules::kForever &&
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) >= boundary) {
    next_boundary_.store(rules::kForever, std::memory_order_relaxed);
    request();
  }
  // A list file changed on disk (an operator's edit, a deploy tool): reload. Looked at once
  // a second; an editor's several writes in that second give one reload.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_watch_ >= std::chrono::seconds(1)) {
    last_watch_ = now;
    if (filesChanged()) request();
  }
  if (!compiler_.joinable()) {
    if (!requested_.exchange(false, std::memory_order_relaxed)) return false;
    (void)filesChanged();  // this compile reads the files as they are now: the new baseline
    started_ = std::chrono::steady_clock::now();
    uint64_t next_version;
    {
      std::lock_guard<std::mutex> g(mu_);
      next_version = result_.version + 1;
    }
    compiled_.store(false, std::memory_order_relaxed);
    compiler_ = std::thread([this, next_version] {
      std::vector<std::string> errors;
      std::shared_ptr<const rules::Snapshot> snap;
      try {
        snap = build(&errors);
      } catch (const std::exception& e) {
        errors.push_back(e.what());
      }
      if (snap) pending_ = RuleSet::make(std::move(snap), workers_, next_version);
      pending_errors_ = std::move(errors);
      // release: pending_ and pending_errors_ are complete before the flag says so.
      compiled_.store(true, std::memory_order_release);
    });
    return false;
  }
  if (!compiled_.load(std::memory_order_acquire)) return false;
  compiler_.join();
  const auto compiled_at = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> g(mu_);
  ++result_.attempts;
  result_.last_time = std::chrono::system_clock::now();
  result_.last_compile_s = std::chrono::duration<double>(compiled_at - started_).count();
  if (!pending_) {
    ++result_.failures;
    result_.last_ok = false;
    result_.last_error.clear();
    for (const auto& e : pending_errors_) result_.last_error += e + "\n";
    if (result_.last_error.empty()) result_.last_error = "rule lists rejected\n";
    return false;
  }
  const size_t rules = pending_->snap->ruleCount();
  watchBoundary(*pending_->snap);
  const uint64_t version = pending_->version;
  uint64_t wait_ns = 0;
  std::unique_ptr<const RuleSet> old = slot_->publish(std::move(pending_), &wait_ns);
  if (drain_events_) drain_events_();
  old.reset();
  result_.last_ok = true;
  result_.last_error.clear();
  result_.last_publish_s = static_cast<double>(wait_ns) / 1e9;
  result_.version = version;
  result_.rules = rules;
  return true;
}

ReloadResult Reloader::result() const {
  std::lock_guard<std::mutex> g(mu_);
  return result_;
}

}  // namespace cordon
