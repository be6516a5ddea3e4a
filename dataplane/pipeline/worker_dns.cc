// The worker's UDP path: DNS queries judged by name and answered (NXDOMAIN, NODATA,
// sinkhole, REFUSED) or dropped; other UDP goes to the QUIC path.

#include "dataplane/pipeline/worker.h"

#include "dataplane/inspect/dns/dns_query.h"
#include "dataplane/pipeline/worker_internal.h"

namespace cordon {

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

}  // namespace cordon
