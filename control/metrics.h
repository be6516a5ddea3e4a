#pragma once
// What the control plane reports about a running cordond: the answers of the control
// socket's status/stats/hits commands (JSON) and the Prometheus /metrics page. Lives on the
// control thread; worker counters are read with relaxed loads (each is a monotonic count
// written by one worker; a reading may be a few packets old, never torn).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "control/reloader.h"
#include "dataplane/act/event.h"
#include "dataplane/io/ports.h"
#include "dataplane/parse/counters.h"

namespace cordon {

// Everything one report needs, gathered by the caller at the time of the request.
struct TelemetryInput {
  std::vector<Counters> workers;     // per worker
  std::vector<uint32_t> flows;       // active flows per worker
  std::vector<double> busy_ratio;    // per worker, since start
  std::vector<double> busy_seconds;  // per worker, since start (counter)
  uint32_t flow_capacity = 0;        // per worker
  std::vector<PortReport> ports;
  ReloadResult reload;
  std::vector<std::pair<std::string, std::string>> lists;  // name, source (from the config)
  uint64_t events_written = 0;
  uint64_t events_lost = 0;
  std::string mode;
  std::string feeds_json = "[]";  // FeedScheduler::statusJson()
  std::string feeds_prometheus;   // FeedScheduler::prometheus()
  uint64_t evidence_records = 0;
  uint64_t evidence_failures = 0;
  uint64_t follower_lines_lost = 0;  // "events --follow" clients too slow to keep up
  uint64_t max_loop_gap_ns = 0;      // longest pause between worker iterations since last asked
};

class Telemetry {
 public:
  Telemetry() : started_(std::chrono::steady_clock::now()) {}
  // Counts one event by app_proto, event type, list and rule (control thread).
  void record(const EventRecord& e);

  std::string statusJson(const TelemetryInput& in) const;
  std::string statsJson(const TelemetryInput& in) const;
  std::string hitsJson() const;
  std::string prometheus(const TelemetryInput& in) const;

 private:
  double uptime() const;
  std::chrono::steady_clock::time_point started_;
  // (app_proto, event_type, list) -> events
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> blocks_;
  // (list, pattern) -> events
  std::map<std::pair<std::string, std::string>, uint64_t> rule_hits_;
};

// Relaxed copy of a worker's counters from another thread.
Counters loadCounters(const Counters& c);

}  // namespace cordon
