#pragma once
// pcap replay through the burst pipeline: packets of a pcap/pcapng file are copied into
// rte_mbufs, processed by a Worker in bursts exactly as if received on a port, and what
// the worker forwards or injects is written to an output pcap in decision order.

#include <cstdint>
#include <functional>
#include <string>

#include "dataplane/pipeline/worker.h"

namespace cordon {

struct ReplayStats {
  uint64_t read = 0;
  uint64_t written = 0;
  double seconds = 0;  // wall time of the read-process-write loop
};

class Replay {
 public:
  // Opens the input (pcap or pcapng, Ethernet link type) and, when out_path is not empty,
  // the output. Returns false with *err naming the file on failure.
  bool open(const std::string& in_path, const std::string& out_path, std::string* err);
  ~Replay();

  // Runs the whole capture through `w`; after_burst runs after each burst (the control
  // plane drains events there). False with *err on a read or write error.
  bool run(Worker* w, rte_mempool* pool, const std::function<void()>& after_burst,
           ReplayStats* stats, std::string* err);

 private:
  struct Handles;
  Handles* h_ = nullptr;
  std::string in_path_;
  std::string out_path_;
};

}  // namespace cordon
