// cordond: the cordon enforcement daemon. Runs live on DPDK ports, or replays a capture
// through the same pipeline (ARCHITECTURE.md "Binaries and flags").

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "control/config.h"
#include "control/control_server.h"
#include "control/event_log.h"
#include "control/evidence/sink.h"
#include "control/feed/scheduler.h"
#include "control/metrics.h"
#include "control/reloader.h"
#include "control/summary.h"
#include "dataplane/io/eal.h"
#include "dataplane/io/ports.h"
#include "dataplane/io/replay.h"
#include "dataplane/pipeline/rule_slot.h"
#include "dataplane/pipeline/worker.h"
#include "rules/snapshot.h"

namespace po = boost::program_options;
using namespace cordon;

namespace {

std::atomic<bool> g_stop{false};

std::atomic<bool> g_hangup{false};
std::atomic<bool> g_reopen{false};

void onSignal(int) {
  g_stop.store(true, std::memory_order_relaxed);
}

// SIGHUP: reload the rule lists and reopen the event log (after rotation).
void onHangup(int) {
  g_hangup.store(true, std::memory_order_relaxed);
}

// SIGUSR1: reopen the event log only (logrotate's postrotate; no rule recompile).
void onReopen(int) {
  g_reopen.store(true, std::memory_order_relaxed);
}

constexpr const char* kUsage =
    "Usage:\n"
    "  cordond --config FILE                 run live on the DPDK ports named in FILE\n"
    "  cordond --config FILE --check         validate config and rule lists, then exit\n"
    "  cordond [--config FILE] [--rules LIST]... --replay IN.pcap [--write OUT.pcap]\n"
    "          [--events EVENTS.jsonl] [--mode inline|mirror]\n"
    "                                        replay a capture through the pipeline and exit\n\n"
    "Without --config every rule of --rules lists blocks with the default actions\n"
    "(TLS: RST both ends; HTTP: RST, or 302 when a notice URL is configured; DNS: NXDOMAIN;\n"
    "IP: drop). --snapshot FILE replaces the lists with a file from 'cordonctl compile -o'.\n"
    "A one-line JSON summary is printed on stdout when the run ends. Live, SIGHUP reloads the\n"
    "rules and reopens the event log, SIGUSR1 only reopens the event log (log rotation);\n"
    "SIGINT/SIGTERM drain and exit.\n\n"
    "Options";

int fail(const std::string& msg, int code = 1) {
  std::cerr << "cordond: " << msg << "\n";
  return code;
}

// Settings whose errors would otherwise surface only after start-up: the metrics address,
// the event log's directory, and enough EAL lcores for the workers plus control.
bool checkRuntimeSettings(const Config& cfg, bool live, std::string* err) {
  const std::string where = cfg.path.empty() ? "" : cfg.path + ": ";
  if (live && !cfg.metrics.empty()) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!parseListenAddress(cfg.metrics, &ss, &len, err)) {
      *err = where + *err;
      return false;
    }
  }
  if (!cfg.events_path.empty() && cfg.events_path != "-") {
    std::filesystem::path dir = std::filesystem::path(cfg.events_path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
      *err = where + "events.path: directory " + dir.string() +
             " does not exist or is not "
             "writable";
      return false;
    }
  }
  const int lcores = countEalLcores(cfg.eal_args);
  if (live && lcores >= 0 && lcores < static_cast<int>(cfg.workers) + 1) {
    *err = where + "dataplane.eal gives " + std::to_string(lcores) + " lcore(s); " +
           std::to_string(cfg.workers) + " worker(s) need " + std::to_string(cfg.workers + 1) +
           " (one for control)";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts(kUsage);
  std::string config_path, replay_in, replay_out, events_path, mode_text, snapshot_path;
  std::vector<std::string> rule_paths;
  opts.add_options()("help,h", "show this help")("config,c", po::value(&config_path),
                                                 "YAML configuration file")(
      "rules,r", po::value(&rule_paths)->composing(),
      "rule list file (may repeat; named after the file's stem)")(
      "snapshot", po::value(&snapshot_path),
      "load rules compiled by 'cordonctl compile -o' instead of lists (reloads re-read it)")(
      "replay", po::value(&replay_in), "replay this pcap/pcapng capture and exit")(
      "write,w", po::value(&replay_out), "write forwarded and injected packets to this pcap")(
      "events,e", po::value(&events_path), "write EVE JSON events to this file ('-': stdout)")(
      "mode", po::value(&mode_text), "inline (default) or mirror; overrides the config")(
      "check", "validate config and rules without starting ports")(
      "no-inspect", "forward without inspecting (benchmark baseline)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "cordond: " << e.what() << "\n\n" << opts << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (config_path.empty() && replay_in.empty()) {
    std::cerr << "cordond: give --config FILE to run live, or --replay IN to replay\n\n"
              << opts << "\n";
    return 2;
  }

  Config cfg;
  try {
    if (!config_path.empty()) cfg = loadConfig(config_path);
  } catch (const ConfigError& e) {
    return fail(e.what());
  }
  for (const auto& p : rule_paths) cfg.rules.push_back(listFromPath(p));
  if (!mode_text.empty()) {
    if (mode_text == "inline") {
      cfg.mode = Mode::kInline;
    } else if (mode_text == "mirror") {
      cfg.mode = Mode::kMirror;
    } else {
      return fail("--mode must be inline or mirror, not '" + mode_text + "'", 2);
    }
  }
  if (!events_path.empty()) cfg.events_path = events_path;

  // Feeds: fetch (or fall back to the last good copy) before the first compile, so lists
  // named by URL compile from their cached copies like any file.
  feed::FeedScheduler feeds(feed::feedSourcesFromConfig(cfg));
  if (!feeds.empty()) {
    std::vector<std::string> feed_warnings;
    std::string feed_err;
    if (!feeds.prepare(&cfg.rules, &feed_warnings, &feed_err)) return fail(feed_err);
    for (const auto& w : feed_warnings) std::cerr << "cordond: warning: " << w << "\n";
  }

  std::vector<std::string> errors;
  std::shared_ptr<const rules::Snapshot> snap;
  if (!snapshot_path.empty()) {
    if (!cfg.rules.empty()) {
      return fail("give either --snapshot or rule lists (--rules, config rules:), not both", 2);
    }
    std::string err;
    snap = rules::loadSnapshot(snapshot_path, &err);
    if (!snap) return fail(err);
  } else {
    snap = rules::compileSnapshot(cfg.rules, &errors);
  }
  if (!snap) {
    for (const auto& e : errors) std::cerr << e << "\n";
    return fail("rule lists rejected (" + std::to_string(errors.size()) + " error" +
                (errors.size() == 1 ? "" : "s") + ")");
  }
  // What would only fail once ports are up is checked here too, so --check catches it.
  if (std::string e; !checkRuntimeSettings(cfg, replay_in.empty(), &e)) return fail(e);
  if (vm.count("check")) {
    if (std::string e; cfg.evidence.enabled() && !evidence::checkEvidenceConfig(cfg.evidence, &e)) {
      return fail("evidence: " + e);
    }
    if (replay_in.empty() && cfg.ports.empty()) return fail(cfg.path + ": no dataplane.ports");
    std::cout << "{\"config\":\"ok\",\"lists\":" << cfg.rules.size()
              << ",\"rules\":" << snap->ruleCount() << ",\"ports\":" << cfg.ports.size() << "}\n";
    return 0;
  }
  const bool replay = !replay_in.empty();
  if (!replay && cfg.ports.empty()) return fail(cfg.path + ": no dataplane.ports to run on");
  // Replay runs one worker on the main thread; live runs dataplane.workers workers.
  const unsigned n_workers = replay ? 1 : std::max(1u, cfg.workers);

  std::vector<PortSpec> ports;
  for (const auto& p : cfg.ports) ports.push_back({p.name, p.dev, p.role == "inject"});
  std::vector<std::string> eal = cfg.eal_args;
  if (replay) {
    eal.push_back("--no-pci");
  } else {
    const auto extra = portEalArgs(ports);
    eal.insert(eal.end(), extra.begin(), extra.end());
    const auto lcores = lcoreEalArgs(cfg.eal_args, n_workers);
    eal.insert(eal.end(), lcores.begin(), lcores.end());
  }
  std::string err;
  if (!initEal(eal, &err)) return fail(err);

  // Replay copies whole captured frames (up to 64 KiB, e.g. GRO-merged captures) into one
  // mbuf each; live ports receive standard-size mbufs: enough for every receive ring of every
  // worker, the spread rings, in-flight bursts and per-lcore caches.
  const uint16_t room = replay ? UINT16_MAX : RTE_MBUF_DEFAULT_BUF_SIZE;
  const unsigned n_mbufs =
      replay ? 511 : 8191 + static_cast<unsigned>(ports.size() + 2) * n_workers * 2048;
  rte_mempool* pool = rte_pktmbuf_pool_create("cordon_mbufs", n_mbufs, replay ? 0 : 256, 0, room,
                                              static_cast<int>(rte_socket_id()));
  if (!pool) return fail("cannot create the mbuf pool (not enough EAL memory? try -m)");

  RuleSlot slot;
  const size_t first_rules = snap->ruleCount();
  if (!slot.init(n_workers, RuleSet::make(std::move(snap), n_workers, 1), &err)) {
    return fail(err);
  }
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Worker*> worker_ptrs;
  for (unsigned i = 0; i < n_workers; ++i) {
    WorkerOptions wo;
    wo.id = i;
    wo.mode = cfg.mode;
    wo.actions = cfg.actions;
    wo.flow_capacity = cfg.flow_table_size;
    wo.inspect = !vm.count("no-inspect");
    wo.socket_id = static_cast<int>(rte_socket_id());
    workers.push_back(Worker::create(wo, pool, &err));
    if (!workers.back()) return fail(err);
    worker_ptrs.push_back(workers.back().get());
  }

  EventLog log;
  try {
    if (!cfg.events_path.empty()) log.open(cfg.events_path);
    log.setRotation(cfg.events_max_bytes, cfg.events_keep);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  // The evidence ledger gets every event the log gets, in the same order.
  std::unique_ptr<evidence::EvidenceSink> evidence_sink;
  if (cfg.evidence.enabled()) {
    evidence_sink = evidence::EvidenceSink::open(cfg.evidence, &err);
    if (!evidence_sink) return fail("evidence: " + err);
  }
  uint64_t events = 0;
  Telemetry telemetry;
  ControlServer* control_server = nullptr;  // live mode: "events --follow" clients
  std::string line;
  // Control thread only: the consumer side of every worker's event ring.
  auto drain = [&] {
    for (auto& w : workers) {
      SpscRing<EventRecord>& ring = w->events();
      while (const EventRecord* e = ring.front()) {
        log.write(*e);
        if (evidence_sink) evidence_sink->record(*e, {e->frame, e->frame_len});
        telemetry.record(*e);
        if (control_server) {
          line.clear();
          formatEvent(*e, &line);
          line.push_back('\n');
          control_server->publishEvent(line);
        }
        ++events;
        ring.pop();
      }
    }
  };

  int rc = 0;
  std::string extra;
  if (replay) {
    const RuleSet* rs = slot.current();
    workers[0]->setSnapshot(rs->snap.get(), rs->scratch[0].get());
    Replay r;
    ReplayStats st;
    if (!r.open(replay_in, replay_out, &err) || !r.run(workers[0].get(), pool, drain, &st, &err)) {
      rc = fail(err);
    }
    drain();
    char buf[128];
    std::snprintf(buf, sizeof buf, "\"seconds\":%.6f,\"pps\":%.0f", st.seconds,
                  st.seconds > 0 ? static_cast<double>(st.read) / st.seconds : 0.0);
    extra = buf;
  } else {
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    std::signal(SIGHUP, onHangup);
    std::signal(SIGUSR1, onReopen);
    LivePorts live;
    if (!live.start(ports, cfg.mode, n_workers, pool, &err)) {
      live.shutdown();
      rte_eal_cleanup();
      return fail(err);
    }
    Reloader reloader(cfg.rules, n_workers, &slot, drain, snapshot_path);
    reloader.setInitial(1, first_rules);
    reloader.watchBoundary(*slot.current()->snap);
    auto gather = [&] {
      TelemetryInput in;
      for (const auto& w : workers) {
        in.workers.push_back(loadCounters(w->counters()));
        in.flows.push_back(w->activeFlows());
      }
      in.busy_ratio = live.busyRatios();
      in.busy_seconds = live.busySeconds();
      in.max_loop_gap_ns = live.takeMaxLoopGapNs();
      in.flow_capacity = cfg.flow_table_size;
      in.ports = live.reports();
      in.reload = reloader.result();
      for (const auto& l : cfg.rules) in.lists.emplace_back(l.name, l.path);
      in.events_written = events;
      Counters t;
      for (const auto& w : in.workers) t.add(w);
      in.events_lost = t.get(Counter::events_dropped);
      in.mode = cfg.mode == Mode::kInline ? "inline" : "mirror";
      in.feeds_json = feeds.statusJson();
      in.feeds_prometheus = feeds.prometheus();
      if (evidence_sink) {
        in.evidence_records = evidence_sink->recorded();
        in.evidence_failures = evidence_sink->failures();
      }
      in.follower_lines_lost = control_server ? control_server->followerLinesLost() : 0;
      return in;
    };
    ControlServer server({
        .status = [&] { return telemetry.statusJson(gather()); },
        .stats = [&] { return telemetry.statsJson(gather()); },
        .hits = [&] { return telemetry.hitsJson(); },
        .metrics = [&] { return telemetry.prometheus(gather()); },
        .reload = [&] { reloader.request(); },
    });
    control_server = &server;
    if (!cfg.control_socket.empty() && !server.listenUnix(cfg.control_socket, 0660, &err)) {
      live.shutdown();
      return fail(err);
    }
    if (!cfg.metrics.empty() && !server.listenMetrics(cfg.metrics, &err)) {
      live.shutdown();
      return fail(err);
    }
    std::cerr << "cordond: running on " << ports.size() << " port(s), "
              << (cfg.mode == Mode::kInline ? "inline" : "mirror") << " mode, " << n_workers
              << " worker(s), " << first_rules << " rules";
    if (!cfg.control_socket.empty()) std::cerr << "; control socket " << cfg.control_socket;
    if (!cfg.metrics.empty()) std::cerr << "; metrics on port " << server.metricsPort();
    std::cerr << "\n";
    auto last_flush = std::chrono::steady_clock::now();
    uint64_t seen_attempts = 0;
    const bool ok = live.run(
        worker_ptrs, &slot, g_stop,
        [&] {
          drain();
          const bool hangup = g_hangup.exchange(false, std::memory_order_relaxed);
          if (hangup) {
            reloader.request();
            feeds.refreshAll();
          }
          if (g_reopen.exchange(false, std::memory_order_relaxed) || hangup) {
            if (!log.reopen()) std::cerr << "cordond: cannot reopen the event log; keeping it\n";
          }
          if (feeds.poll()) reloader.request();
          for (const auto& m : feeds.takeMessages()) std::cerr << "cordond: " << m << "\n";
          reloader.poll();
          if (evidence_sink) evidence_sink->poll();
          const ReloadResult r = reloader.result();
          if (r.attempts != seen_attempts) {
            seen_attempts = r.attempts;
            if (r.last_ok) {
              std::cerr << "cordond: rules reloaded: version " << r.version << ", " << r.rules
                        << " rules, compiled in " << r.last_compile_s << " s, grace period "
                        << r.last_publish_s * 1e3 << " ms\n";
            } else {
              std::cerr << "cordond: reload rejected, keeping rule version " << r.version << ":\n"
                        << r.last_error;
            }
            if (server.reloadPending()) server.finishReload(telemetry.statusJson(gather()));
          }
          server.poll();
          const auto now = std::chrono::steady_clock::now();
          if (now - last_flush > std::chrono::milliseconds(100)) {
            log.flush();
            last_flush = now;
          }
        },
        &err);
    control_server = nullptr;
    if (!ok) rc = fail(err);
    drain();
    extra = "\"workers\":" + std::to_string(n_workers) +
            ",\"tx_dropped\":" + std::to_string(live.txDropped()) +
            ",\"spread_overflow\":" + std::to_string(live.spreadOverflow()) +
            ",\"rule_version\":" + std::to_string(reloader.result().version);
    live.shutdown();
  }
  log.flush();
  if (evidence_sink) {
    if (!evidence_sink->close(&err)) std::cerr << "cordond: evidence: " << err << "\n";
    if (evidence_sink->failures()) {
      std::cerr << "cordond: evidence: " << evidence_sink->failures()
                << " record(s) could not be written: " << evidence_sink->lastError() << "\n";
    }
    extra += std::string(extra.empty() ? "" : ",") +
             "\"evidence_records\":" + std::to_string(evidence_sink->recorded());
  }
  Counters total;
  for (const auto& w : workers) total.add(w->counters());
  std::cout << formatSummary(total, events, extra) << std::endl;
  workers.clear();
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return rc;
}
