// The worker's QUIC path: client Initials decrypted, CRYPTO frames reassembled across
// datagrams, the ClientHello SNI judged; a blocked connection's datagrams are dropped.

#include "dataplane/pipeline/worker.h"

#include "dataplane/inspect/tls/client_hello.h"
#include "dataplane/pipeline/worker_internal.h"

namespace cordon {
namespace {

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

}  // namespace cordon
