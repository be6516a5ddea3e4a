#pragma once
// Rule reloads for a running cordond: compiles the configured lists on a background thread
// (off the fast path and off the control loop), then publishes the new RuleSet through the
// RuleSlot's RCU swap. A rejected list keeps the running rules; the result is kept for
// status reporting.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/pipeline/rule_slot.h"
#include "rules/pattern_set.h"
#include "rules/snapshot.h"

namespace cordon {

struct ReloadResult {
  uint64_t attempts = 0;
  uint64_t failures = 0;
  bool last_ok = true;
  std::string last_error;     // "file:line: reason" lines, when the last one failed
  double last_compile_s = 0;  // trigger to compiled
  double last_publish_s = 0;  // swap + grace period
  uint64_t version = 0;       // published rule version
  size_t rules = 0;           // rules in the published set
  std::chrono::system_clock::time_point last_time{};
};

class Reloader {
 public:
  // `drain_events` runs after a swap, before the old rules are freed: events still queued
  // in worker rings point at them and must be written first.
  // `snapshot_path`: reload from a file written by `cordonctl compile -o` instead of
  // compiling `lists`.
  Reloader(std::vector<rules::ListSource> lists, unsigned workers, RuleSlot* slot,
           std::function<void()> drain_events, std::string snapshot_path = "");
  ~Reloader();

  // Compiles (or loads) a rule snapshot the way reloads do, reusing cached Hyperscan
  // databases. nullptr with *errors on failure.
  std::shared_ptr<const rules::Snapshot> build(std::vector<std::string>* errors);
  // The snapshot just published (or the first one): schedules the reload at its next
  // validity boundary, when some entry's valid_from/valid_until window opens or closes.
  void watchBoundary(const rules::Snapshot& snap);

  // Asks for a reload (any thread, async-signal-safe: one relaxed store).
  void request() { requested_.store(true, std::memory_order_relaxed); }
  // Control loop: starts a requested compile, publishes a finished one. Returns true when a
  // new rule set went live in this call.
  bool poll();
  ReloadResult result() const;
  void setInitial(uint64_t version, size_t rules);

 private:
  std::vector<rules::ListSource> lists_;
  std::string snapshot_path_;
  std::unique_ptr<rules::PatternCache> cache_;           // used by the compiler thread only
  std::atomic<int64_t> next_boundary_{rules::kForever};  // Unix seconds
  // Watched files (lists, the snapshot file): mtime + size when last looked at.
  struct Watched {
    std::string path;
    int64_t mtime_ns = -1;
    int64_t size = -1;
  };
  std::vector<Watched> watched_;
  std::chrono::steady_clock::time_point last_watch_{};
  bool filesChanged();
  unsigned workers_;
  RuleSlot* slot_;
  std::function<void()> drain_events_;
  std::atomic<bool> requested_{false};
  std::thread compiler_;
  std::atomic<bool> compiled_{false};
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<RuleSet> pending_;  // written by the compiler thread before compiled_
  std::vector<std::string> pending_errors_;
  mutable std::mutex mu_;
  ReloadResult result_;
};

}  // namespace cordon
