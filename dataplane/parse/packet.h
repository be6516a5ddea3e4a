#pragma once
// L2-L4 header parsing: Ethernet, 802.1Q / QinQ, MPLS, PPPoE, IPv4, IPv6 (extension headers
// walked), one level of IP-in-IP, TCP, UDP. Everything is read through ByteReader; nothing here
// allocates or throws.

#include <cstdint>
#include <span>

#include "dataplane/parse/counters.h"
#include "rules/ip_addr.h"

namespace cordon {

// Stacked VLAN tags we walk (802.1ad QinQ is 2; allow a little more for provider
// networks). DPDK's RTE_NET_VLAN_MAX_DEPTH-style bound: deeper stacks are malformed.
inline constexpr int kMaxVlanTags = 4;
// IPv6 extension headers walked before giving up (RFC 8200 section 4.1 recommends an order
// with at most ~6; attackers chain more to evade inspection).
inline constexpr int kMaxIpv6ExtHeaders = 8;
// Label stack depth walked: L3VPN over TE with fast reroute uses 3-4; more is not traffic we
// can judge.
inline constexpr int kMaxMplsLabels = 8;
// IP-in-IP levels looked inside (RFC 2003 IPv4-in-IPv4, RFC 4213 6in4 and RFC 2473 IPv6/IPv4
// in IPv6, i.e. IPv4 protocol 4 or 41 and IPv6 next header 4 or 41): one is what tunnel
// brokers and 4in6/DS-Lite access use; a tunnel inside a tunnel passes uninspected (L4 kOther).
inline constexpr int kMaxIpTunnelDepth = 1;

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

enum class L4 : uint8_t { kNone, kTcp, kUdp, kOther };

struct PacketInfo {
  uint16_t l3_offset = 0;  // = length of the L2 header incl. VLAN tags, MPLS labels, PPPoE
  uint16_t l4_offset = 0;
  uint16_t l4_len = 0;  // L4 header + payload, bounded by the IP length (not padding)
  uint16_t payload_offset = 0;
  uint16_t payload_len = 0;
  uint8_t vlan_tags = 0;
  uint8_t mpls_labels = 0;        // label stack entries between L2 and IP
  uint16_t pppoe_len_offset = 0;  // PPPoE session: offset of its LENGTH field, else 0
  uint16_t ip_offset = 0;         // the IP header src/dst describe: = l3_offset, or the inner
                                  // header of an IP-in-IP packet
  uint8_t ip_version = 0;         // 4 or 6; 0 for non-IP
  uint8_t ip_proto = 0;           // final next-header value
  // IP-in-IP: version and addresses of the outer (tunnel) header at l3_offset; 0 and unset
  // when not tunnelled. ip_version, src, dst, ip_proto, fragment and the L4 fields then
  // describe the inner packet at ip_offset (flows, names and events are the inner ones).
  uint8_t outer_ip_version = 0;
  IpAddr outer_src;
  IpAddr outer_dst;
  L4 l4 = L4::kNone;
  bool fragment = false;  // an IP fragment: no L4 parsing
  // Fragments only (fragment == true): l4_offset/l4_len then cover the fragment's data (after
  // the IPv4 header, or after the IPv6 Fragment header), ip_proto is the protocol of the
  // fragmentable part (RFC 791 section 3.1 Protocol; RFC 8200 section 4.5 Next Header).
  bool frag_more = false;        // More Fragments flag
  uint16_t frag_offset = 0;      // fragment offset in bytes (the header's 8-octet units x 8)
  uint32_t frag_id = 0;          // IPv4 Identification (16 bits) or IPv6 Fragment Identification
  uint16_t frag_hdr_offset = 0;  // IPv6: the Fragment header (end of the unfragmentable part)
  uint16_t frag_nh_offset = 0;   // IPv6: the Next Header byte that holds 44 (Fragment)
  IpAddr src;
  IpAddr dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t tcp_flags = 0;
};

enum class PacketStatus : uint8_t {
  kOk,         // IP packet, L4 filled when TCP/UDP (and not a fragment)
  kNonIp,      // a well-formed non-IP frame
  kMalformed,  // *reason says which header
};

// Parses a frame. On kMalformed, *reason is the malformed_* counter to bump.
PacketStatus parsePacket(std::span<const uint8_t> frame, PacketInfo* out, Counter* reason);

// Zero bytes a pure ACK may carry that are Ethernet padding, not data: a minimum Ethernet frame
// (60 bytes before the FCS) pads a 54-byte IPv4/TCP ACK without options by 6.
inline constexpr uint16_t kMaxAckPaddingBytes = 6;

// True for a TCP segment with only ACK set (no SYN, FIN, RST or PSH) whose payload is 1 to
// kMaxAckPaddingBytes bytes, all zero. Some senders and capture paths count the Ethernet
// padding of short frames in the IP total length, so their pure ACKs appear to carry a few
// zero bytes at the sequence number the next real segment starts at (nDPI issue #1946, its
// "tcp_ack_payload_heuristic"). Such bytes cannot begin a TLS record (RFC 8446 section 5.1:
// content type 0 is invalid), an HTTP request line (RFC 9112 section 3) or a DNS message over
// TCP (RFC 1035 section 4.2.2: length 0), so stream inspection must not judge a flow by them.
bool looksLikeAckPadding(std::span<const uint8_t> frame, const PacketInfo& p);

// Verifies the TCP/UDP checksum (RFC 793 / RFC 768 / RFC 8200 section 8.1 pseudo-header).
// A UDP/IPv4 checksum of zero means "none" and verifies.
bool l4ChecksumOk(std::span<const uint8_t> frame, const PacketInfo& p);

// Internet checksum helpers (RFC 1071) for builders: one's-complement sum of bytes.
uint32_t checksumAdd(std::span<const uint8_t> data, uint32_t sum);
uint16_t checksumFold(uint32_t sum);
// Pseudo-header sum for an L4 segment of the given protocol and length.
uint32_t pseudoHeaderSum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t l4_len);

}  // namespace cordon
