#include "dataplane/pipeline/worker.h"

#include <algorithm>
#include <cstring>

#include "dataplane/act/inject.h"
#include "dataplane/inspect/dns/dns_query.h"
#include "dataplane/inspect/http/http_request.h"
#include "dataplane/inspect/tls/client_hello.h"
#include "dataplane/io/mbuf_time.h"
#include "rules/normalize.h"

namespace cordon {
namespace {

// The DNS answer for a blocked query: the rule's own policy where its list format gives one
// (RPZ, hosts files, feeds), else the configured dns action. False: drop without answering.
bool planDnsAnswer(const ActionsConfig& a, const rules::Match& m, uint16_t qtype,
                   DnsAnswerSpec* spec, EventAction* act) {
  *act = EventAction::kNxdomain;
  switch (m.policy()) {
    case rules::RuleAction::kDrop:
      *act = EventAction::kDrop;
      return false;
    case rules::RuleAction::kNxdomain:
      spec->rcode = 3;
      return true;
    case rules::RuleAction::kNodata:  // RFC 2308 section 2.2: NOERROR, no answer
      spec->rcode = 0;
      *act = EventAction::kNodata;
      return true;
    case rules::RuleAction::kSinkhole: {
      spec->rcode = 0;
      spec->ttl = a.dns_ttl;
      const IpAddr* addr = qtype == 28 ? m.rule->sinkholeAaaa() : m.rule->sinkholeA();
      if (addr) spec->answer = *addr;  // other qtypes (or no address of that family): NODATA
      *act = EventAction::kSinkhole;
      return true;
    }
    case rules::RuleAction::kDefault:
      break;
  }
  if (a.dns == DnsAction::kDrop) {
    *act = EventAction::kDrop;
    return false;
  }
  if (a.dns == DnsAction::kRefused) {
    spec->rcode = 5;
    *act = EventAction::kRefused;
  } else if (a.dns == DnsAction::kSinkhole) {
    spec->rcode = 0;
    spec->ttl = a.dns_ttl;
    spec->answer = qtype == 28 ? a.sinkhole_aaaa : a.sinkhole_a;
    *act = EventAction::kSinkhole;
  }
  return true;
}

constexpr uint16_t kDnsPort = 53;
// Plaintext scratch for one QUIC datagram: the largest UDP payload over IPv4 (65535 - 8 - 20)
// fits, so no Initial is skipped for size.
constexpr size_t kQuicPlainBytes = 65536;

// Feeds the CRYPTO data of a flow's Initials into its reassembly buffer.
class ReasmCryptoSink : public quic::CryptoSink {
 public:
  explicit ReasmCryptoSink(ReasmBuffer* buf) : buf_(buf) {}
  void onCrypto(uint64_t offset, std::span<const uint8_t> data) override {
    if (offset >= kReasmWindowBytes) {
      beyond_window = true;
      return;
    }
    switch (buf_->insert(static_cast<int64_t>(offset), data)) {
      case ReasmBuffer::Insert::kAdded:
        break;
      case ReasmBuffer::Insert::kOutsideWindow:
        beyond_window = true;
        break;
      case ReasmBuffer::Insert::kTooManyRanges:
        too_many_ranges = true;
        break;
    }
  }
  bool beyond_window = false;
  bool too_many_ranges = false;

 private:
  ReasmBuffer* buf_;
};

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

Worker::Verdict Worker::handleUdp(Ctx& c) {
  if (c.p.payload_len == 0 || !snap_) return Verdict::kForward;
  if (c.p.dport != kDnsPort) return handleQuic(c);
  if (!l4ChecksumOk(c.frame, c.p)) {
    counters_.inc(Counter::bad_l4_checksum);
    return Verdict::kForward;
  }
  const std::span<const uint8_t> msg = c.frame.subspan(c.p.payload_offset, c.p.payload_len);
  dns::DnsQuery q;
  const ParseStatus st = dns::parseDnsQuery(msg, &q);
  if (st != ParseStatus::kOk) {
    if (st == ParseStatus::kMalformed) counters_.inc(Counter::dns_malformed);
    return Verdict::kForward;
  }
  counters_.inc(Counter::dns_queries);
  Decision& d = decision_;
  d.app = AppProto::kDns;
  d.dns_msg = msg;
  d.dns_question_end = q.question_end;
  d.dns_qtype = q.qtype;
  if (!judge(c, &d, {q.name, q.name_len}, {}, false)) return Verdict::kForward;
  return applyDnsUdpBlock(c, d);
}

// UDP other than DNS queries: QUIC, recognised by content on any port. A flow entry exists
// only for connections whose first client datagram looked like a QUIC Initial; it carries
// the verdict for the rest of the connection, both directions.
Worker::Verdict Worker::handleQuic(Ctx& c) {
  const auto payload = c.frame.subspan(c.p.payload_offset, c.p.payload_len);
  bool src_lo = false;
  const FlowKey k = makeFlowKey(c.p, &src_lo);
  const hash_sig_t sig = flows_->hash(k);
  Flow* f = flows_->find(k, sig);
  if (f) {
    f->last_ns = c.now_ns;
    if (f->state == FlowState::kBlocked) return Verdict::kDrop;
    if (f->state == FlowState::kPassed || src_lo != f->client_is_lo) return Verdict::kForward;
  } else if (!quic::looksLikeClientInitial(payload)) {
    return Verdict::kForward;
  } else if (residualRefuses(c)) {
    return Verdict::kDrop;
  }
  if (!l4ChecksumOk(c.frame, c.p)) {
    counters_.inc(Counter::bad_l4_checksum);
    return Verdict::kForward;
  }
  if (!f) {
    f = newFlow(k, sig, src_lo, c.now_ns);
    if (!f) return uninspectable(Counter::fail_closed_flow_table);
  }
  return inspectQuic(c, f, payload);
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

Worker::Verdict Worker::inspectQuic(Ctx& c, Flow* f, std::span<const uint8_t> datagram) {
  if (f->reasm < 0) {
    if (Verdict v; !acquireReasm(c, f, &v)) return v;
    quic_conns_[static_cast<size_t>(f->reasm)] = QuicConn{};
  }
  ReasmBuffer& buf = reasm_.at(f->reasm);
  QuicConn& qc = quic_conns_[static_cast<size_t>(f->reasm)];
  if (c.now_ns - buf.startedNs() > kReassemblyTimeoutNs && c.now_ns > buf.startedNs()) {
    counters_.inc(Counter::reasm_timeout);
    passFlow(f);
    return Verdict::kForward;
  }
  if (++qc.datagrams > kMaxQuicInitialDatagrams) {
    counters_.inc(Counter::quic_too_many_initials);
    passFlow(f);
    return Verdict::kForward;
  }
  ReasmCryptoSink sink(&buf);
  quic::DatagramInfo info;
  const ParseStatus st =
      quic::readClientDatagram(*quic_crypto_, datagram, &qc.keys, quic_plain_, &sink, &info);
  counters_.inc(Counter::quic_initials, static_cast<uint64_t>(info.decrypted));
  if (sink.beyond_window) counters_.inc(Counter::quic_crypto_window_exceeded);
  if (st != ParseStatus::kOk) {
    if (st == ParseStatus::kMalformed) {
      counters_.inc(info.initials > info.decrypted ? Counter::quic_undecryptable
                                                   : Counter::quic_malformed);
    }
    // Before any Initial opened this is not a QUIC connection cordon can read: let it go.
    // Afterwards a bad datagram (a forgery, a short header) does not end inspection; the
    // datagram budget bounds it.
    if (!qc.keys.valid && info.decrypted == 0) passFlow(f);
    return Verdict::kForward;
  }
  qc.flavor = info.flavor;
  if (sink.too_many_ranges) {
    counters_.inc(Counter::reasm_window_exceeded);
    passFlow(f);
    return Verdict::kForward;
  }
  Decision& d = decision_;
  d.app = AppProto::kQuic;
  d.ech = false;
  std::string_view sni;
  tls::ClientHelloInfo hello;
  quic::ChloInfo chlo;
  if (qc.flavor == quic::Flavor::kGquicChlo || qc.flavor == quic::Flavor::kGquicPlain) {
    const ParseStatus hs = quic::parseChlo(buf.prefix(), &chlo);
    if (hs == ParseStatus::kNeedMore) return Verdict::kForward;
    if (hs != ParseStatus::kOk) {
      counters_.inc(Counter::quic_malformed);
      passFlow(f);
      return Verdict::kForward;
    }
    if (chlo.has_sni) sni = {chlo.sni, chlo.sni_len};
  } else {
    // The same ClientHello parser as TLS over TCP (RFC 9001 section 4.3).
    const ParseStatus hs = tls::parseClientHelloMessage(buf.prefix(), &hello);
    if (hs == ParseStatus::kNeedMore) return Verdict::kForward;
    if (hs != ParseStatus::kOk) {
      counters_.inc(Counter::quic_malformed);
      passFlow(f);
      return Verdict::kForward;
    }
    if (hello.has_sni) sni = {hello.sni, hello.sni_len};
    d.ech = hello.has_ech;
    if (hello.has_ech) counters_.inc(Counter::tls_ech);
  }
  counters_.inc(Counter::quic_client_hellos);
  if (sni.empty()) {
    counters_.inc(Counter::quic_no_sni);
    d.host_len = 0;
    d.match = {};
    if (echBlocks(d)) return applyQuicBlock(c, f, d);
    passFlow(f);
    return Verdict::kForward;
  }
  if (judge(c, &d, sni, {}, false) || echBlocks(d)) return applyQuicBlock(c, f, d);
  passFlow(f);
  return Verdict::kForward;
}

bool Worker::echBlocks(const Decision& d) const {
  if (!d.ech || opt_.actions.ech != EchPolicy::kBlock) return false;
  return !(d.match.matched() && d.match.rule->exception);
}

// ARCHITECTURE.md "Default actions": a QUIC Initial that matches drops the flow; clients
// fall back to TCP, where the TLS SNI is enforced.
Worker::Verdict Worker::applyQuicBlock(Ctx& c, Flow* f, const Decision& d) {
  releaseReasm(f);
  f->state = FlowState::kBlocked;
  counters_.inc(Counter::blocked_flows);
  addResidual(c, d);
  if (!d.match.enforce()) counters_.inc(Counter::ech_blocked);
  emit(c, EventType::kBlock, EventAction::kDrop, d, true);
  return Verdict::kDrop;
}

Worker::Verdict Worker::handleTcp(Ctx& c) {
  const PacketInfo& p = c.p;
  bool src_lo = false;
  const FlowKey k = makeFlowKey(p, &src_lo);
  const hash_sig_t sig = flows_->hash(k);
  Flow* f = flows_->find(k, sig);
  const bool syn = p.tcp_flags & kTcpSyn;
  const bool ack = p.tcp_flags & kTcpAck;
  const bool rst = p.tcp_flags & kTcpRst;
  const bool fin = p.tcp_flags & kTcpFin;

  if (!f) {
    if (syn && !ack && residualRefuses(c)) return Verdict::kDrop;
    if (!snap_) return Verdict::kForward;
    if (syn && !ack) {
      f = newFlow(k, sig, src_lo, c.now_ns);
      if (!f) return uninspectable(Counter::fail_closed_flow_table);
      f->base_seq = p.seq + 1;
      f->isn_known = true;
      return Verdict::kForward;
    }
    if (p.payload_len == 0 || rst || syn || looksLikeAckPadding(c.frame, p)) {
      return Verdict::kForward;
    }
    // Mid-stream pickup: state only for a first segment that looks inspectable.
    const auto payload = c.frame.subspan(p.payload_offset, p.payload_len);
    if (p.dport != kDnsPort && !tls::looksLikeClientHello(payload) &&
        !http::looksLikeHttpRequest(payload)) {
      return Verdict::kForward;
    }
    if (!l4ChecksumOk(c.frame, p)) {
      counters_.inc(Counter::bad_l4_checksum);
      return Verdict::kForward;
    }
    f = newFlow(k, sig, src_lo, c.now_ns);
    if (!f) return uninspectable(Counter::fail_closed_flow_table);
    f->base_seq = p.seq;
    return inspectSegment(c, f);
  }

  f->last_ns = c.now_ns;
  const bool from_client = src_lo == f->client_is_lo;
  if (syn && !ack && from_client && p.seq + 1 != f->base_seq &&
      (f->state == FlowState::kPassed || f->state == FlowState::kBlocked)) {
    if (residualRefuses(c)) return Verdict::kDrop;
    // The 4-tuple is reused by a new connection (a SYN with another ISN; a retransmitted
    // SYN keeps its ISN): start over. A blocked flow's verdict was for the old connection,
    // which the RSTs ended; the new one is inspected afresh and blocked again if it asks
    // for a listed name.
    f->state = FlowState::kInspect;
    f->app = FlowApp::kUnknown;
    f->base_seq = p.seq + 1;
    f->msg_start = 0;
    f->isn_known = true;
    f->fins = 0;
    return Verdict::kForward;
  }
  if (f->state == FlowState::kBlocked) return Verdict::kDrop;
  if (rst) {
    eraseFlow(f);
    return Verdict::kForward;
  }
  if (fin) {
    f->fins |= from_client ? 1 : 2;
    if (f->fins == 3 && f->state == FlowState::kPassed) {
      eraseFlow(f);
      return Verdict::kForward;
    }
  }
  if (f->state == FlowState::kPassed) return Verdict::kForward;
  // kInspect: only the client's payload is inspected.
  if (syn) {
    if (from_client && !ack && f->msg_start == 0 && f->reasm < 0) {
      f->base_seq = p.seq + 1;
      f->isn_known = true;
    }
    return Verdict::kForward;
  }
  if (!from_client || p.payload_len == 0) return Verdict::kForward;
  if (p.seq - f->base_seq == f->msg_start && looksLikeAckPadding(c.frame, p)) {
    // Ethernet padding counted as data (packet.h) where the next message must start: the real
    // segment follows at the same sequence number, and zero bytes cannot begin a ClientHello,
    // an HTTP request or a DNS message. Judged, they would pass the flow uninspected.
    counters_.inc(Counter::tcp_ack_padding);
    return Verdict::kForward;
  }
  if (!l4ChecksumOk(c.frame, p)) {
    // A segment the server will discard must not be inspected: a decoy with a bad checksum
    // would otherwise mask the real ClientHello behind it.
    counters_.inc(Counter::bad_l4_checksum);
    return Verdict::kForward;
  }
  return inspectSegment(c, f);
}

Worker::Verdict Worker::inspectSegment(Ctx& c, Flow* f) {
  const auto payload = c.frame.subspan(c.p.payload_offset, c.p.payload_len);
  const uint32_t off = c.p.seq - f->base_seq;  // stream offset, modulo 2^32
  const int64_t rel = static_cast<int32_t>(off - f->msg_start);
  if (rel + static_cast<int64_t>(payload.size()) <= 0) return Verdict::kForward;  // old data
  Decision& d = decision_;

  if (f->reasm < 0 && rel == 0) {
    // Common case: the message starts at this segment; parse in place.
    const uint32_t start = f->msg_start;
    const StreamOutcome o = inspectStream(c, f, payload, &d);
    if (o == StreamOutcome::kBlock) return applyTcpBlock(c, f, d);
    if (o == StreamOutcome::kDone) {
      passFlow(f);
      return Verdict::kForward;
    }
    const uint32_t used = f->msg_start - start;
    if (used >= payload.size()) return Verdict::kForward;  // e.g. inside a request body
    f->reasm = reasm_.acquire(c.now_ns);
    if (f->reasm < 0) {
      counters_.inc(Counter::reasm_no_buffer);
      // Fail closed: drop the segment and keep the flow under inspection; the client's
      // retransmission gets another chance at a buffer.
      if (opt_.actions.fail == FailMode::kClosed) return uninspectable(Counter::fail_closed_reasm);
      passFlow(f);
      return Verdict::kForward;
    }
    counters_.inc(Counter::reasm_started);
    (void)reasm_.at(f->reasm).insert(0, payload.subspan(used));
    return Verdict::kForward;
  }

  if (f->reasm < 0) {
    if (Verdict v; !acquireReasm(c, f, &v)) return v;
    counters_.inc(Counter::reasm_started);
  }
  ReasmBuffer& buf = reasm_.at(f->reasm);
  if (c.now_ns - buf.startedNs() > kReassemblyTimeoutNs && c.now_ns > buf.startedNs()) {
    counters_.inc(Counter::reasm_timeout);
    passFlow(f);
    return Verdict::kForward;
  }
  const uint32_t before = buf.contiguous();
  switch (buf.insert(rel, payload)) {
    case ReasmBuffer::Insert::kAdded:
      break;
    case ReasmBuffer::Insert::kOutsideWindow:
      counters_.inc(Counter::reasm_window_exceeded);
      return Verdict::kForward;
    case ReasmBuffer::Insert::kTooManyRanges:
      counters_.inc(Counter::reasm_window_exceeded);
      passFlow(f);
      return Verdict::kForward;
  }
  if (buf.contiguous() == before) return Verdict::kForward;  // still waiting for a hole
  const uint32_t start = f->msg_start;
  const StreamOutcome o = inspectStream(c, f, buf.prefix(), &d);
  if (o == StreamOutcome::kBlock) return applyTcpBlock(c, f, d);
  if (o == StreamOutcome::kDone) {
    passFlow(f);
    return Verdict::kForward;
  }
  buf.consume(f->msg_start - start);
  if (buf.empty()) releaseReasm(f);
  return Verdict::kForward;
}

// Inspects the client stream from f->msg_start; `data` holds the bytes from there on.
// Advances f->msg_start past every message judged and passed.
Worker::StreamOutcome Worker::inspectStream(Ctx& c, Flow* f, std::span<const uint8_t> data,
                                            Decision* d) {
  size_t pos = 0;
  for (;;) {
    const std::span<const uint8_t> s = data.subspan(std::min(pos, data.size()));
    if (s.empty()) return StreamOutcome::kNeedMore;
    if (f->app == FlowApp::kUnknown) {
      const uint16_t server_port = c.p.dport;
      if (server_port == kDnsPort) {
        f->app = FlowApp::kDnsTcp;
      } else if (tls::looksLikeClientHello(s)) {
        f->app = FlowApp::kTls;
      } else if (http::looksLikeHttpRequest(s)) {
        f->app = FlowApp::kHttp;
      } else {
        f->app = FlowApp::kOther;
        return StreamOutcome::kDone;
      }
    }
    switch (f->app) {
      case FlowApp::kTls: {
        tls::ClientHelloInfo hello;
        const ParseStatus st = tls::parseClientHelloRecords(s, tls_scratch_, &hello);
        if (st == ParseStatus::kNeedMore) return StreamOutcome::kNeedMore;
        if (st == ParseStatus::kMalformed) counters_.inc(Counter::tls_malformed);
        if (st == ParseStatus::kUnsupported) counters_.inc(Counter::tls_too_large);
        if (st != ParseStatus::kOk) return StreamOutcome::kDone;
        counters_.inc(Counter::tls_client_hellos);
        if (hello.has_ech) counters_.inc(Counter::tls_ech);
        if (!hello.has_sni) {
          counters_.inc(Counter::tls_no_sni);
          d->app = AppProto::kTls;
          d->ech = hello.has_ech;
          d->host_len = d->path_len = 0;
          d->match = {};
          if (echBlocks(*d)) {
            counters_.inc(Counter::ech_blocked);
            return StreamOutcome::kBlock;
          }
          return StreamOutcome::kDone;
        }
        d->app = AppProto::kTls;
        d->ech = hello.has_ech;
        if (judge(c, d, {hello.sni, hello.sni_len}, {}, false)) return StreamOutcome::kBlock;
        if (echBlocks(*d)) {
          counters_.inc(Counter::ech_blocked);
          return StreamOutcome::kBlock;
        }
        return StreamOutcome::kDone;  // one ClientHello per connection
      }
      case FlowApp::kHttp: {
        http::HttpRequest req;
        const ParseStatus st = http::parseHttpRequest(s, &req);
        if (st == ParseStatus::kNeedMore) return StreamOutcome::kNeedMore;
        if (st == ParseStatus::kMalformed) counters_.inc(Counter::http_malformed);
        if (st == ParseStatus::kUnsupported) counters_.inc(Counter::http_too_large);
        if (st != ParseStatus::kOk) return StreamOutcome::kDone;
        counters_.inc(Counter::http_requests);
        d->app = AppProto::kHttp;
        if (req.host.empty()) {
          counters_.inc(Counter::http_no_host);
        } else if (judge(c, d, req.host, req.path, true)) {
          return StreamOutcome::kBlock;
        }
        const uint64_t advance = req.head_len + req.content_length;
        if (req.chunked || advance > UINT32_MAX / 2) {
          counters_.inc(Counter::http_chunked_stop);
          return StreamOutcome::kDone;
        }
        f->msg_start += static_cast<uint32_t>(advance);
        pos += advance;
        continue;
      }
      case FlowApp::kDnsTcp: {
        size_t len = 0;
        const ParseStatus fr = dns::dnsTcpFrame(s, &len);
        if (fr == ParseStatus::kNeedMore) return StreamOutcome::kNeedMore;
        if (fr != ParseStatus::kOk) {
          counters_.inc(Counter::dns_malformed);
          return StreamOutcome::kDone;
        }
        const auto msg = s.subspan(2, len);
        dns::DnsQuery q;
        const ParseStatus st = dns::parseDnsQuery(msg, &q);
        if (st == ParseStatus::kMalformed) {
          counters_.inc(Counter::dns_malformed);
          return StreamOutcome::kDone;
        }
        if (st == ParseStatus::kOk) {
          counters_.inc(Counter::dns_queries);
          d->app = AppProto::kDns;
          d->dns_msg = msg;
          d->dns_question_end = q.question_end;
          d->dns_qtype = q.qtype;
          if (judge(c, d, {q.name, q.name_len}, {}, false)) return StreamOutcome::kBlock;
        }
        f->msg_start += static_cast<uint32_t>(2 + len);
        pos += 2 + len;
        continue;
      }
      default:
        return StreamOutcome::kDone;
    }
  }
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

Worker::Verdict Worker::applyTcpBlock(Ctx& c, Flow* f, const Decision& d) {
  releaseReasm(f);
  f->state = FlowState::kBlocked;
  counters_.inc(Counter::blocked_flows);
  addResidual(c, d);
  const ActionsConfig& a = opt_.actions;
  const PacketInfo& p = c.p;
  const uint32_t client_next = p.seq + p.payload_len;
  if (d.match.policy() == rules::RuleAction::kDrop) {
    // The rule says drop (RPZ rpz-drop, a feed's "drop"): no reset, no answer.
    emit(c, EventType::kBlock, EventAction::kDrop, d, true);
    return Verdict::kDrop;
  }
  switch (d.app) {
    case AppProto::kHttp:
      if (a.http == HttpAction::kRedirect || a.http == HttpAction::kPage) {
        const bool redirect = a.http == HttpAction::kRedirect;
        inject(c, Toward::kClient, [&](std::span<uint8_t> out) {
          uint8_t body[1024];
          const size_t n = redirect ? buildHttpRedirect(a.http_location, body)
                                    : buildHttpNotice({d.host, d.host_len}, body);
          if (n == 0) return size_t{0};
          return buildTcp(c.frame, p, Toward::kClient, p.ack, client_next,
                          kTcpFin | kTcpPsh | kTcpAck, {body, n}, out);
        });
        injectRst(c, Toward::kServer);
        emit(c, redirect ? EventType::kRedirect : EventType::kBlock,
             redirect ? EventAction::kRedirect : EventAction::kPage, d, true);
      } else if (a.http == HttpAction::kReset) {
        injectRst(c, Toward::kClient);
        injectRst(c, Toward::kServer);
        emit(c, EventType::kBlock, EventAction::kReset, d, true);
      } else {
        emit(c, EventType::kBlock, EventAction::kDrop, d, true);
      }
      break;
    case AppProto::kDns: {
      DnsAnswerSpec spec;
      EventAction act;
      if (!planDnsAnswer(a, d.match, d.dns_qtype, &spec, &act)) {
        emit(c, EventType::kBlock, EventAction::kDrop, d, true);
        break;
      }
      inject(c, Toward::kClient, [&](std::span<uint8_t> out) {
        uint8_t msg[2 + 1024];
        const size_t n = buildDnsAnswer(d.dns_msg, d.dns_question_end, d.dns_qtype, spec,
                                        std::span<uint8_t>(msg).subspan(2));
        if (n == 0) return size_t{0};
        msg[0] = static_cast<uint8_t>(n >> 8);  // RFC 1035 section 4.2.2 length prefix
        msg[1] = static_cast<uint8_t>(n);
        return buildTcp(c.frame, p, Toward::kClient, p.ack, client_next, kTcpPsh | kTcpAck,
                        {msg, n + 2}, out);
      });
      injectRst(c, Toward::kServer);
      emit(c, act == EventAction::kSinkhole ? EventType::kRedirect : EventType::kBlock, act, d,
           true);
      break;
    }
    default:  // TLS
      if (a.tls == TlsAction::kReset) {
        injectRst(c, Toward::kClient);
        injectRst(c, Toward::kServer);
        emit(c, EventType::kBlock, EventAction::kReset, d, true);
      } else {
        emit(c, EventType::kBlock, EventAction::kDrop, d, true);
      }
      break;
  }
  return Verdict::kDrop;
}

Worker::Verdict Worker::applyDnsUdpBlock(Ctx& c, const Decision& d) {
  counters_.inc(Counter::blocked_flows);
  DnsAnswerSpec spec;
  EventAction act;
  if (!planDnsAnswer(opt_.actions, d.match, d.dns_qtype, &spec, &act)) {
    emit(c, EventType::kBlock, EventAction::kDrop, d, true);
    return Verdict::kDrop;
  }
  inject(c, Toward::kClient, [&](std::span<uint8_t> out) {
    uint8_t msg[1024];
    const size_t n = buildDnsAnswer(d.dns_msg, d.dns_question_end, d.dns_qtype, spec, msg);
    if (n == 0) return size_t{0};
    return buildUdpToClient(c.frame, c.p, {msg, n}, out);
  });
  emit(c, act == EventAction::kSinkhole ? EventType::kRedirect : EventType::kBlock, act, d, true);
  return Verdict::kDrop;
}

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

void Worker::injectRst(Ctx& c, Toward toward) {
  const PacketInfo& p = c.p;
  // RFC 9293 section 3.10.7.3 / RFC 5961 section 3.2: a RST is accepted when its sequence
  // number is exactly the receiver's next expected one. The client expects the server's
  // next byte, which the trigger acknowledges; the server expects the trigger's first byte
  // (the trigger itself is dropped).
  // SYN and FIN each take one sequence number (RFC 9293 section 3.4): a client in SYN-SENT
  // accepts a RST only when it acknowledges the SYN (section 3.10.7.3), i.e. ack = ISN + 1.
  const uint32_t control =
      ((p.tcp_flags & kTcpSyn) ? 1u : 0u) + ((p.tcp_flags & kTcpFin) ? 1u : 0u);
  const uint32_t seq = toward == Toward::kClient ? p.ack : p.seq;
  const uint32_t ack = toward == Toward::kClient ? p.seq + p.payload_len + control : p.ack;
  inject(c, toward, [&](std::span<uint8_t> out) {
    return buildTcp(c.frame, p, toward, seq, ack, kTcpRst | kTcpAck, {}, out);
  });
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
