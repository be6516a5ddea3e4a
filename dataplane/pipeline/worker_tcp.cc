// The worker's TCP path: the first flight reassembled and inspected (TLS ClientHello SNI,
// HTTP Host and URL, DNS over TCP); a blocked flow is reset, redirected or dropped.

#include "dataplane/pipeline/worker.h"

#include <algorithm>
#include <cstring>

#include "dataplane/inspect/dns/dns_query.h"
#include "dataplane/inspect/http/http_request.h"
#include "dataplane/inspect/tls/client_hello.h"
#include "dataplane/pipeline/worker_internal.h"
#include "rules/normalize.h"

namespace cordon {

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

}  // namespace cordon
