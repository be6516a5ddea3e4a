#pragma once
// L2-L4 header parsing: Ethernet, 802.1Q / QinQ, IPv4, IPv6 (extension headers walked),
// TCP, UDP. Everything is read through ByteReader; nothing here allocates or throws.

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
  uint8_t ip_version = 0;  // 4 or 6; 0 for non-IP
  uint8_t ip_proto = 0;    // final next-header value
  L4 l4 = L4::kNone;
  bool fragment = false;  // an IP fragment: no L4 parsing
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

// Verifies the TCP/UDP checksum (RFC 793 / RFC 768 / RFC 8200 section 8.1 pseudo-header).
// A UDP/IPv4 checksum of zero means "none" and verifies.
bool l4ChecksumOk(std::span<const uint8_t> frame, const PacketInfo& p);

// Internet checksum helpers (RFC 1071) for builders: one's-complement sum of bytes.
uint32_t checksumAdd(std::span<const uint8_t> data, uint32_t sum);
uint16_t checksumFold(uint32_t sum);
// Pseudo-header sum for an L4 segment of the given protocol and length.
uint32_t pseudoHeaderSum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t l4_len);

}  // namespace cordon
