#pragma once
// Keeps cordond's blacklist feeds fresh (control/feed/FEEDS.md). Fetches run on one
// background thread, so the control loop never waits on the network; the control loop asks
// poll() whether a feed changed and, if so, reloads the rules. A feed-backed list always
// reads its last good copy (FeedSource::dataPath()), which only a complete, verified and
// validated body ever replaces, so a bad fetch leaves the running rules and the next
// restart's rules alone.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/config.h"
#include "control/feed/fetcher.h"
#include "rules/snapshot.h"

namespace cordon::feed {

// One feed as `cordonctl status` shows it.
struct FeedStatus {
  std::string name;
  std::string url;
  std::string result = "pending";  // updated | not_modified | failed | pending | cached
  std::string error;               // the last failure; "" once a fetch succeeds
  int64_t last_attempt = 0;        // Unix seconds of the last finished fetch (0: none)
  int64_t last_success = 0;        // ... of the last one that reached the feed
  int64_t fetched_at = 0;          // when the copy in use was fetched
  uint64_t bytes = 0;              // size of the copy in use
  std::string sha256;              // of the copy in use
  bool verified = false;           // the copy in use carries a verified signature
  uint64_t attempts = 0;
  uint64_t failures = 0;
  uint64_t consecutive_failures = 0;
  std::string path;  // the copy in use ("" when there is none)
};

// FeedSources for every rules[] entry with a `url` in `cfg`, each validated with the rule
// reader for its list's format before it may replace the last good copy.
std::vector<FeedSource> feedSourcesFromConfig(const Config& cfg);

// Validates a candidate as a rule list in `ls`'s format: a problem of the whole file (binary,
// unreadable) always rejects it; an invalid entry rejects it when the list is strict.
FeedValidator ruleListValidator(const rules::ListSource& ls);

class FeedScheduler {
 public:
  explicit FeedScheduler(std::vector<FeedSource> feeds);
  // Cancels a running transfer and joins the fetch thread.
  ~FeedScheduler();
  FeedScheduler(const FeedScheduler&) = delete;
  FeedScheduler& operator=(const FeedScheduler&) = delete;

  bool empty() const { return feeds_.empty(); }

  // Start-up, blocking (every feed fetched in parallel, each within its timeout): points each
  // feed-backed entry of *lists (matched by name) at its last good copy. A feed that cannot be
  // fetched falls back to its last good copy, with a line in *warnings; a feed with neither
  // fails the call with *err (every such feed, one per line).
  bool prepare(std::vector<rules::ListSource>* lists, std::vector<std::string>* warnings,
               std::string* err);

  // Control loop, never blocks: hands feeds whose refresh is due to the fetch thread and
  // collects finished fetches. True when, since the last call, a feed got a new last good
  // copy (the caller should reload the rules). A failed feed is retried sooner than its
  // refresh (30 s, doubling, at most the refresh interval).
  bool poll(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // Fetch every feed at the next poll() (e.g. on `cordonctl reload` or SIGHUP).
  void refreshAll();
  // One line per finished fetch since the last call, for the daemon's log ("feed 'x':
  // updated, N bytes, sha256 ..." / the error). Not-modified results are not reported.
  std::vector<std::string> takeMessages();

  std::vector<FeedStatus> status() const;
  // status() as a JSON array of objects (keys as in FeedStatus; times are RFC 3339 or null).
  std::string statusJson() const;
  // Prometheus text lines (cordon_feed_*{feed="NAME"}: last success and copy times, bytes,
  // attempts, failures, consecutive failures) to append to /metrics.
  std::string prometheus() const;

 private:
  struct State {
    FeedStatus st;
    std::chrono::steady_clock::time_point next_due{};  // epoch: due now
    bool queued = false;    // handed to the fetch thread, not yet collected
    bool finished = false;  // fetched, waiting for poll() to schedule the next one
    bool ok = false;        // the finished fetch succeeded
  };
  void run();
  void apply(size_t i, const FetchResult& r);  // under mu_

  std::vector<FeedSource> feeds_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<State> state_;
  std::deque<size_t> queue_;
  bool changed_ = false;
  std::vector<std::string> messages_;
  std::thread thread_;
};

}  // namespace cordon::feed
