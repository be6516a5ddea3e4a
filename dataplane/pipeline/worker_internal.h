#pragma once
// What the worker's source files share (worker.cc, worker_tcp.cc, worker_dns.cc,
// worker_quic.cc): the inject() template, the DNS port and the DNS answer plan.

#include <span>

#include "dataplane/act/inject.h"
#include "dataplane/io/mbuf_time.h"
#include "dataplane/pipeline/worker.h"

namespace cordon {

inline constexpr uint16_t kDnsPort = 53;

// The DNS answer for a blocked query: the rule's own policy where its list format gives one
// (RPZ, hosts files, feeds), else the configured dns action. False: drop without answering.
// (worker_dns.cc)
bool planDnsAnswer(const ActionsConfig& a, const rules::Match& m, uint16_t qtype,
                   DnsAnswerSpec* spec, EventAction* act);

template <typename Build>
void Worker::inject(Ctx& c, Toward toward, Build build) {
  if (c.tx->n >= kTxCapacity) {
    counters_.inc(Counter::inject_no_mbuf);
    return;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) {
    counters_.inc(Counter::inject_no_mbuf);
    return;
  }
  const size_t room = rte_pktmbuf_tailroom(m);
  const size_t len = build(std::span<uint8_t>(rte_pktmbuf_mtod(m, uint8_t*), room));
  if (len == 0) {
    rte_pktmbuf_free(m);
    counters_.inc(Counter::inject_no_mbuf);
    return;
  }
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = static_cast<uint32_t>(len);
  setMbufTimeNs(m, c.now_ns);
  uint16_t port;
  if (opt_.mode == Mode::kMirror) {
    port = static_cast<uint16_t>(c.ports->inject >= 0 ? c.ports->inject : c.rx_port);
  } else {
    port = toward == Toward::kClient ? c.rx_port : c.ports->peer[c.rx_port];
  }
  c.tx->items[c.tx->n++] = {m, port, true};
  counters_.inc(Counter::injected);
  // Mirror mode: extra copies to win the race against the real server's answer.
  const uint8_t copies = opt_.mode == Mode::kMirror ? opt_.actions.inject_copies : 1;
  for (uint8_t i = 1; i < copies; ++i) {
    rte_mbuf* dup = c.tx->n < kTxCapacity ? rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX) : nullptr;
    if (!dup) {
      counters_.inc(Counter::inject_no_mbuf);
      return;
    }
    setMbufTimeNs(dup, c.now_ns);
    c.tx->items[c.tx->n++] = {dup, port, true};
    counters_.inc(Counter::injected);
  }
}

}  // namespace cordon
