#include "dataplane/io/ports.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "dataplane/io/mbuf_time.h"
#include "dataplane/io/spread.h"

namespace cordon {
namespace {

// Descriptors per queue: enough to absorb a burst while the worker is busy.
constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;
// Spread ring per worker: a few bursts of slack between worker 0 and the others.
constexpr unsigned kSpreadRing = 4096;
// An idle worker sleeps this long between polls, yielding the core (shared machines).
constexpr unsigned kIdleSleepUs = 50;

uint64_t wallNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t monoNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string deviceName(const std::string& dev) {
  return dev.substr(0, dev.find(','));
}

bool has(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a == flag || a.rfind(flag + "=", 0) == 0;
  });
}

}  // namespace

bool isPciAddress(const std::string& dev) {
  // [DDDD:]BB:SS.F with hex domain, bus and slot and a function digit 0-7.
  auto hex = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isxdigit(static_cast<unsigned char>(dev[i]))) return false;
    }
    return true;
  };
  size_t at = 0;
  if (dev.size() == 12) {
    if (!hex(0, 4) || dev[4] != ':') return false;
    at = 5;
  } else if (dev.size() != 7) {
    return false;
  }
  return hex(at, 2) && dev[at + 2] == ':' && hex(at + 3, 2) && dev[at + 5] == '.' &&
         dev[at + 6] >= '0' && dev[at + 6] <= '7';
}

std::vector<std::string> portEalArgs(const std::vector<PortSpec>& ports) {
  std::vector<std::string> args;
  bool any_pci = false;
  for (const auto& p : ports) {
    if (isPciAddress(p.dev)) {
      any_pci = true;
      args.push_back("-a");
    } else {
      args.push_back("--vdev");
    }
    args.push_back(p.dev);
  }
  if (!any_pci) args.push_back("--no-pci");
  return args;
}

std::vector<std::string> lcoreEalArgs(const std::vector<std::string>& eal, unsigned workers) {
  if (has(eal, "-l") || has(eal, "-c") || has(eal, "--lcores")) return {};
  const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  if (static_cast<long>(workers) + 1 <= cpus) return {"-l", "0-" + std::to_string(workers)};
  return {"--lcores=(0-" + std::to_string(workers) + ")@(0-" + std::to_string(cpus - 1) + ")"};
}

int countEalLcores(const std::vector<std::string>& eal) {
  for (size_t i = 0; i < eal.size(); ++i) {
    std::string flag = eal[i], value;
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < eal.size()) {
      value = eal[i + 1];
    }
    if (flag == "-c") {
      int n = 0;
      for (char ch : value.rfind("0x", 0) == 0 ? value.substr(2) : value) {
        if (!std::isxdigit(static_cast<unsigned char>(ch))) return -1;
        n += __builtin_popcount(static_cast<unsigned>(std::stoi(std::string(1, ch), nullptr, 16)));
      }
      return n;
    }
    if (flag == "-l" || flag == "--lcores") {
      // Comma-separated items; "a-b" ranges and "(a-b)@cpus" groups count their lcores.
      int n = 0;
      size_t at = 0;
      while (at < value.size()) {
        size_t end = value.find(',', at);
        if (value[at] == '(') end = value.find(')', at);
        std::string item = value.substr(at, end == std::string::npos ? end : end - at);
        if (!item.empty() && item[0] == '(') item = item.substr(1);
        item = item.substr(0, item.find('@'));
        const size_t dash = item.find('-');
        try {
          n += dash == std::string::npos
                   ? 1
                   : std::stoi(item.substr(dash + 1)) - std::stoi(item.substr(0, dash)) + 1;
        } catch (const std::exception&) {
          return -1;
        }
        if (end == std::string::npos) break;
        at = value.find(',', end);
        if (at == std::string::npos) break;
        ++at;
      }
      return n;
    }
  }
  return -1;
}

LivePorts::~LivePorts() {
  for (auto& s : states_) rte_ring_free(s->ring);
}

bool LivePorts::start(const std::vector<PortSpec>& specs, Mode mode, unsigned workers,
                      rte_mempool* rx_pool, std::string* err) {
  mode_ = mode;
  workers_ = std::max(1u, workers);
  if (workers_ > kMaxWorkers) {
    *err = "dataplane.workers: at most " + std::to_string(kMaxWorkers) + " workers";
    return false;
  }
  std::vector<uint16_t> traffic;
  int inject = -1;
  bool any_spread = false;
  for (const auto& s : specs) {
    uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(deviceName(s.dev).c_str(), &id) != 0) {
      *err = "port '" + s.name + "': device '" + s.dev + "' not found (is it bound to a DPDK " +
             "driver, or is the vdev spec valid?)";
      return false;
    }
    if (id >= kMaxPorts) {
      *err = "port '" + s.name + "': too many ports (at most " + std::to_string(kMaxPorts) + ")";
      return false;
    }
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(id, &info) != 0) {
      *err = "port '" + s.name + "' (" + s.dev + "): cannot read device info";
      return false;
    }
    rte_eth_conf conf{};
    const uint64_t rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
    // Symmetric Toeplitz: a key of repeated 0x6d5a gives both directions the same hash.
    std::vector<uint8_t> key(info.hash_key_size ? info.hash_key_size : 40);
    for (size_t i = 0; i < key.size(); ++i) key[i] = i % 2 ? 0x5a : 0x6d;
    const bool rss = !s.inject && workers_ > 1 && rss_hf != 0 && info.max_rx_queues >= workers_;
    uint16_t rxq = 1;
    if (rss) {
      rxq = static_cast<uint16_t>(workers_);
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = key.data();
      conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(key.size());
      conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    } else if (!s.inject && workers_ > 1) {
      any_spread = true;
    }
    const uint16_t txq = static_cast<uint16_t>(
        std::max<unsigned>(1, std::min<unsigned>(workers_, info.max_tx_queues)));
    int rc = rte_eth_dev_configure(id, rxq, txq, &conf);
    for (uint16_t q = 0; rc == 0 && q < rxq; ++q) {
      rc = rte_eth_rx_queue_setup(id, q, kRxDesc, rte_eth_dev_socket_id(id), nullptr, rx_pool);
    }
    for (uint16_t q = 0; rc == 0 && q < txq; ++q) {
      rc = rte_eth_tx_queue_setup(id, q, kTxDesc, rte_eth_dev_socket_id(id), nullptr);
    }
    if (rc == 0) rc = rte_eth_dev_start(id);
    if (rc != 0) {
      *err = "port '" + s.name + "' (" + s.dev + ") failed to start: " + rte_strerror(-rc);
      return false;
    }
    // Promiscuous mode: a bump in the wire forwards frames for any MAC. Not every vdev
    // supports it; that is not an error.
    (void)rte_eth_promiscuous_enable(id);
    ports_.push_back({s.name, id, s.inject, rss, rxq, txq});
    txq_[id] = txq;
    rss_[id] = rss;
    rte_spinlock_init(&tx_lock_[id]);
    if (s.inject) {
      if (inject >= 0) {
        *err = "port '" + s.name + "': only one inject port is supported";
        return false;
      }
      inject = id;
    } else {
      traffic.push_back(id);
    }
  }
  if (mode == Mode::kInline) {
    if (traffic.empty() || traffic.size() % 2 != 0) {
      *err = "inline mode bridges ports in pairs: configure an even number of ports (have " +
             std::to_string(traffic.size()) + ")";
      return false;
    }
    for (size_t i = 0; i + 1 < traffic.size(); i += 2) {
      map_.peer[traffic[i]] = traffic[i + 1];
      map_.peer[traffic[i + 1]] = traffic[i];
    }
  } else {
    if (traffic.empty() || inject < 0) {
      *err = "mirror mode needs at least one capture port and one port with role: inject";
      return false;
    }
    map_.inject = inject;
  }
  rx_ports_ = traffic;
  for (unsigned w = 0; w < workers_; ++w) {
    auto st = std::make_unique<WorkerState>();
    st->self = this;
    st->idx = w;
    if (any_spread && w > 0) {
      const std::string name = "cordon_spread" + std::to_string(w);
      st->ring =
          rte_ring_create(name.c_str(), kSpreadRing, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (!st->ring) {
        *err = "cannot create the spread ring for worker " + std::to_string(w) + ": " +
               rte_strerror(rte_errno);
        return false;
      }
    }
    states_.push_back(std::move(st));
  }
  return true;
}

int LivePorts::lcoreMain(void* arg) {
  auto* ws = static_cast<WorkerState*>(arg);
  ws->self->workerLoop(ws);
  return 0;
}

void LivePorts::flush(WorkerState* ws, rte_mbuf* (*out)[kTxCapacity], uint16_t* out_n,
                      uint16_t port) {
  const uint16_t n = out_n[port];
  if (!n) return;
  uint16_t sent;
  if (txq_[port] >= workers_) {
    sent = rte_eth_tx_burst(port, static_cast<uint16_t>(ws->idx), out[port], n);
  } else {
    // The device has fewer transmit queues than workers: share queue 0.
    rte_spinlock_lock(&tx_lock_[port]);
    sent = rte_eth_tx_burst(port, 0, out[port], n);
    rte_spinlock_unlock(&tx_lock_[port]);
  }
  if (sent < n) {
    ws->tx_dropped.fetch_add(n - sent, std::memory_order_relaxed);
    rte_pktmbuf_free_bulk(out[port] + sent, n - sent);
  }
  out_n[port] = 0;
}

void LivePorts::forwardUninspected(WorkerState* ws, rte_mbuf* m, rte_mbuf* (*out)[kTxCapacity],
                                   uint16_t* out_n) {
  ws->spread_overflow.fetch_add(1, std::memory_order_relaxed);
  if (mode_ != Mode::kInline) {
    rte_pktmbuf_free(m);
    return;
  }
  const uint16_t port = map_.peer[m->port];
  out[port][out_n[port]++] = m;
  if (out_n[port] == kTxCapacity) flush(ws, out, out_n, port);
}

void LivePorts::workerLoop(WorkerState* ws) {
  Worker* w = ws->worker;
  RuleSlot* slot = ws->slot;
  slot->online(ws->idx);
  const RuleSet* mine = nullptr;
  rte_mbuf* burst[kBurstSize];
  rte_mbuf* spread[kMaxWorkers][kBurstSize];
  uint16_t spread_n[kMaxWorkers] = {};
  TxBatch tx;
  rte_mbuf* out[kMaxPorts][kTxCapacity];
  uint16_t out_n[kMaxPorts] = {};
  uint64_t last = monoNs();

  auto process = [&](uint16_t port, rte_mbuf** pkts, uint16_t n) {
    tx.n = 0;
    w->processBurst(port, pkts, n, map_, &tx);
    for (uint16_t i = 0; i < tx.n; ++i) {
      const uint16_t o = tx.items[i].port;
      out[o][out_n[o]++] = tx.items[i].m;
      if (out_n[o] == kTxCapacity) flush(ws, out, out_n, o);
    }
  };

  // relaxed: the flag only asks the loop to end; no data is published through it.
  // Orderly stop: worker 0 (the spreader) stops receiving first; the others keep draining
  // their spread rings until worker 0 is done and the ring is empty, so nothing received is
  // left behind uninspected.
  auto keep_going = [&] {
    if (!ws->stop->load(std::memory_order_relaxed)) return true;
    if (ws->idx == 0 || !ws->ring) return false;
    // acquire: pairs with worker 0's release store, so its last enqueues are visible.
    return !spreader_done_.load(std::memory_order_acquire) || !rte_ring_empty(ws->ring);
  };
  while (keep_going()) {
    const RuleSet* rs = slot->acquire();
    if (rs != mine) {
      w->setSnapshot(rs->snap.get(), rs->scratch[ws->idx].get());
      mine = rs;
    }
    bool any = false;
    for (const uint16_t port : rx_ports_) {
      const bool spread_port = !rss_[port] && workers_ > 1;
      if (spread_port && ws->idx != 0) continue;
      const uint16_t q = spread_port ? 0 : static_cast<uint16_t>(ws->idx);
      const uint16_t n = rte_eth_rx_burst(port, q, burst, kBurstSize);
      if (n == 0) continue;
      any = true;
      const uint64_t now = wallNs();
      for (uint16_t i = 0; i < n; ++i) setMbufTimeNs(burst[i], now);
      if (!spread_port) {
        process(port, burst, n);
        continue;
      }
      // Worker 0 spreads: its own share is processed here, the rest goes to the rings.
      uint16_t own = 0;
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = burst[i];
        m->port = port;
        const unsigned t =
            spreadWorker({rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m)}, workers_);
        if (t == 0) {
          burst[own++] = m;
        } else {
          spread[t][spread_n[t]++] = m;
        }
      }
      if (own) process(port, burst, own);
      for (unsigned t = 1; t < workers_; ++t) {
        if (!spread_n[t]) continue;
        // Back-pressure: a full ring means worker t is behind. Worker 0 waits for it, which
        // slows its receiving, so a real NIC sheds the excess where it is counted (imissed)
        // and nothing is lost or let through uninspected inside cordond. Only at shutdown
        // (worker t may be gone) are the rest forwarded uninspected, counted.
        unsigned done = 0;
        for (;;) {
          done += rte_ring_sp_enqueue_burst(states_[t]->ring,
                                            reinterpret_cast<void**>(spread[t] + done),
                                            spread_n[t] - done, nullptr);
          // Worker t runs until worker 0 is done, so waiting always ends; only a worker that
          // has already left (it cannot, short of a bug) would be bypassed.
          if (done == spread_n[t] || !states_[t]->running.load(std::memory_order_acquire)) break;
          rte_pause();
        }
        for (unsigned i = done; i < spread_n[t]; ++i) {
          forwardUninspected(ws, spread[t][i], out, out_n);
        }
        spread_n[t] = 0;
      }
    }
    if (ws->ring) {
      const unsigned n =
          rte_ring_sc_dequeue_burst(ws->ring, reinterpret_cast<void**>(burst), kBurstSize, nullptr);
      // Runs of packets from one receive port go through the pipeline together.
      for (unsigned i = 0; i < n;) {
        unsigned j = i + 1;
        while (j < n && burst[j]->port == burst[i]->port) ++j;
        process(burst[i]->port, burst + i, static_cast<uint16_t>(j - i));
        i = j;
      }
      any = any || n > 0;
    }
    for (uint16_t p = 0; p < kMaxPorts; ++p) flush(ws, out, out_n, p);
    // This worker holds no reference into the RuleSet until the next acquire().
    slot->quiescent(ws->idx);
    const uint64_t t = monoNs();
    if (t - last > ws->max_gap_ns.load(std::memory_order_relaxed)) {
      ws->max_gap_ns.store(t - last, std::memory_order_relaxed);
    }
    if (any)
      ws->busy_ns.store(ws->busy_ns.load(std::memory_order_relaxed) + (t - last),
                        std::memory_order_relaxed);
    if (!any) {
      rte_delay_us_sleep(kIdleSleepUs);
      last = monoNs();  // sleeping on purpose is not a stall
    } else {
      last = t;
    }
  }
  slot->offline(ws->idx);
  if (ws->idx == 0) spreader_done_.store(true, std::memory_order_release);
  ws->running.store(false, std::memory_order_release);
}

bool LivePorts::run(const std::vector<Worker*>& workers, RuleSlot* slot,
                    const std::atomic<bool>& stop, const std::function<void()>& control_tick,
                    std::string* err) {
  if (workers.size() != states_.size()) {
    *err = "internal: " + std::to_string(workers.size()) + " workers for " +
           std::to_string(states_.size()) + " worker states";
    return false;
  }
  std::vector<unsigned> lcores;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) {
    lcores.push_back(lc);
  }
  if (lcores.size() < workers.size()) {
    *err = std::to_string(workers.size()) + " workers need " + std::to_string(workers.size() + 1) +
           " EAL lcores (one for control); have " + std::to_string(lcores.size() + 1) +
           ": give dataplane.eal -l 0-" + std::to_string(workers.size());
    return false;
  }
  run_start_ns_.store(monoNs(), std::memory_order_relaxed);
  spreader_done_.store(false, std::memory_order_relaxed);
  for (auto& st : states_) st->running.store(true, std::memory_order_relaxed);
  for (size_t i = 0; i < workers.size(); ++i) {
    WorkerState* ws = states_[i].get();
    ws->worker = workers[i];
    ws->slot = slot;
    ws->stop = &stop;
    const int rc = rte_eal_remote_launch(lcoreMain, ws, lcores[i]);
    if (rc != 0) {
      *err = "cannot launch worker " + std::to_string(i) + " on lcore " + std::to_string(lcores[i]);
      // Ask the ones already running to stop; the rest never ran (worker 0 must not wait
      // on their rings).
      for (size_t j = i; j < states_.size(); ++j) {
        states_[j]->running.store(false, std::memory_order_release);
      }
      if (i == 0) spreader_done_.store(true, std::memory_order_release);
      const_cast<std::atomic<bool>&>(stop).store(true, std::memory_order_relaxed);
      rte_eal_mp_wait_lcore();
      return false;
    }
  }
  while (!stop.load(std::memory_order_relaxed)) {
    if (control_tick) control_tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  rte_eal_mp_wait_lcore();
  // Packets still waiting in spread rings belong to no one now.
  for (auto& st : states_) {
    void* m;
    while (st->ring && rte_ring_sc_dequeue(st->ring, &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
  }
  if (control_tick) control_tick();
  return true;
}

void LivePorts::shutdown() {
  for (const auto& p : ports_) {
    (void)rte_eth_dev_stop(p.id);
    (void)rte_eth_dev_close(p.id);
  }
  ports_.clear();
}

uint64_t LivePorts::txDropped() const {
  uint64_t n = 0;
  for (const auto& s : states_) n += s->tx_dropped.load(std::memory_order_relaxed);
  return n;
}

uint64_t LivePorts::spreadOverflow() const {
  uint64_t n = 0;
  for (const auto& s : states_) n += s->spread_overflow.load(std::memory_order_relaxed);
  return n;
}

uint64_t LivePorts::takeMaxLoopGapNs() {
  uint64_t n = 0;
  // The worker's own load-compare-store may overwrite the reset with a gap measured just
  // before it: harmless, the next reading is at most one gap late.
  for (auto& s : states_) n = std::max(n, s->max_gap_ns.exchange(0, std::memory_order_relaxed));
  return n;
}

std::vector<double> LivePorts::busyRatios() const {
  std::vector<double> v;
  const uint64_t start = run_start_ns_.load(std::memory_order_relaxed);
  const double span = start ? static_cast<double>(monoNs() - start) : 0;
  for (const auto& s : states_) {
    v.push_back(span > 0 ? static_cast<double>(s->busy_ns.load(std::memory_order_relaxed)) / span
                         : 0);
  }
  return v;
}

std::vector<double> LivePorts::busySeconds() const {
  std::vector<double> v;
  for (const auto& s : states_) {
    v.push_back(static_cast<double>(s->busy_ns.load(std::memory_order_relaxed)) / 1e9);
  }
  return v;
}

std::vector<PortReport> LivePorts::reports() const {
  std::vector<PortReport> v;
  for (const auto& p : ports_) {
    rte_eth_stats st{};
    (void)rte_eth_stats_get(p.id, &st);
    v.push_back({p.name, p.id, p.rss, p.rxq, p.txq, st.ipackets, st.opackets, st.ibytes, st.obytes,
                 st.imissed, st.ierrors, st.oerrors});
  }
  return v;
}

}  // namespace cordon
