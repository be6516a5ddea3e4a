// L2-L4 parser tests. Fixtures were generated with scapy 2.5 (Debian python3-scapy), whose
// checksums are computed independently of cordon's:
//   kV4Tcp  = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
//             /IP(src="10.0.0.1", dst="10.0.0.2", id=1)
//             /TCP(sport=40000, dport=443, seq=1000, ack=2000, flags="PA")/Raw(b"hello")
//   kQinqV6 = Ether(...)/Dot1AD(vlan=100)/Dot1Q(vlan=200)
//             /IPv6(src="2001:db8::1", dst="2001:db8::2")/IPv6ExtHdrHopByHop()
//             /IPv6ExtHdrDestOpt()/UDP(sport=5353, dport=53)/Raw(b"abc")

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/parse/packet.h"
#include "tests/unit/dataplane/encap_fixtures.h"

namespace cordon {
namespace {

const std::vector<uint8_t> kV4Tcp = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x2d, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x66, 0xc8, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07,
    0xd0, 0x50, 0x18, 0x20, 0x00, 0x8e, 0x3f, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f};

const std::vector<uint8_t> kQinqV6 = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0xa8, 0x00,
    0x64, 0x81, 0x00, 0x00, 0xc8, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x01, 0x04, 0x00,
    0x00, 0x00, 0x00, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0b, 0xca, 0xe2, 0x61, 0x62, 0x63};

PacketStatus parse(const std::vector<uint8_t>& f, PacketInfo* p, Counter* why) {
  return parsePacket(f, p, why);
}

TEST(PacketTest, Ipv4Tcp) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parse(kV4Tcp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.l4, L4::kTcp);
  EXPECT_EQ(ipToString(p.src), "10.0.0.1");
  EXPECT_EQ(ipToString(p.dst), "10.0.0.2");
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 443);
  EXPECT_EQ(p.seq, 1000u);
  EXPECT_EQ(p.ack, 2000u);
  EXPECT_EQ(p.tcp_flags, kTcpPsh | kTcpAck);
  EXPECT_EQ(p.payload_len, 5);
  EXPECT_EQ(p.payload_offset, 54);
  EXPECT_TRUE(l4ChecksumOk(kV4Tcp, p));
}

TEST(PacketTest, QinqIpv6ExtensionHeadersUdp) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parse(kQinqV6, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.vlan_tags, 2);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l4, L4::kUdp);
  EXPECT_EQ(p.l4_offset, 22 + 40 + 8 + 8);
  EXPECT_EQ(p.sport, 5353);
  EXPECT_EQ(p.dport, 53);
  EXPECT_EQ(p.payload_len, 3);
  EXPECT_EQ(ipToString(p.dst), "2001:db8::2");
  EXPECT_TRUE(l4ChecksumOk(kQinqV6, p));
}

TEST(PacketTest, WrongChecksumIsDetected) {
  std::vector<uint8_t> f = kV4Tcp;
  f.back() ^= 0x20;  // payload changed, checksum not updated
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parse(f, &p, &why), PacketStatus::kOk);
  EXPECT_FALSE(l4ChecksumOk(f, p));
}

TEST(PacketTest, EthernetPaddingIsNotPayload) {
  std::vector<uint8_t> f = kV4Tcp;
  f.insert(f.end(), 10, 0);  // trailer after the IP datagram (short-frame padding)
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parse(f, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.payload_len, 5);
  EXPECT_TRUE(l4ChecksumOk(f, p));
}

// Every truncation of a valid frame is malformed (never an over-read, never kOk with
// fields past the end).
TEST(PacketTest, EveryTruncationIsMalformed) {
  for (const auto* fixture : {&kV4Tcp, &kQinqV6}) {
    for (size_t n = 0; n < fixture->size(); ++n) {
      std::vector<uint8_t> f(fixture->begin(), fixture->begin() + n);
      PacketInfo p;
      Counter why{};
      const PacketStatus st = parsePacket(f, &p, &why);
      ASSERT_EQ(st, PacketStatus::kMalformed) << "prefix " << n;
    }
  }
}

struct MalformedCase {
  const char* what;
  size_t offset;  // byte of kV4Tcp to overwrite
  uint8_t value;
  Counter reason;
};

class PacketMalformedTest : public testing::TestWithParam<MalformedCase> {};

TEST_P(PacketMalformedTest, CountsReason) {
  const MalformedCase& c = GetParam();
  std::vector<uint8_t> f = kV4Tcp;
  f[c.offset] = c.value;
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(f, &p, &why), PacketStatus::kMalformed) << c.what;
  EXPECT_EQ(why, c.reason) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PacketMalformedTest,
    testing::Values(
        MalformedCase{"IHL below 5", 14, 0x44, Counter::malformed_ipv4},
        MalformedCase{"IHL beyond the datagram", 14, 0x4f, Counter::malformed_ipv4},
        MalformedCase{"version 5 in an IPv4 ethertype", 14, 0x55, Counter::malformed_ipv4},
        MalformedCase{"total length beyond the frame", 16, 0x10, Counter::malformed_ipv4},
        MalformedCase{"TCP data offset 4", 46, 0x40, Counter::malformed_tcp},
        MalformedCase{"TCP data offset past the segment", 46, 0xf0, Counter::malformed_tcp}));

TEST(PacketTest, TooManyVlanTags) {
  std::vector<uint8_t> f(kV4Tcp.begin(), kV4Tcp.begin() + 12);
  for (int i = 0; i <= kMaxVlanTags; ++i) {
    f.insert(f.end(), {0x81, 0x00, 0x00, 0x01});
  }
  f.insert(f.end(), kV4Tcp.begin() + 12, kV4Tcp.end());
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(f, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_vlan_depth);
}

TEST(PacketTest, Ipv6ExtensionChainIsBounded) {
  // IPv6 header followed by kMaxIpv6ExtHeaders + 1 destination-options headers.
  std::vector<uint8_t> f(kQinqV6.begin(), kQinqV6.begin() + 12);
  f.insert(f.end(), {0x86, 0xdd});
  const int n = kMaxIpv6ExtHeaders + 1;
  const uint16_t plen = static_cast<uint16_t>(n * 8 + 8);
  f.insert(f.end(),
           {0x60, 0, 0, 0, static_cast<uint8_t>(plen >> 8), static_cast<uint8_t>(plen), 60, 64});
  f.insert(f.end(), 32, 0x11);
  for (int i = 0; i < n; ++i) f.insert(f.end(), {60, 0, 1, 4, 0, 0, 0, 0});
  f.insert(f.end(), 8, 0);
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(f, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_ipv6_ext);
}

TEST(PacketTest, NonIpAndFragments) {
  std::vector<uint8_t> arp(kV4Tcp.begin(), kV4Tcp.begin() + 12);
  arp.insert(arp.end(), {0x08, 0x06});
  arp.insert(arp.end(), 28, 0);
  PacketInfo p;
  Counter why{};
  EXPECT_EQ(parsePacket(arp, &p, &why), PacketStatus::kNonIp);

  std::vector<uint8_t> frag = kV4Tcp;
  frag[20] = 0x20;  // more fragments
  ASSERT_EQ(parsePacket(frag, &p, &why), PacketStatus::kOk);
  EXPECT_TRUE(p.fragment);
  EXPECT_EQ(p.l4, L4::kNone);
}

}  // namespace
}  // namespace cordon

// ---- MPLS and PPPoE (scapy 2.5 fixtures) ----------------------------------------------
namespace cordon {
namespace {

// Ether()/MPLS(label=100, s=0, ttl=64)/MPLS(label=200, s=1, ttl=64)/<kV4Tcp's IP packet>
const std::vector<uint8_t> kMplsV4Tcp = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x47,
    0x00, 0x06, 0x40, 0x40, 0x00, 0x0c, 0x81, 0x40, 0x45, 0x00, 0x00, 0x2d, 0x00, 0x01,
    0x00, 0x00, 0x40, 0x06, 0x66, 0xc8, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x50, 0x18,
    0x20, 0x00, 0x8e, 0x3f, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f};
// Ether()/MPLS(label=100, s=1)/Raw(control word 0000 + an Ethernet frame): a pseudowire.
const std::vector<uint8_t> kMplsPseudowire = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x47,
    0x00, 0x06, 0x41, 0x40, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x14, 0x00, 0x01,
    0x00, 0x00, 0x40, 0x00, 0x7c, 0xe7, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01};
// Ether()/Dot1Q(vlan=10)/PPPoE(sessionid=0x1234)/PPP(proto=0x0057) (scapy compresses the
// protocol field to one byte)/IPv6(2001:db8::1 -> ::2)/UDP(5353 -> 53)/Raw(b"abc")
const std::vector<uint8_t> kPppoeV6Udp = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x00, 0x0a,
    0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0x00, 0x34, 0x57, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x11,
    0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0b, 0xca, 0xe2, 0x61, 0x62, 0x63};
// test::kPppoeV4Udp (encap_fixtures.h): the two-byte protocol field.

TEST(PacketEncapTest, MplsLabelStackToIpv4Tcp) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(kMplsV4Tcp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.mpls_labels, 2);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.l4, L4::kTcp);
  EXPECT_EQ(p.dport, 443);
  EXPECT_EQ(p.payload_len, 5);
  EXPECT_TRUE(l4ChecksumOk(kMplsV4Tcp, p));
}

TEST(PacketEncapTest, MplsPseudowireIsNotIp) {
  PacketInfo p;
  Counter why{};
  EXPECT_EQ(parsePacket(kMplsPseudowire, &p, &why), PacketStatus::kNonIp);
}

TEST(PacketEncapTest, MplsWithoutBottomOfStackOrTooDeep) {
  // Every entry without the S bit, until the frame ends: truncated.
  std::vector<uint8_t> f(kMplsV4Tcp.begin(), kMplsV4Tcp.begin() + 14);
  for (int i = 0; i < 3; ++i) f.insert(f.end(), {0x00, 0x06, 0x40, 0x40});
  PacketInfo p;
  Counter why{};
  EXPECT_EQ(parsePacket(f, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_mpls);
  // More labels than kMaxMplsLabels, then a valid bottom and IP: refused, not walked.
  std::vector<uint8_t> deep(kMplsV4Tcp.begin(), kMplsV4Tcp.begin() + 14);
  for (int i = 0; i < kMaxMplsLabels; ++i) deep.insert(deep.end(), {0x00, 0x06, 0x40, 0x40});
  deep.insert(deep.end(), kMplsV4Tcp.begin() + 18, kMplsV4Tcp.end());
  EXPECT_EQ(parsePacket(deep, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_mpls);
}

TEST(PacketEncapTest, PppoeCompressedProtocolIpv6) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(kPppoeV6Udp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.vlan_tags, 1);
  EXPECT_EQ(p.pppoe_len_offset, 22);
  EXPECT_EQ(p.l3_offset, 25);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.l4, L4::kUdp);
  EXPECT_EQ(p.dport, 53);
  EXPECT_TRUE(l4ChecksumOk(kPppoeV6Udp, p));
}

TEST(PacketEncapTest, PppoeTwoByteProtocolIpv4) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::kPppoeV4Udp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.pppoe_len_offset, 18);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(ipToString(p.src), "10.0.0.1");
  EXPECT_EQ(p.payload_len, 3);
  EXPECT_TRUE(l4ChecksumOk(test::kPppoeV4Udp, p));
}

TEST(PacketEncapTest, PppoeBadHeaders) {
  PacketInfo p;
  Counter why{};
  auto bad = test::kPppoeV4Udp;
  bad[14] = 0x12;  // version 1, type 2
  EXPECT_EQ(parsePacket(bad, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_pppoe);
  bad = test::kPppoeV4Udp;
  bad[18] = 0x40;  // LENGTH beyond the frame
  EXPECT_EQ(parsePacket(bad, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_pppoe);
  bad = test::kPppoeV4Udp;
  bad[20] = 0xc0;  // LCP (0xc021): not IP, passes uninspected
  EXPECT_EQ(parsePacket(bad, &p, &why), PacketStatus::kNonIp);
  const std::vector<uint8_t> cut(test::kPppoeV4Udp.begin(), test::kPppoeV4Udp.begin() + 19);
  EXPECT_EQ(parsePacket(cut, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_pppoe);
}

}  // namespace
}  // namespace cordon

namespace cordon {
namespace {

// IP-in-IP fixtures: test::k6in4Tcp and test::k4in6Udp (encap_fixtures.h), and, scapy 2.5:
//   kIpIpIp  = Ether()/IP(192.0.2.1 -> 198.51.100.1)/IP(192.0.2.5 -> 198.51.100.5)
//              /IP(10.0.0.1 -> 10.0.0.2)/TCP(sport=40000, dport=443, flags="S")
const std::vector<uint8_t> kIpIpIp = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x50, 0x00, 0x01, 0x00, 0x00, 0x40, 0x04, 0x8e, 0x73, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33,
    0x64, 0x01, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x04, 0x8e, 0x7f, 0xc0, 0x00,
    0x02, 0x05, 0xc6, 0x33, 0x64, 0x05, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06,
    0x66, 0xcd, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0xdd, 0xe4, 0x00, 0x00};

TEST(PacketTunnelTest, SixInFourTcpIsParsedInside) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::k6in4Tcp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.outer_ip_version, 4);
  EXPECT_EQ(ipToString(p.outer_src), "192.0.2.1");
  EXPECT_EQ(ipToString(p.outer_dst), "198.51.100.1");
  EXPECT_EQ(p.ip_offset, 14 + 20);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.ip_proto, 6);
  EXPECT_EQ(ipToString(p.src), "2001:db8::1");
  EXPECT_EQ(ipToString(p.dst), "2001:db8::2");
  EXPECT_EQ(p.l4, L4::kTcp);
  EXPECT_EQ(p.l4_offset, 14 + 20 + 40);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 443);
  EXPECT_EQ(p.seq, 1000u);
  EXPECT_EQ(p.payload_len, 5);
  EXPECT_TRUE(l4ChecksumOk(test::k6in4Tcp, p));  // the inner pseudo-header (RFC 8200 section 8.1)
}

TEST(PacketTunnelTest, FourInSixUdpIsParsedInside) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::k4in6Udp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.outer_ip_version, 6);
  EXPECT_EQ(ipToString(p.outer_dst), "2001:db8:ffff::2");
  EXPECT_EQ(p.ip_offset, 14 + 40);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(ipToString(p.src), "10.0.0.1");
  EXPECT_EQ(p.l4, L4::kUdp);
  EXPECT_EQ(p.dport, 53);
  EXPECT_EQ(p.payload_len, 3);
  EXPECT_TRUE(l4ChecksumOk(test::k4in6Udp, p));
}

TEST(PacketTunnelTest, NotTunnelledLeavesOuterUnset) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(kV4Tcp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.outer_ip_version, 0);
  EXPECT_EQ(p.ip_offset, p.l3_offset);
}

TEST(PacketTunnelTest, TunnelInsideTunnelIsNotWalked) {
  // kMaxIpTunnelDepth is 1: the second IPv4 header is read, the third is not.
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(kIpIpIp, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.outer_ip_version, 4);
  EXPECT_EQ(ipToString(p.src), "192.0.2.5");
  EXPECT_EQ(p.ip_proto, 4);
  EXPECT_EQ(p.l4, L4::kOther);
  EXPECT_EQ(p.sport, 0);
}

TEST(PacketTunnelTest, InnerPacketIsBoundedByTheOuterLength) {
  PacketInfo p;
  Counter why{};
  // Outer total length one byte short of the inner packet: the inner header claims bytes the
  // outer datagram does not carry, although the frame has them.
  auto f = test::k6in4Tcp;
  f[17] = 0x54;
  EXPECT_EQ(parsePacket(f, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_ipv6);
  // Inner version nibble not the one the protocol number announces.
  f = test::k4in6Udp;
  f[54] = 0x65;
  EXPECT_EQ(parsePacket(f, &p, &why), PacketStatus::kMalformed);
  EXPECT_EQ(why, Counter::malformed_ipv4);
  // Ethernet padding after the outer datagram is not inner payload.
  f = test::k4in6Udp;
  f.insert(f.end(), 10, 0);
  ASSERT_EQ(parsePacket(f, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(p.payload_len, 3);
  // Truncated inside the inner header.
  const std::vector<uint8_t> cut(test::k6in4Tcp.begin(), test::k6in4Tcp.begin() + 14 + 20 + 30);
  EXPECT_EQ(parsePacket(cut, &p, &why), PacketStatus::kMalformed);
}

TEST(PacketTunnelTest, OuterFragmentIsNotOpened) {
  auto f = test::k6in4Tcp;
  f[20] = 0x20;  // More Fragments: the inner packet is incomplete
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(f, &p, &why), PacketStatus::kOk);
  EXPECT_TRUE(p.fragment);
  EXPECT_EQ(p.outer_ip_version, 0);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.l4, L4::kNone);
}

}  // namespace
}  // namespace cordon

namespace cordon {
namespace {

// A pure ACK whose IP total length (42) counts two zero bytes after the TCP header, as the
// client ACKs of nDPI's heuristic_tcp_ack_payload.pcap do (packet 3 there: 0x002a, then
// 00 00). scapy 2.5: Ether()/IP(src="10.0.0.1", dst="10.0.0.2", id=1)
//   /TCP(sport=40000, dport=443, seq=1000, ack=2000, flags="A")/Raw(b"\0\0")
const std::vector<uint8_t> kAckWithZeros = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x2a, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x66, 0xcb, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8,
    0x00, 0x00, 0x07, 0xd0, 0x50, 0x10, 0x20, 0x00, 0xd2, 0x1c, 0x00, 0x00, 0x00, 0x00};
constexpr size_t kFlagsAt = 14 + 20 + 13;

// kAckWithZeros with `extra` more payload bytes of value `fill` (IPv4 total length adjusted;
// the parser does not verify the IPv4 header checksum) and TCP flags `flags`.
std::vector<uint8_t> ackSegment(uint8_t flags, size_t extra, uint8_t fill) {
  std::vector<uint8_t> f = kAckWithZeros;
  f.insert(f.end(), extra, fill);
  const size_t total = f.size() - 14;
  f[16] = static_cast<uint8_t>(total >> 8);
  f[17] = static_cast<uint8_t>(total);
  f[kFlagsAt] = flags;
  return f;
}

struct AckPaddingCase {
  const char* what;
  std::vector<uint8_t> frame;
  bool padding;
};

class AckPaddingTest : public testing::TestWithParam<AckPaddingCase> {};

TEST_P(AckPaddingTest, Classifies) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(GetParam().frame, &p, &why), PacketStatus::kOk);
  EXPECT_EQ(looksLikeAckPadding(GetParam().frame, p), GetParam().padding) << GetParam().what;
}

std::vector<uint8_t> withByte(std::vector<uint8_t> f, size_t at, uint8_t v) {
  f[at] = v;
  return f;
}

INSTANTIATE_TEST_SUITE_P(
    Table, AckPaddingTest,
    testing::Values(
        AckPaddingCase{"pure ACK, 2 zero bytes (the capture's case)", kAckWithZeros, true},
        AckPaddingCase{"pure ACK, kMaxAckPaddingBytes zero bytes", ackSegment(kTcpAck, 4, 0), true},
        AckPaddingCase{"one zero byte more than any Ethernet padding", ackSegment(kTcpAck, 5, 0),
                       false},
        AckPaddingCase{"PSH: the sender pushed data", ackSegment(kTcpPsh | kTcpAck, 0, 0), false},
        AckPaddingCase{"FIN carries sequence space", ackSegment(kTcpFin | kTcpAck, 0, 0), false},
        AckPaddingCase{"no ACK", ackSegment(0, 0, 0), false},
        AckPaddingCase{"a non-zero byte is data", withByte(kAckWithZeros, 55, 0x16), false},
        AckPaddingCase{"the zeros outside the IP length: no payload",
                       withByte(kAckWithZeros, 17, 0x28), false}));

}  // namespace
}  // namespace cordon
