#include "dataplane/act/inject.h"

#include <cstdio>
#include <cstring>

#include "dataplane/common/byte_reader.h"
#include "dataplane/common/byte_writer.h"

namespace cordon {
namespace {

constexpr uint8_t kProtoIpv4 = 4;  // IP-in-IP outer header (RFC 2003, RFC 2473)
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpv6 = 41;  // 6in4 / IPv6-in-IPv6 outer header (RFC 4213, RFC 2473)

// Writes a fresh IP header (IPv4 without options, IPv6 without extension headers) for a
// payload of payload_len bytes. Returns false when `w` overflowed.
bool writeIpHeader(uint8_t version, uint8_t proto, size_t payload_len, const IpAddr& src,
                   const IpAddr& dst, ByteWriter* w) {
  if (version == 4) {  // RFC 791 section 3.1
    const size_t ip_at = w->size();
    w->u8(0x45);  // version 4, IHL 5
    w->u8(0);
    w->u16(static_cast<uint16_t>(20 + payload_len));
    w->u16(0);       // identification
    w->u16(0x4000);  // DF
    w->u8(kInjectTtl);
    w->u8(proto);
    w->u16(0);  // checksum, below
    w->bytes({src.bytes, 4});
    w->bytes({dst.bytes, 4});
    if (!w->ok()) return false;
    w->patchU16(ip_at + 10, checksumFold(checksumAdd(w->written().subspan(ip_at, 20), 0)));
  } else {               // RFC 8200 section 3
    w->u32(0x60000000);  // version 6, traffic class 0, flow label 0
    w->u16(static_cast<uint16_t>(payload_len));
    w->u8(proto);
    w->u8(kInjectTtl);
    w->bytes({src.bytes, 16});
    w->bytes({dst.bytes, 16});
  }
  return w->ok();
}

// Writes L2 (copied from the trigger, MACs swapped toward the client) and the IP header(s)
// for an L4 segment of l4_len bytes: for an IP-in-IP trigger, an outer header between the
// tunnel endpoints (swapped toward the client like the inner addresses) around the inner one.
// Returns the offset of the L4 header, or 0 on failure.
size_t writeL2L3(std::span<const uint8_t> trigger, const PacketInfo& p, Toward toward,
                 uint8_t proto, size_t l4_len, ByteWriter* w) {
  std::span<const uint8_t> l2 = trigger.first(p.l3_offset);
  if (toward == Toward::kClient) {
    w->bytes(l2.subspan(6, 6));  // destination = the trigger's source MAC
    w->bytes(l2.first(6));
    w->bytes(l2.subspan(12));
  } else {
    w->bytes(l2);
  }
  const size_t inner_len = (p.ip_version == 4 ? 20 : 40) + l4_len;
  const size_t outer_hdr = p.outer_ip_version == 0 ? 0 : p.outer_ip_version == 4 ? 20 : 40;
  if (p.pppoe_len_offset) {
    // PPPoE LENGTH covers the PPP protocol field and the IP packet (RFC 2516 section 4).
    // The protocol field (1 or 2 bytes) is what lies between LENGTH and the IP header.
    const size_t ppp_proto = p.l3_offset - p.pppoe_len_offset - 2;
    (void)w->patchU16(p.pppoe_len_offset, static_cast<uint16_t>(outer_hdr + inner_len + ppp_proto));
  }
  const bool back = toward == Toward::kClient;
  if (p.outer_ip_version != 0 &&
      !writeIpHeader(p.outer_ip_version, p.ip_version == 4 ? kProtoIpv4 : kProtoIpv6, inner_len,
                     back ? p.outer_dst : p.outer_src, back ? p.outer_src : p.outer_dst, w)) {
    return 0;
  }
  if (!writeIpHeader(p.ip_version, proto, l4_len, back ? p.dst : p.src, back ? p.src : p.dst, w)) {
    return 0;
  }
  return w->size();
}

void fillL4Checksum(const PacketInfo& p, Toward toward, uint8_t proto, size_t l4_at, size_t csum_at,
                    ByteWriter* w) {
  const IpAddr& src = toward == Toward::kClient ? p.dst : p.src;
  const IpAddr& dst = toward == Toward::kClient ? p.src : p.dst;
  std::span<const uint8_t> seg = w->written().subspan(l4_at);
  uint16_t c = checksumFold(checksumAdd(seg, pseudoHeaderSum(src, dst, proto, seg.size())));
  if (proto == kProtoUdp && c == 0) c = 0xffff;  // RFC 768: transmitted as all ones
  w->patchU16(l4_at + csum_at, c);
}

}  // namespace

size_t buildTcp(std::span<const uint8_t> trigger, const PacketInfo& p, Toward toward, uint32_t seq,
                uint32_t ack, uint8_t flags, std::span<const uint8_t> payload,
                std::span<uint8_t> out) {
  ByteWriter w(out);
  const size_t l4 = writeL2L3(trigger, p, toward, kProtoTcp, 20 + payload.size(), &w);
  if (!l4) return 0;
  w.u16(toward == Toward::kClient ? p.dport : p.sport);
  w.u16(toward == Toward::kClient ? p.sport : p.dport);
  w.u32(seq);
  w.u32(ack);
  w.u8(5 << 4);  // data offset 5 words, no options
  w.u8(flags);
  w.u16(0);  // window
  w.u16(0);  // checksum, below
  w.u16(0);  // urgent pointer
  w.bytes(payload);
  if (!w.ok()) return 0;
  fillL4Checksum(p, toward, kProtoTcp, l4, 16, &w);
  return w.size();
}

size_t buildUdpToClient(std::span<const uint8_t> trigger, const PacketInfo& p,
                        std::span<const uint8_t> payload, std::span<uint8_t> out) {
  ByteWriter w(out);
  const size_t l4 = writeL2L3(trigger, p, Toward::kClient, kProtoUdp, 8 + payload.size(), &w);
  if (!l4) return 0;
  w.u16(p.dport);
  w.u16(p.sport);
  w.u16(static_cast<uint16_t>(8 + payload.size()));
  w.u16(0);
  w.bytes(payload);
  if (!w.ok()) return 0;
  fillL4Checksum(p, Toward::kClient, kProtoUdp, l4, 6, &w);
  return w.size();
}

size_t buildDnsAnswer(std::span<const uint8_t> query, size_t question_end, uint16_t qtype,
                      const DnsAnswerSpec& spec, std::span<uint8_t> out) {
  ByteReader r(query);
  uint16_t id = 0, qflags = 0;
  std::span<const uint8_t> question;
  if (question_end < 12 || question_end > query.size() || !r.readU16(&id) || !r.readU16(&qflags) ||
      !r.skip(8) || !r.readBytes(question_end - 12, &question)) {
    return 0;
  }
  // RFC 1035 section 4.1.1 header flags.
  constexpr uint16_t kQr = 0x8000, kOpcode = 0x7800, kRd = 0x0100, kRa = 0x0080, kCd = 0x0010;
  const bool answer = spec.answer.family != 0 && ((qtype == 1 && spec.answer.family == 4) ||
                                                  (qtype == 28 && spec.answer.family == 6));
  ByteWriter w(out);
  w.u16(id);
  w.u16(static_cast<uint16_t>(kQr | (qflags & (kOpcode | kRd | kCd)) | kRa | (spec.rcode & 0xf)));
  w.u16(1);  // QDCOUNT
  w.u16(answer ? 1 : 0);
  w.u16(0);
  w.u16(0);
  w.bytes(question);
  if (answer) {
    w.u16(0xc00c);  // name: pointer to the question name at offset 12
    w.u16(qtype);
    w.u16(1);  // class IN
    w.u32(spec.ttl);
    w.u16(static_cast<uint16_t>(spec.answer.length()));
    w.bytes({spec.answer.bytes, spec.answer.length()});
  }
  return w.ok() ? w.size() : 0;
}

size_t buildHttpRedirect(std::string_view location, std::span<uint8_t> out) {
  ByteWriter w(out);
  w.text("HTTP/1.1 302 Found\r\nLocation: ");
  w.text(location);
  w.text("\r\nContent-Length: 0\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n");
  return w.ok() ? w.size() : 0;
}

size_t buildHttpNotice(std::string_view host, std::span<uint8_t> out) {
  // Only host-name characters are echoed into the page (the host is normalised already).
  char len_text[8];
  const std::string_view head =
      "<html><head><title>Blocked</title></head><body><h1>Access blocked</h1><p>Access to ";
  const std::string_view tail =
      " has been blocked in accordance with a legal order.</p></body></html>\n";
  const size_t body_len = head.size() + host.size() + tail.size();
  const int n = std::snprintf(len_text, sizeof len_text, "%zu", body_len);
  ByteWriter w(out);
  w.text("HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: ");
  w.text(std::string_view(len_text, n > 0 ? static_cast<size_t>(n) : 0));
  w.text("\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n");
  w.text(head);
  w.text(host);
  w.text(tail);
  return w.ok() ? w.size() : 0;
}

}  // namespace cordon
