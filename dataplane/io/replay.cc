#include "dataplane/io/replay.h"

#include <pcap/pcap.h>

#include <chrono>
#include <cstring>

#include "dataplane/io/mbuf_time.h"

namespace cordon {

struct Replay::Handles {
  pcap_t* in = nullptr;
  pcap_t* dead = nullptr;
  pcap_dumper_t* out = nullptr;
  bool nanos = false;
};

Replay::~Replay() {
  if (!h_) return;
  if (h_->out) pcap_dump_close(h_->out);
  if (h_->dead) pcap_close(h_->dead);
  if (h_->in) pcap_close(h_->in);
  delete h_;
}

bool Replay::open(const std::string& in_path, const std::string& out_path, std::string* err) {
  h_ = new Handles();
  in_path_ = in_path;
  out_path_ = out_path;
  char ebuf[PCAP_ERRBUF_SIZE] = {};
  h_->in =
      pcap_open_offline_with_tstamp_precision(in_path.c_str(), PCAP_TSTAMP_PRECISION_NANO, ebuf);
  if (!h_->in) {
    *err = in_path + ": cannot read capture: " + ebuf;
    return false;
  }
  const int dlt = pcap_datalink(h_->in);
  if (dlt != DLT_EN10MB) {
    const char* name = pcap_datalink_val_to_name(dlt);
    *err = in_path + ": unsupported link type " + (name ? name : std::to_string(dlt)) +
           " (cordon replays Ethernet captures)";
    return false;
  }
  if (!out_path.empty()) {
    h_->dead =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_MICRO);
    h_->out = h_->dead ? pcap_dump_open(h_->dead, out_path.c_str()) : nullptr;
    if (!h_->out) {
      *err = out_path + ": cannot write capture: " +
             (h_->dead ? pcap_geterr(h_->dead) : "pcap_open_dead failed");
      return false;
    }
  }
  return true;
}

bool Replay::run(Worker* w, rte_mempool* pool, const std::function<void()>& after_burst,
                 ReplayStats* stats, std::string* err) {
  PortMap ports;
  ports.peer[0] = 1;  // replay is one inline pair: everything goes to the one output file
  ports.peer[1] = 0;
  ports.inject = 0;
  rte_mbuf* burst[kBurstSize];
  TxBatch tx;
  const auto t0 = std::chrono::steady_clock::now();
  bool eof = false;
  while (!eof) {
    uint16_t n = 0;
    while (n < kBurstSize) {
      pcap_pkthdr* hdr = nullptr;
      const u_char* data = nullptr;
      const int rc = pcap_next_ex(h_->in, &hdr, &data);
      if (rc == PCAP_ERROR_BREAK) {
        eof = true;
        break;
      }
      if (rc != 1) {
        *err = in_path_ + ": read error after packet " + std::to_string(stats->read) + ": " +
               pcap_geterr(h_->in);
        rte_pktmbuf_free_bulk(burst, n);
        return false;
      }
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (!m) {
        *err = "mbuf pool exhausted";
        rte_pktmbuf_free_bulk(burst, n);
        return false;
      }
      // A frame longer than the mbuf's room is truncated to it; the kept bytes are the
      // headers, which is what inspection needs. (Real NICs never deliver such frames.)
      const uint32_t len = std::min<uint32_t>(hdr->caplen, rte_pktmbuf_tailroom(m));
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), data, len);
      m->data_len = static_cast<uint16_t>(len);
      m->pkt_len = len;
      setMbufTimeNs(m, uint64_t(hdr->ts.tv_sec) * 1000000000ull + uint64_t(hdr->ts.tv_usec));
      burst[n++] = m;
      ++stats->read;
    }
    if (n == 0) break;
    tx.n = 0;
    w->processBurst(0, burst, n, ports, &tx);
    for (uint16_t i = 0; i < tx.n; ++i) {
      rte_mbuf* m = tx.items[i].m;
      if (h_->out) {
        const uint64_t ns = mbufTimeNs(m);
        pcap_pkthdr oh{};
        oh.ts.tv_sec = static_cast<time_t>(ns / 1000000000ull);
        oh.ts.tv_usec = static_cast<suseconds_t>(ns % 1000000000ull / 1000);
        oh.caplen = oh.len = rte_pktmbuf_data_len(m);
        pcap_dump(reinterpret_cast<u_char*>(h_->out), &oh, rte_pktmbuf_mtod(m, const u_char*));
      }
      ++stats->written;
      rte_pktmbuf_free(m);
    }
    if (after_burst) after_burst();
  }
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (h_->out && pcap_dump_flush(h_->out) != 0) {
    *err = out_path_ + ": write error";
    return false;
  }
  return true;
}

}  // namespace cordon
