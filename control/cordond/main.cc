// cordond: the cordon enforcement daemon. Runs live on DPDK ports, or replays a capture
// through the same pipeline (ARCHITECTURE.md "Binaries and flags").

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "control/config.h"
#include "control/event_log.h"
#include "control/summary.h"
#include "dataplane/io/eal.h"
#include "dataplane/io/ports.h"
#include "dataplane/io/replay.h"
#include "dataplane/pipeline/worker.h"
#include "rules/snapshot.h"

namespace po = boost::program_options;
using namespace cordon;

namespace {

std::atomic<bool> g_stop{false};

void onSignal(int) {
  g_stop.store(true, std::memory_order_relaxed);
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
    "IP: drop). A one-line JSON summary is printed on stdout when the run ends.\n\n"
    "Options";

int fail(const std::string& msg, int code = 1) {
  std::cerr << "cordond: " << msg << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts(kUsage);
  std::string config_path, replay_in, replay_out, events_path, mode_text;
  std::vector<std::string> rule_paths;
  opts.add_options()("help,h", "show this help")("config,c", po::value(&config_path),
                                                 "YAML configuration file")(
      "rules,r", po::value(&rule_paths)->composing(),
      "rule list file (may repeat; named after the file's stem)")(
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

  std::vector<std::string> errors;
  std::shared_ptr<const rules::Snapshot> snap = rules::compileSnapshot(cfg.rules, &errors);
  if (!snap) {
    for (const auto& e : errors) std::cerr << e << "\n";
    return fail("rule lists rejected (" + std::to_string(errors.size()) + " error" +
                (errors.size() == 1 ? "" : "s") + ")");
  }
  if (vm.count("check")) {
    if (replay_in.empty() && cfg.ports.empty()) return fail(cfg.path + ": no dataplane.ports");
    std::cout << "{\"config\":\"ok\",\"lists\":" << cfg.rules.size()
              << ",\"rules\":" << snap->ruleCount() << ",\"ports\":" << cfg.ports.size() << "}\n";
    return 0;
  }
  const bool replay = !replay_in.empty();
  if (!replay && cfg.ports.empty()) return fail(cfg.path + ": no dataplane.ports to run on");
  if (!replay && cfg.workers > 1) {
    std::cerr << "cordond: note: this build runs one worker; dataplane.workers=" << cfg.workers
              << " is not used yet\n";
  }

  std::vector<PortSpec> ports;
  for (const auto& p : cfg.ports) ports.push_back({p.name, p.dev, p.role == "inject"});
  std::vector<std::string> eal = cfg.eal_args;
  if (replay) {
    eal.push_back("--no-pci");
  } else {
    const auto extra = portEalArgs(ports);
    eal.insert(eal.end(), extra.begin(), extra.end());
  }
  std::string err;
  if (!initEal(eal, &err)) return fail(err);

  // Replay copies whole captured frames (up to 64 KiB, e.g. GRO-merged captures) into one
  // mbuf each; live ports receive standard-size mbufs.
  const uint16_t room = replay ? UINT16_MAX : RTE_MBUF_DEFAULT_BUF_SIZE;
  const unsigned n_mbufs = replay ? 511 : 16383;
  rte_mempool* pool = rte_pktmbuf_pool_create("cordon_mbufs", n_mbufs, replay ? 0 : 256, 0, room,
                                              static_cast<int>(rte_socket_id()));
  if (!pool) return fail("cannot create the mbuf pool (not enough EAL memory? try -m)");

  WorkerOptions wo;
  wo.mode = cfg.mode;
  wo.actions = cfg.actions;
  wo.flow_capacity = cfg.flow_table_size;
  wo.inspect = !vm.count("no-inspect");
  wo.socket_id = static_cast<int>(rte_socket_id());
  std::unique_ptr<Worker> worker = Worker::create(wo, pool, &err);
  if (!worker) return fail(err);
  std::unique_ptr<rules::MatchScratch> scratch = snap->newScratch();
  worker->setSnapshot(snap.get(), scratch.get());

  EventLog log;
  try {
    if (!cfg.events_path.empty()) log.open(cfg.events_path);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  uint64_t events = 0;
  auto drain = [&] {
    SpscRing<EventRecord>& ring = worker->events();
    while (const EventRecord* e = ring.front()) {
      log.write(*e);
      ++events;
      ring.pop();
    }
  };

  int rc = 0;
  std::string extra;
  if (replay) {
    Replay r;
    ReplayStats st;
    if (!r.open(replay_in, replay_out, &err) || !r.run(worker.get(), pool, drain, &st, &err)) {
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
    LivePorts live;
    if (!live.start(ports, cfg.mode, pool, &err)) {
      live.shutdown();
      rte_eal_cleanup();
      return fail(err);
    }
    std::cerr << "cordond: running on " << ports.size() << " port(s), "
              << (cfg.mode == Mode::kInline ? "inline" : "mirror") << " mode\n";
    live.run(worker.get(), g_stop, [&] {
      drain();
      log.flush();
    });
    drain();
    live.shutdown();
    extra = "\"tx_dropped\":" + std::to_string(live.txDropped());
  }
  log.flush();
  std::cout << formatSummary(worker->counters(), events, extra) << std::endl;
  worker.reset();
  scratch.reset();
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return rc;
}
