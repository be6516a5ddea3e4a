#pragma once
// Live DPDK ports: EAL arguments for the configured devices, port start-up, and the
// receive-process-transmit loop (inline: ports bridged in pairs; mirror: capture ports plus
// one inject port).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/pipeline/worker.h"

namespace cordon {

struct PortSpec {
  std::string name;
  std::string dev;  // PCI address ("0000:3b:00.0") or vdev spec ("net_pcap0,rx_pcap=a.pcap")
  bool inject = false;
};

// True for a PCI address such as 0000:3b:00.0 or 3b:00.0.
bool isPciAddress(const std::string& dev);

// EAL arguments that make the devices appear: -a for PCI addresses, --vdev for the rest,
// and --no-pci when no PCI device is configured.
std::vector<std::string> portEalArgs(const std::vector<PortSpec>& ports);

class LivePorts {
 public:
  // Finds, configures and starts every port (after EAL init). Inline mode needs an even
  // number of traffic ports (bridged 0-1, 2-3, ...); mirror mode at least one capture port
  // and exactly one inject port. False with *err naming the port on failure.
  bool start(const std::vector<PortSpec>& ports, Mode mode, rte_mempool* rx_pool, std::string* err);
  // Polls until *stop is set; after_burst runs after each non-empty burst and at least
  // every 100 ms.
  void run(Worker* w, const std::atomic<bool>& stop, const std::function<void()>& after_burst);
  // Stops and closes every port (flushes pcap vdevs).
  void shutdown();

  uint64_t txDropped() const { return tx_dropped_; }

 private:
  struct Port {
    std::string name;
    uint16_t id;
    bool inject;
  };
  std::vector<Port> ports_;
  std::vector<uint16_t> rx_ports_;
  PortMap map_;
  uint64_t tx_dropped_ = 0;
};

}  // namespace cordon
