// The worker: a burst at a time, each packet parsed, judged against the rule snapshot and
// forwarded, dropped or answered; flows, fragments, residual blocking, IP rules and events.
// The TCP, DNS and QUIC paths are in worker_tcp.cc, worker_dns.cc and worker_quic.cc.

#include "dataplane/pipeline/worker.h"

#include <algorithm>
#include <cstring>

#include "dataplane/inspect/tls/client_hello.h"
#include "dataplane/pipeline/worker_internal.h"
#include "rules/normalize.h"

namespace cordon {
namespace {

// Plaintext scratch for one QUIC datagram: the largest UDP payload over IPv4 (65535 - 8 - 20)
// fits, so no Initial is skipped for size.
constexpr size_t kQuicPlainBytes = 65536;

}  // namespace

std::unique_ptr<Worker> Worker::create(const WorkerOptions& opt, rte_mempool* pool,
                                       std::string* err) {
  std::unique_ptr<Worker> w(new Worker(opt, pool));
  w->flows_ = FlowTable::create("cordon_flows_" + std::to_string(opt.id), opt.flow_capacity,
                                opt.socket_id, err);
  if (!w->flows_) return nullptr;
  if (!w->quic_crypto_->ok()) {
    *err = "OpenSSL does not provide HMAC-SHA256 and AES-128-GCM/ECB (needed for QUIC)";
    return nullptr;
  }
  return w;
}

Worker::Worker(const WorkerOptions& opt, rte_mempool* pool)
    : opt_(opt),
      pool_(pool),
      reasm_(opt.reasm_buffers),
      tls_scratch_(tls::kMaxClientHelloBytes),
      quic_crypto_(std::make_unique<quic::InitialCrypto>()),
      quic_plain_(kQuicPlainBytes),
      quic_conns_(opt.reasm_buffers),
      frags_(opt.frag_contexts),
      frag_frame_(kMaxFragHeaderBytes + kMaxIpDatagramBytes),
      residual_(opt.actions.residual_s > 0 ? std::make_unique<ResidualTable>(opt.residual_entries)
                                           : nullptr),
      events_(opt.event_ring) {}

void Worker::processBurst(uint16_t rx_port, rte_mbuf** pkts, uint16_t n, const PortMap& ports,
                          TxBatch* tx) {
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    counters_.inc(Counter::packets_in);
    Verdict v = Verdict::kForward;
    if (opt_.inspect) {
      // Parsers need the frame contiguous; a chained mbuf that cannot be linearised is
      // forwarded uninspected (counted as malformed_l2).
      if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
        counters_.inc(Counter::malformed);
        counters_.inc(Counter::malformed_l2);
      } else {
        Ctx c{m,       {rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m)},
              {},      mbufTimeNs(m),
              rx_port, &ports,
              tx};
        clock_ns_ = std::max(clock_ns_, c.now_ns);
        v = handle(c);
      }
    }
    if (v == Verdict::kDrop) {
      counters_.inc(Counter::dropped);
      rte_pktmbuf_free(m);
    } else if (opt_.mode == Mode::kMirror) {
      rte_pktmbuf_free(m);  // mirror mode: the original went on without us
    } else {
      counters_.inc(Counter::packets_out);
      tx->items[tx->n++] = {m, ports.peer[rx_port], false};
    }
  }
  if (opt_.inspect && clock_ns_ > kFlowIdleTimeoutNs) {
    const uint32_t n_aged = flows_->age(clock_ns_ - kFlowIdleTimeoutNs, kAgeBudgetPerBurst,
                                        [this](Flow& f) { releaseReasm(&f); });
    counters_.inc(Counter::flows_expired, n_aged);
  }
}

Worker::Verdict Worker::handle(Ctx& c) {
  Counter reason = Counter::malformed;
  const PacketStatus st = parsePacket(c.frame, &c.p, &reason);
  if (st == PacketStatus::kMalformed) {
    counters_.inc(Counter::malformed);
    counters_.inc(reason);
    return Verdict::kForward;
  }
  if (st == PacketStatus::kNonIp) {
    counters_.inc(Counter::non_ip);
    return Verdict::kForward;
  }
  if (c.p.outer_ip_version != 0) counters_.inc(Counter::ip_in_ip);
  if (snap_ && snap_->hasIpRules()) {
    const rules::Match to = snap_->matchIp(c.p.dst);
    if (to.enforce()) return handleIpRule(c, to, true);
    const rules::Match from = snap_->matchIp(c.p.src);
    if (from.enforce()) return handleIpRule(c, from, false);
    if (to.monitor() && c.p.l4 == L4::kTcp && (c.p.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn) {
      Decision& d = decision_;
      d.app = AppProto::kIp;
      d.match = to;
      d.host_len = d.path_len = 0;
      counters_.inc(Counter::monitored);
      emit(c, EventType::kMonitor, EventAction::kPass, d, true);
    }
  }
  if (c.p.fragment) {
    counters_.inc(Counter::ip_fragments);
    return handleFragment(c);
  }
  switch (c.p.l4) {
    case L4::kTcp:
      return handleTcp(c);
    case L4::kUdp:
      return handleUdp(c);
    default:
      counters_.inc(Counter::other_l4);
      return Verdict::kForward;
  }
}

// FRAGMENTS.md: every fragment is forwarded as it arrives (or dropped when its datagram is
// already known to be blocked or ambiguous); the fragment that completes a datagram is judged
// with the whole datagram, rebuilt as one frame in frag_frame_, exactly as if it had arrived
// unfragmented, and that fragment shares the datagram's verdict.
Worker::Verdict Worker::handleFragment(Ctx& c) {
  constexpr uint8_t kProtoIpv4 = 4, kProtoTcp = 6, kProtoUdp = 17, kProtoIpv6 = 41;
  if (c.reassembled || !snap_) return Verdict::kForward;
  if (c.p.ip_offset != c.p.l3_offset) {
    // A fragment inside an IP-in-IP tunnel: rebuilding it would mean rewriting the outer
    // header too. Tunnels fragment the outer packet (RFC 4459 section 3), which is handled.
    counters_.inc(Counter::frag_unsupported);
    return Verdict::kForward;
  }
  const uint8_t proto = c.p.ip_proto;
  if (proto != kProtoTcp && proto != kProtoUdp && proto != kProtoIpv4 && proto != kProtoIpv6) {
    return Verdict::kForward;  // nothing cordon inspects travels in it
  }
  counters_.inc(Counter::frag_timeout, frags_.expire(c.now_ns));
  int32_t idx = -1;
  switch (frags_.add(c.frame, c.p, c.now_ns, &idx)) {
    case IpReassembly::Add::kHeld:
      return Verdict::kForward;
    case IpReassembly::Add::kDuplicate:
      counters_.inc(Counter::frag_duplicate);
      return Verdict::kForward;
    case IpReassembly::Add::kOverlap:
      counters_.inc(Counter::frag_overlap);
      return Verdict::kDrop;
    case IpReassembly::Add::kOverlapGiveUp:
      counters_.inc(Counter::frag_overlap);
      return uninspectable(Counter::fail_closed_frag);
    case IpReassembly::Add::kDropRest:
      counters_.inc(Counter::frag_drop_rest);
      return Verdict::kDrop;
    case IpReassembly::Add::kGiveUpRest:
      counters_.inc(Counter::frag_give_up_rest);
      return uninspectable(Counter::fail_closed_frag);
    case IpReassembly::Add::kNoContext:
      counters_.inc(Counter::frag_no_context);
      return uninspectable(Counter::fail_closed_frag);
    case IpReassembly::Add::kTooLarge:
      counters_.inc(Counter::frag_too_large);
      return uninspectable(Counter::fail_closed_frag);
    case IpReassembly::Add::kTooMany:
      counters_.inc(Counter::frag_too_many);
      return uninspectable(Counter::fail_closed_frag);
    case IpReassembly::Add::kMalformed:
      counters_.inc(Counter::frag_malformed);
      return Verdict::kForward;
    case IpReassembly::Add::kComplete:
      break;
  }
  const size_t n = frags_.buildFrame(idx, frag_frame_);
  if (n == 0) {
    counters_.inc(Counter::frag_malformed);
    frags_.release(idx);
    return Verdict::kForward;
  }
  counters_.inc(Counter::frag_reassembled);
  Ctx r{c.m, {frag_frame_.data(), n}, {}, c.now_ns, c.rx_port, c.ports, c.tx, true};
  const Verdict v = handle(r);
  if (v == Verdict::kDrop) {
    // The receiver cannot rebuild the datagram without this piece; copies of any of its
    // pieces that come later are dropped too until the context times out.
    counters_.inc(Counter::frag_blocked);
    frags_.markDropped(idx);
  } else {
    frags_.release(idx);
  }
  return v;
}

Worker::Verdict Worker::uninspectable(Counter closed_reason) {
  if (opt_.actions.fail == FailMode::kOpen) return Verdict::kForward;
  counters_.inc(closed_reason);
  return Verdict::kDrop;
}

void Worker::addResidual(const Ctx& c, const Decision& d) {
  // Never for DNS: the tuple is the client's resolver, and the block was about one name.
  if (!residual_ || d.app == AppProto::kDns || c.p.dport == kDnsPort) return;
  const ResidualKey k = makeResidualKey(c.p.src, c.p.dst, c.p.dport, c.p.ip_proto);
  counters_.inc(Counter::residual_added);
  if (residual_->add(k, c.now_ns + uint64_t{opt_.actions.residual_s} * 1'000'000'000ull)) {
    counters_.inc(Counter::residual_evicted);
  }
}

// A new connection (a client SYN, a client's first QUIC Initial) to a tuple under residual
// blocking: refused without inspection. TCP gets a RST toward the client, built as RFC 9293
// section 3.10.7.1 answers a segment without ACK: seq 0, ack = SEG.SEQ + SEG.LEN (the SYN
// counts one), so the client's connect() fails at once instead of retrying its SYN.
bool Worker::residualRefuses(Ctx& c) {
  if (!residual_) return false;
  const ResidualKey k = makeResidualKey(c.p.src, c.p.dst, c.p.dport, c.p.ip_proto);
  if (!residual_->blocked(k, c.now_ns)) return false;
  counters_.inc(Counter::residual_dropped);
  if (c.p.l4 == L4::kTcp) {
    const PacketInfo& p = c.p;
    inject(c, Toward::kClient, [&](std::span<uint8_t> out) {
      return buildTcp(c.frame, p, Toward::kClient, 0, p.seq + 1 + p.payload_len, kTcpRst | kTcpAck,
                      {}, out);
    });
  }
  return true;
}

// An enforcing IP/CIDR rule matched the destination (or, for return traffic, the source).
// TCP/UDP connections get a blocked flow entry so the event is written once per flow.
Worker::Verdict Worker::handleIpRule(Ctx& c, const rules::Match& m, bool dst_matched) {
  Decision& d = decision_;
  d.app = AppProto::kIp;
  d.match = m;
  d.host_len = d.path_len = 0;
  Flow* f = nullptr;
  if (!c.p.fragment && (c.p.l4 == L4::kTcp || c.p.l4 == L4::kUdp)) {
    bool src_lo = false;
    const FlowKey k = makeFlowKey(c.p, &src_lo);
    const hash_sig_t sig = flows_->hash(k);
    f = flows_->find(k, sig);
    if (f && f->state == FlowState::kBlocked) {
      f->last_ns = c.now_ns;
      return Verdict::kDrop;
    }
    if (f) {
      releaseReasm(f);
    } else {
      f = newFlow(k, sig, dst_matched ? src_lo : !src_lo, c.now_ns);
    }
    if (f) f->state = FlowState::kBlocked;
  }
  counters_.inc(Counter::blocked_flows);
  const bool reset = opt_.actions.ip == IpAction::kReset && c.p.l4 == L4::kTcp && dst_matched &&
                     !(c.p.tcp_flags & kTcpRst);
  if (reset) {
    injectRst(c, Toward::kClient);
    // A dropped SYN never reached the server: there is no connection there to reset.
    if (!(c.p.tcp_flags & kTcpSyn) || (c.p.tcp_flags & kTcpAck)) injectRst(c, Toward::kServer);
  }
  emit(c, EventType::kBlock, reset ? EventAction::kReset : EventAction::kDrop, d, dst_matched);
  return Verdict::kDrop;
}

bool Worker::acquireReasm(Ctx& c, Flow* f, Verdict* v) {
  f->reasm = reasm_.acquire(c.now_ns);
  if (f->reasm >= 0) return true;
  counters_.inc(Counter::reasm_no_buffer);
  if (opt_.actions.fail == FailMode::kClosed) {
    // Fail closed: drop this packet and keep the flow under inspection; the client's
    // retransmission gets another chance at a buffer.
    *v = uninspectable(Counter::fail_closed_reasm);
  } else {
    passFlow(f);
    *v = Verdict::kForward;
  }
  return false;
}

bool Worker::judge(Ctx& c, Decision* d, std::string_view raw_host, std::string_view raw_path,
                   bool is_http) {
  d->host_len = static_cast<uint16_t>(rules::normalizeHost(raw_host, d->host, sizeof d->host));
  d->path_len = 0;
  d->match = {};
  if (d->host_len == 0) return judgeParent(c, d, raw_host);
  const std::string_view host(d->host, d->host_len);
  if (is_http) {
    d->path_len = static_cast<uint16_t>(rules::normalizeUrlPath(raw_path, d->path, sizeof d->path));
    d->match = snap_->matchUrl(host, {d->path, d->path_len}, scratch_);
  } else {
    d->match = snap_->matchHost(host, scratch_);
  }
  if (!d->match.matched()) return false;
  if (d->match.rule->exception) {
    counters_.inc(Counter::exceptions);
    return false;
  }
  if (d->match.monitor()) {
    counters_.inc(Counter::monitored);
    emit(c, EventType::kMonitor, EventAction::kPass, *d, true);
    return false;
  }
  return d->match.enforce();
}

bool Worker::judgeParent(Ctx& c, Decision* d, std::string_view raw_host) {
  // A name with bytes no host rule can hold (DNS labels carrying binary or escaped data, as
  // DNS tunnels send) is still below its parent domain, and the rules that cover a parent's
  // subdomains ("example.com", "*.example.com") cover it. Judge the longest parent that
  // normalises by those rules only: an exact rule or a pattern never names such a name.
  for (size_t dot = raw_host.find('.'); dot != std::string_view::npos;
       dot = raw_host.find('.', dot + 1)) {
    char parent[rules::kMaxHostLen + 1];
    const size_t n = rules::normalizeHost(raw_host.substr(dot + 1), parent, sizeof parent);
    if (n == 0) continue;
    const rules::Match m = snap_->matchHost({parent, n}, scratch_);
    if (!m.matched() || (m.rule->kind != rules::RuleKind::kDomain &&
                         m.rule->kind != rules::RuleKind::kSubdomains)) {
      return false;
    }
    // The event names what was asked, as far as it fits (the log escapes odd bytes).
    d->host_len = static_cast<uint16_t>(std::min(raw_host.size(), rules::kMaxHostLen));
    std::memcpy(d->host, raw_host.data(), d->host_len);
    d->host[d->host_len] = '\0';
    d->match = m;
    counters_.inc(Counter::parent_domain_matches);
    if (m.rule->exception) {
      counters_.inc(Counter::exceptions);
      return false;
    }
    if (m.monitor()) {
      counters_.inc(Counter::monitored);
      emit(c, EventType::kMonitor, EventAction::kPass, *d, true);
      return false;
    }
    return m.enforce();
  }
  return false;
}

void Worker::emit(Ctx& c, EventType type, EventAction action, const Decision& d,
                  bool client_is_src) {
  EventRecord* e = events_.reserve();
  if (!e) {
    counters_.inc(Counter::events_dropped);
    return;
  }
  e->ts_ns = c.now_ns;
  e->type = type;
  e->action = action;
  e->app = d.app;
  e->ip_proto = c.p.ip_proto;
  e->src = client_is_src ? c.p.src : c.p.dst;
  e->dst = client_is_src ? c.p.dst : c.p.src;
  e->sport = client_is_src ? c.p.sport : c.p.dport;
  e->dport = client_is_src ? c.p.dport : c.p.sport;
  e->ech = d.ech && (d.app == AppProto::kTls || d.app == AppProto::kQuic);
  e->rule = d.match.rule;
  e->host_len = d.host_len;
  std::memcpy(e->host, d.host, d.host_len);
  e->host[d.host_len] = '\0';
  e->path_len = d.app == AppProto::kHttp ? d.path_len : 0;
  std::memcpy(e->path, d.path, e->path_len);
  e->path[e->path_len] = '\0';
  e->frame_orig_len = static_cast<uint32_t>(c.frame.size());
  e->frame_len = static_cast<uint16_t>(std::min(c.frame.size(), kEventFrameBytes));
  std::memcpy(e->frame, c.frame.data(), e->frame_len);
  events_.commit();
}

bool Worker::evictOne(uint64_t now_ns) {
  // Rank: class in the top two bits (passed flows need no state and go first, then flows
  // still being inspected, then blocked flows idle past kEvictBlockedAfterNs), then age.
  static constexpr uint64_t kAgeMask = (1ull << 62) - 1;
  Flow* victim = flows_->sampleVictim(kEvictSampleSlots, [now_ns](const Flow& f) {
    uint64_t cls = 0;
    switch (f.state) {
      case FlowState::kPassed:
        cls = 0;
        break;
      case FlowState::kInspect:
        cls = 1;
        break;
      case FlowState::kBlocked:
        if (now_ns < f.last_ns + kEvictBlockedAfterNs) return FlowTable::kNotEvictable;
        cls = 2;
        break;
    }
    return (cls << 62) | std::min(f.last_ns, kAgeMask);
  });
  if (!victim) return false;
  releaseReasm(victim);
  flows_->erase(victim);
  counters_.inc(Counter::flow_evicted);
  return true;
}

Flow* Worker::newFlow(const FlowKey& k, hash_sig_t sig, bool client_is_lo, uint64_t now_ns) {
  Flow* f = flows_->insert(k, sig);
  if (!f && evictOne(now_ns)) f = flows_->insert(k, sig);
  if (!f) {
    counters_.inc(Counter::flow_table_full);
    return nullptr;
  }
  counters_.inc(Counter::flows_created);
  f->client_is_lo = client_is_lo;
  f->last_ns = now_ns;
  return f;
}

void Worker::releaseReasm(Flow* f) {
  if (f->reasm >= 0) {
    reasm_.release(f->reasm);
    f->reasm = -1;
  }
}

void Worker::passFlow(Flow* f) {
  releaseReasm(f);
  f->state = FlowState::kPassed;
}

void Worker::eraseFlow(Flow* f) {
  releaseReasm(f);
  flows_->erase(f);
  counters_.inc(Counter::flows_expired);
}

}  // namespace cordon
