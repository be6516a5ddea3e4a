#include "dataplane/parse/packet.h"

#include "dataplane/common/byte_reader.h"

namespace cordon {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;     // IEEE 802.1Q
constexpr uint16_t kEtherQinq = 0x88a8;     // IEEE 802.1ad
constexpr uint16_t kEtherQinqOld = 0x9100;  // pre-standard QinQ, still seen in the field
constexpr uint16_t kEtherMpls = 0x8847;     // RFC 3032 unicast
constexpr uint16_t kEtherMplsMc = 0x8848;   // RFC 3032 multicast (RFC 5332)
constexpr uint16_t kEtherPppoe = 0x8864;    // RFC 2516 PPPoE session stage
constexpr uint16_t kPppIpv4 = 0x0021;       // RFC 1332
constexpr uint16_t kPppIpv6 = 0x0057;       // RFC 5072

constexpr uint8_t kProtoIpv4 = 4;  // IPv4 encapsulation (RFC 2003; RFC 2473 in IPv6)
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpv6 = 41;  // IPv6 encapsulation (RFC 4213 section 3.5; RFC 2473)

PacketStatus malformed(Counter* reason, Counter c) {
  *reason = c;
  return PacketStatus::kMalformed;
}

// TCP (RFC 9293 section 3.1) or UDP (RFC 768) header at p->l4_offset, l4_len bytes.
PacketStatus parseL4(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason) {
  ByteReader r(frame.subspan(p->l4_offset, p->l4_len));
  if (p->ip_proto == kProtoTcp) {
    p->l4 = L4::kTcp;
    uint8_t off_byte = 0;
    if (!r.readU16(&p->sport) || !r.readU16(&p->dport) || !r.readU32(&p->seq) ||
        !r.readU32(&p->ack) || !r.readU8(&off_byte) || !r.readU8(&p->tcp_flags)) {
      return malformed(reason, Counter::malformed_tcp);
    }
    const size_t hdr = static_cast<size_t>(off_byte >> 4) * 4;
    if (hdr < 20 || hdr > p->l4_len) return malformed(reason, Counter::malformed_tcp);
    p->payload_offset = static_cast<uint16_t>(p->l4_offset + hdr);
    p->payload_len = static_cast<uint16_t>(p->l4_len - hdr);
    return PacketStatus::kOk;
  }
  if (p->ip_proto == kProtoUdp) {
    p->l4 = L4::kUdp;
    uint16_t len = 0;
    if (!r.readU16(&p->sport) || !r.readU16(&p->dport) || !r.readU16(&len)) {
      return malformed(reason, Counter::malformed_udp);
    }
    if (len < 8 || len > p->l4_len) return malformed(reason, Counter::malformed_udp);
    p->l4_len = len;  // UDP length bounds the datagram (trailing bytes are not payload)
    p->payload_offset = static_cast<uint16_t>(p->l4_offset + 8);
    p->payload_len = static_cast<uint16_t>(len - 8);
    return PacketStatus::kOk;
  }
  p->l4 = L4::kOther;
  return PacketStatus::kOk;
}

PacketStatus parseIpv4(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason, int depth);
PacketStatus parseIpv6(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason, int depth);

// The L4 part of an IP packet whose header parseIpv4/6 has read: TCP/UDP, or the inner IP
// packet of an IP-in-IP tunnel, at most kMaxIpTunnelDepth levels deep.
PacketStatus parseAboveIp(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason,
                          int depth) {
  if (p->fragment) return PacketStatus::kOk;
  if (p->ip_proto != kProtoIpv4 && p->ip_proto != kProtoIpv6) return parseL4(frame, p, reason);
  if (depth == kMaxIpTunnelDepth) {
    p->l4 = L4::kOther;
    return PacketStatus::kOk;
  }
  p->outer_ip_version = p->ip_version;
  p->outer_src = p->src;
  p->outer_dst = p->dst;
  p->ip_offset = p->l4_offset;
  // The inner packet is bounded by the outer one's payload, not by the frame (padding).
  const std::span<const uint8_t> outer = frame.first(size_t{p->l4_offset} + p->l4_len);
  return p->ip_proto == kProtoIpv4 ? parseIpv4(outer, p, reason, depth + 1)
                                   : parseIpv6(outer, p, reason, depth + 1);
}

// RFC 791 section 3.1; the header at p->ip_offset.
PacketStatus parseIpv4(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason, int depth) {
  ByteReader r(frame.subspan(p->ip_offset));
  uint8_t ver_ihl = 0, tos = 0, ttl = 0;
  uint16_t total = 0, id = 0, frag = 0, csum = 0;
  std::span<const uint8_t> src, dst;
  if (!r.readU8(&ver_ihl) || !r.readU8(&tos) || !r.readU16(&total) || !r.readU16(&id) ||
      !r.readU16(&frag) || !r.readU8(&ttl) || !r.readU8(&p->ip_proto) || !r.readU16(&csum) ||
      !r.readBytes(4, &src) || !r.readBytes(4, &dst)) {
    return malformed(reason, Counter::malformed_ipv4);
  }
  const size_t ihl = size_t{ver_ihl & 0x0fu} * 4;
  if ((ver_ihl >> 4) != 4 || ihl < 20 || total < ihl || total > r.size()) {
    return malformed(reason, Counter::malformed_ipv4);
  }
  p->ip_version = 4;
  p->src = IpAddr::v4(src.data());
  p->dst = IpAddr::v4(dst.data());
  p->l4_offset = static_cast<uint16_t>(p->ip_offset + ihl);
  p->l4_len = static_cast<uint16_t>(total - ihl);
  // More-fragments flag or a non-zero offset: not the whole datagram.
  p->fragment = (frag & 0x3fff) != 0;
  p->frag_more = (frag & 0x2000) != 0;
  p->frag_offset = static_cast<uint16_t>((frag & 0x1fff) * 8);
  p->frag_id = id;
  return parseAboveIp(frame, p, reason, depth);
}

// RFC 8200 sections 3 and 4; the header at p->ip_offset.
PacketStatus parseIpv6(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason, int depth) {
  ByteReader r(frame.subspan(p->ip_offset));
  uint32_t vtf = 0;
  uint16_t plen = 0;
  uint8_t next = 0, hops = 0;
  std::span<const uint8_t> src, dst;
  if (!r.readU32(&vtf) || !r.readU16(&plen) || !r.readU8(&next) || !r.readU8(&hops) ||
      !r.readBytes(16, &src) || !r.readBytes(16, &dst)) {
    return malformed(reason, Counter::malformed_ipv6);
  }
  if ((vtf >> 28) != 6 || plen > r.remaining()) return malformed(reason, Counter::malformed_ipv6);
  p->ip_version = 6;
  p->src = IpAddr::v6(src.data());
  p->dst = IpAddr::v6(dst.data());
  ByteReader ext(r.rest().first(plen));
  size_t nh_at = p->ip_offset + 6;  // the Next Header byte that names the header at `ext`
  for (int i = 0;; ++i) {
    const bool is_ext = next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
    if (!is_ext) break;
    if (i == kMaxIpv6ExtHeaders) return malformed(reason, Counter::malformed_ipv6_ext);
    const size_t hdr_at = p->ip_offset + 40 + ext.offset();
    uint8_t nh = 0, len = 0;
    if (!ext.readU8(&nh) || !ext.readU8(&len)) {
      return malformed(reason, Counter::malformed_ipv6_ext);
    }
    size_t body = 0;
    if (next == 44) {  // Fragment header: fixed 8 bytes (section 4.5)
      uint16_t off_flags = 0;
      uint32_t id = 0;
      if (!ext.readU16(&off_flags) || !ext.readU32(&id)) {
        return malformed(reason, Counter::malformed_ipv6_ext);
      }
      // Offset != 0 or M flag. An atomic fragment (both zero, RFC 6946) is a whole packet.
      if ((off_flags & 0xfff9) != 0) {
        p->fragment = true;
        p->frag_more = (off_flags & 1) != 0;
        p->frag_offset = static_cast<uint16_t>(off_flags & 0xfff8);
        p->frag_id = id;
        p->frag_hdr_offset = static_cast<uint16_t>(hdr_at);
        p->frag_nh_offset = static_cast<uint16_t>(nh_at);
        next = nh;
        break;  // what follows is fragment data (the fragmentable part), not headers
      }
    } else if (next == 51) {  // AH (RFC 4302 section 2.2): length in 4-octet units minus 2
      body = (size_t{len} + 2) * 4 - 2;
    } else {  // Hop-by-hop, routing, destination options: (len + 1) * 8 octets
      body = (size_t{len} + 1) * 8 - 2;
    }
    if (body && !ext.skip(body)) return malformed(reason, Counter::malformed_ipv6_ext);
    next = nh;
    nh_at = hdr_at;
  }
  p->ip_proto = next;
  p->l4_offset = static_cast<uint16_t>(p->ip_offset + 40 + ext.offset());
  p->l4_len = static_cast<uint16_t>(plen - ext.offset());
  return parseAboveIp(frame, p, reason, depth);
}

}  // namespace

PacketStatus parsePacket(std::span<const uint8_t> frame, PacketInfo* p, Counter* reason) {
  *p = PacketInfo{};
  // Frames are at most an mbuf's data room; offsets below fit in uint16_t.
  if (frame.size() > 65535) frame = frame.first(65535);
  ByteReader r(frame);
  uint16_t type = 0;
  if (!r.skip(12) || !r.readU16(&type)) return malformed(reason, Counter::malformed_l2);
  while (type == kEtherVlan || type == kEtherQinq || type == kEtherQinqOld) {
    if (p->vlan_tags == kMaxVlanTags) return malformed(reason, Counter::malformed_vlan_depth);
    uint16_t tci = 0;
    if (!r.readU16(&tci) || !r.readU16(&type)) return malformed(reason, Counter::malformed_l2);
    ++p->vlan_tags;
  }
  if (type == kEtherMpls || type == kEtherMplsMc) {
    // RFC 3032 section 2.1: 4-byte label stack entries until the bottom-of-stack bit. The
    // payload type is not signalled: IP is recognised by its version nibble (RFC 4928); a
    // pseudowire (control word 0000, or anything else) is not IP and passes uninspected.
    uint32_t entry = 0;
    do {
      if (p->mpls_labels == kMaxMplsLabels) return malformed(reason, Counter::malformed_mpls);
      if (!r.readU32(&entry)) return malformed(reason, Counter::malformed_mpls);
      ++p->mpls_labels;
    } while (!(entry & 0x100));
    uint8_t first = 0;
    if (!r.peekU8(&first)) return malformed(reason, Counter::malformed_mpls);
    type = (first >> 4) == 4 ? kEtherIpv4 : (first >> 4) == 6 ? kEtherIpv6 : 0;
  } else if (type == kEtherPppoe) {
    // RFC 2516 section 4: VER=1, TYPE=1, CODE=0 (session data), SESSION_ID, LENGTH of the
    // PPP frame; then the PPP protocol field (RFC 1661 section 2).
    uint8_t ver_type = 0, code = 0;
    uint16_t session = 0, length = 0, proto = 0;
    if (!r.readU8(&ver_type) || !r.readU8(&code) || !r.readU16(&session)) {
      return malformed(reason, Counter::malformed_pppoe);
    }
    const size_t len_at = r.offset();
    uint8_t proto_hi = 0;
    if (!r.readU16(&length) || ver_type != 0x11 || code != 0 || length < 1 ||
        length > r.remaining() || !r.readU8(&proto_hi)) {
      return malformed(reason, Counter::malformed_pppoe);
    }
    // Protocol-Field-Compression (RFC 1661 section 6.5): an odd first byte is the whole,
    // one-byte protocol; otherwise the protocol takes two bytes.
    proto = proto_hi;
    if (!(proto_hi & 1)) {
      uint8_t lo = 0;
      if (length < 2 || !r.readU8(&lo)) return malformed(reason, Counter::malformed_pppoe);
      proto = static_cast<uint16_t>(proto_hi << 8 | lo);
    }
    p->pppoe_len_offset = static_cast<uint16_t>(len_at);
    type = proto == kPppIpv4 ? kEtherIpv4 : proto == kPppIpv6 ? kEtherIpv6 : 0;
  }
  p->l3_offset = static_cast<uint16_t>(r.offset());
  p->ip_offset = p->l3_offset;
  if (type == kEtherIpv4) return parseIpv4(frame, p, reason, 0);
  if (type == kEtherIpv6) return parseIpv6(frame, p, reason, 0);
  return PacketStatus::kNonIp;
}

uint32_t checksumAdd(std::span<const uint8_t> data, uint32_t sum) {
  ByteReader r(data);
  uint16_t w = 0;
  while (r.remaining() >= 2) {
    if (!r.readU16(&w)) break;
    sum += w;
    if (sum & 0x80000000u) sum = (sum & 0xffff) + (sum >> 16);
  }
  uint8_t last = 0;
  if (r.readU8(&last)) sum += uint32_t{last} << 8;
  return sum;
}

uint16_t checksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t pseudoHeaderSum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t l4_len) {
  uint32_t sum = 0;
  sum = checksumAdd({src.bytes, src.length()}, sum);
  sum = checksumAdd({dst.bytes, dst.length()}, sum);
  sum += proto;
  sum += l4_len >> 16;
  sum += l4_len & 0xffff;
  return sum;
}

bool looksLikeAckPadding(std::span<const uint8_t> frame, const PacketInfo& p) {
  constexpr uint8_t kOtherFlags = kTcpSyn | kTcpFin | kTcpRst | kTcpPsh;
  if (p.l4 != L4::kTcp || !(p.tcp_flags & kTcpAck) || (p.tcp_flags & kOtherFlags) ||
      p.payload_len == 0 || p.payload_len > kMaxAckPaddingBytes) {
    return false;
  }
  ByteReader r(frame.subspan(p.payload_offset, p.payload_len));
  uint8_t b = 0;
  while (r.readU8(&b)) {
    if (b != 0) return false;
  }
  return r.offset() == p.payload_len;
}

bool l4ChecksumOk(std::span<const uint8_t> frame, const PacketInfo& p) {
  if (p.l4 != L4::kTcp && p.l4 != L4::kUdp) return true;
  std::span<const uint8_t> seg = frame.subspan(p.l4_offset, p.l4_len);
  if (p.l4 == L4::kUdp && p.ip_version == 4 && seg.size() >= 8 && seg[6] == 0 && seg[7] == 0) {
    return true;  // RFC 768: zero = no checksum (IPv4 only)
  }
  uint32_t sum = pseudoHeaderSum(p.src, p.dst, p.ip_proto, p.l4_len);
  sum = checksumAdd(seg, sum);
  return checksumFold(sum) == 0;
}

}  // namespace cordon
