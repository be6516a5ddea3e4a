#pragma once
// Live DPDK ports: EAL arguments for the configured devices, port start-up, and the
// multi-core receive-process-transmit loop (inline: ports bridged in pairs; mirror: capture
// ports plus one inject port).
//
// Flow affinity: both directions of a connection must reach the same worker, whose flow
// table holds its state. A port whose device offers RSS gets one receive queue per worker
// and a symmetric Toeplitz key (the repeated 0x6d5a key hashes (a,b) and (b,a) alike). A port
// without RSS has one receive queue, polled by worker 0, which spreads packets to the other
// workers through per-worker rings by a symmetric software hash (spread.h); a full ring makes
// worker 0 wait, so overload is shed by the NIC (counted as rx_missed). Every worker has
// its own transmit queue where the device offers enough; otherwise workers share a queue
// under a per-queue spinlock (virtual devices only, in practice).

#include <rte_ring.h>
#include <rte_spinlock.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/pipeline/rule_slot.h"
#include "dataplane/pipeline/worker.h"

namespace cordon {

// Upper bound on workers (sizes per-worker arrays on the worker's stack).
inline constexpr unsigned kMaxWorkers = 64;

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

// EAL lcore arguments for `workers` workers plus the control (main) lcore, unless `eal`
// already chooses lcores (-l, -c, --lcores): pinned "-l 0-W" when the machine has enough
// CPUs, otherwise W+1 threads floating over all CPUs (functional, not for production).
std::vector<std::string> lcoreEalArgs(const std::vector<std::string>& eal, unsigned workers);

// How many lcores the EAL arguments give (-l LIST, -c MASK, --lcores MAP), or -1 when they
// do not say (lcoreEalArgs then adds enough).
int countEalLcores(const std::vector<std::string>& eal);

// Per-port figures for the control plane (read from the device by the control thread).
struct PortReport {
  std::string name;
  uint16_t id;
  bool rss;  // receive queues spread by the device
  uint16_t rx_queues, tx_queues;
  uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors;
};

class LivePorts {
 public:
  LivePorts() = default;
  LivePorts(const LivePorts&) = delete;
  LivePorts& operator=(const LivePorts&) = delete;
  ~LivePorts();

  // Finds, configures and starts every port (after EAL init) for `workers` workers. Inline
  // mode needs an even number of traffic ports (bridged 0-1, 2-3, ...); mirror mode at least
  // one capture port and exactly one inject port. False with *err naming the port.
  bool start(const std::vector<PortSpec>& ports, Mode mode, unsigned workers, rte_mempool* rx_pool,
             std::string* err);

  // Launches workers[i] on worker lcore i and runs `control_tick` on the calling (main)
  // lcore about every millisecond until *stop is set; then stops the workers and returns.
  // False with *err when there are fewer worker lcores than workers.
  bool run(const std::vector<Worker*>& workers, RuleSlot* slot, const std::atomic<bool>& stop,
           const std::function<void()>& control_tick, std::string* err);

  // Stops and closes every port (flushes pcap vdevs).
  void shutdown();

  uint64_t txDropped() const;
  // Packets forwarded uninspected because their worker had already stopped (should stay 0:
  // a full spread ring back-pressures worker 0, and workers stop in order).
  uint64_t spreadOverflow() const;
  std::vector<PortReport> reports() const;
  // Nanoseconds of the longest gap between two loop iterations of any worker since the last
  // call (the reload benchmark: a swap must not stall a worker), and restarts the measure.
  uint64_t takeMaxLoopGapNs();
  // Per worker: share of wall time since run() started spent on loop iterations that had
  // packets to process.
  std::vector<double> busyRatios() const;
  // Per worker: seconds spent on iterations that had packets (a counter: rate() of it is the
  // current busy ratio).
  std::vector<double> busySeconds() const;

 private:
  struct Port {
    std::string name;
    uint16_t id;
    bool inject;
    bool rss;
    uint16_t rxq, txq;
  };
  struct alignas(64) WorkerState {
    LivePorts* self = nullptr;
    unsigned idx = 0;
    Worker* worker = nullptr;
    RuleSlot* slot = nullptr;
    const std::atomic<bool>* stop = nullptr;
    rte_ring* ring = nullptr;  // packets spread to this worker by worker 0
    // Written by the worker only; read by the control thread (relaxed).
    std::atomic<uint64_t> tx_dropped{0};
    std::atomic<uint64_t> spread_overflow{0};
    std::atomic<bool> running{false};  // set before launch, cleared when its loop ends
    std::atomic<uint64_t> max_gap_ns{0};
    std::atomic<uint64_t> busy_ns{0};
  };

  static int lcoreMain(void* arg);
  void workerLoop(WorkerState* ws);
  void forwardUninspected(WorkerState* ws, rte_mbuf* m, rte_mbuf* (*out)[kTxCapacity],
                          uint16_t* out_n);
  void flush(WorkerState* ws, rte_mbuf* (*out)[kTxCapacity], uint16_t* out_n, uint16_t port);

  Mode mode_ = Mode::kInline;
  unsigned workers_ = 1;
  std::vector<Port> ports_;
  std::vector<uint16_t> rx_ports_;
  PortMap map_;
  uint16_t txq_[kMaxPorts] = {};
  bool rss_[kMaxPorts] = {};
  rte_spinlock_t tx_lock_[kMaxPorts] = {};  // used only where workers share a tx queue
  std::vector<std::unique_ptr<WorkerState>> states_;
  std::atomic<uint64_t> run_start_ns_{0};
  std::atomic<bool> spreader_done_{false};  // worker 0 has left its loop
};

}  // namespace cordon
