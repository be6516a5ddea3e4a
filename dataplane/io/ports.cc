#include "dataplane/io/ports.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <chrono>
#include <regex>

#include "dataplane/io/mbuf_time.h"

namespace cordon {
namespace {

// Descriptors per queue: enough to absorb a burst while the worker is busy.
constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

uint64_t wallNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string deviceName(const std::string& dev) {
  return dev.substr(0, dev.find(','));
}

}  // namespace

bool isPciAddress(const std::string& dev) {
  static const std::regex kPci("^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$");
  return std::regex_match(dev, kPci);
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

bool LivePorts::start(const std::vector<PortSpec>& specs, Mode mode, rte_mempool* rx_pool,
                      std::string* err) {
  std::vector<uint16_t> traffic;
  int inject = -1;
  for (const auto& s : specs) {
    uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(deviceName(s.dev).c_str(), &id) != 0) {
      *err = "port '" + s.name + "': device '" + s.dev + "' not found (is it bound to a DPDK " +
             "driver, or is the vdev spec valid?)";
      return false;
    }
    if (id >= kMaxPorts) {
      *err = "port '" + s.name + "': too many ports";
      return false;
    }
    rte_eth_conf conf{};
    int rc = rte_eth_dev_configure(id, 1, 1, &conf);
    if (rc == 0)
      rc = rte_eth_rx_queue_setup(id, 0, kRxDesc, rte_eth_dev_socket_id(id), nullptr, rx_pool);
    if (rc == 0) rc = rte_eth_tx_queue_setup(id, 0, kTxDesc, rte_eth_dev_socket_id(id), nullptr);
    if (rc == 0) rc = rte_eth_dev_start(id);
    if (rc != 0) {
      *err = "port '" + s.name + "' (" + s.dev + ") failed to start: " + rte_strerror(-rc);
      return false;
    }
    // Promiscuous mode: a bump in the wire forwards frames for any MAC. Not every vdev
    // supports it; that is not an error.
    (void)rte_eth_promiscuous_enable(id);
    ports_.push_back({s.name, id, s.inject});
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
  return true;
}

void LivePorts::run(Worker* w, const std::atomic<bool>& stop,
                    const std::function<void()>& after_burst) {
  rte_mbuf* burst[kBurstSize];
  TxBatch tx;
  rte_mbuf* per_port[kMaxPorts][kTxCapacity];
  uint16_t per_port_n[kMaxPorts] = {};
  auto last_tick = std::chrono::steady_clock::now();
  // relaxed: the flag only asks the loop to end; no data is published through it.
  while (!stop.load(std::memory_order_relaxed)) {
    bool any = false;
    for (const uint16_t port : rx_ports_) {
      const uint16_t n = rte_eth_rx_burst(port, 0, burst, kBurstSize);
      if (n == 0) continue;
      any = true;
      const uint64_t now = wallNs();
      for (uint16_t i = 0; i < n; ++i) setMbufTimeNs(burst[i], now);
      tx.n = 0;
      w->processBurst(port, burst, n, map_, &tx);
      for (uint16_t i = 0; i < tx.n; ++i) {
        const uint16_t out = tx.items[i].port;
        per_port[out][per_port_n[out]++] = tx.items[i].m;
      }
      for (uint16_t p = 0; p < kMaxPorts; ++p) {
        if (!per_port_n[p]) continue;
        const uint16_t sent = rte_eth_tx_burst(p, 0, per_port[p], per_port_n[p]);
        if (sent < per_port_n[p]) {
          tx_dropped_ += per_port_n[p] - sent;
          rte_pktmbuf_free_bulk(per_port[p] + sent, per_port_n[p] - sent);
        }
        per_port_n[p] = 0;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (any || now - last_tick > std::chrono::milliseconds(100)) {
      if (after_burst) after_burst();
      last_tick = now;
    }
    if (!any) rte_delay_us_sleep(50);  // idle: yield the core instead of spinning hot
  }
}

void LivePorts::shutdown() {
  for (const auto& p : ports_) {
    (void)rte_eth_dev_stop(p.id);
    (void)rte_eth_dev_close(p.id);
  }
  ports_.clear();
}

}  // namespace cordon
