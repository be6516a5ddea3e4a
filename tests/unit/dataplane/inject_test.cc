// Builders of injected packets: every built frame is parsed back with the L2-L4 parser and
// checked field by field against RFC 9293 (RST acceptability), RFC 1035 section 4.1.1
// (DNS answer header) and the contract in ARCHITECTURE.md.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/act/inject.h"
#include "tests/unit/dataplane/encap_fixtures.h"

namespace cordon {
namespace {

// Client 10.0.0.1:40000 → server 10.0.0.2:443, PSH|ACK seq 1000 ack 2000, 5 bytes, in one
// 802.1Q tag (VLAN 7). Built here from fields (same layout as scapy's
// Ether()/Dot1Q(vlan=7)/IP()/TCP()/"hello").
std::vector<uint8_t> trigger() {
  return {0x02, 0,    0,    0,    0,    0x02, 0x02, 0,    0,    0,    0,    0x01, 0x81,
          0x00, 0x00, 0x07, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2d, 0x00, 0x01, 0x00, 0x00,
          0x40, 0x06, 0x00, 0x00, 10,   0,    0,    1,    10,   0,    0,    2,    0x9c,
          0x40, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x50, 0x18,
          0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 'h',  'e',  'l',  'l',  'o'};
}

TEST(InjectTest, RstTowardClientSwapsEverything) {
  const auto t = trigger();
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(t, &p, &why), PacketStatus::kOk);
  std::vector<uint8_t> out(256);
  const size_t n =
      buildTcp(t, p, Toward::kClient, p.ack, p.seq + p.payload_len, kTcpRst | kTcpAck, {}, out);
  ASSERT_GT(n, 0u);
  out.resize(n);
  PacketInfo r;
  ASSERT_EQ(parsePacket(out, &r, &why), PacketStatus::kOk);
  EXPECT_EQ(r.vlan_tags, 1);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 6),
            std::vector<uint8_t>(t.begin() + 6, t.begin() + 12));  // to the client's MAC
  EXPECT_EQ(ipToString(r.src), "10.0.0.2");
  EXPECT_EQ(ipToString(r.dst), "10.0.0.1");
  EXPECT_EQ(r.sport, 443);
  EXPECT_EQ(r.dport, 40000);
  EXPECT_EQ(r.seq, 2000u);
  EXPECT_EQ(r.ack, 1005u);
  EXPECT_EQ(r.tcp_flags, kTcpRst | kTcpAck);
  EXPECT_EQ(r.payload_len, 0);
  EXPECT_TRUE(l4ChecksumOk(out, r));
  // IPv4 header checksum over the 20 header bytes folds to zero.
  EXPECT_EQ(checksumFold(checksumAdd(std::span<const uint8_t>(out).subspan(r.l3_offset, 20), 0)),
            0);
  EXPECT_EQ(out[r.l3_offset + 8], kInjectTtl);
  EXPECT_EQ(out[r.l3_offset + 6], 0x40);  // DF
}

TEST(InjectTest, RedirectTowardClientCarriesPayload) {
  const auto t = trigger();
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(t, &p, &why), PacketStatus::kOk);
  uint8_t body[512];
  const size_t bn = buildHttpRedirect("http://notice.example/blocked", body);
  const std::string expect =
      "HTTP/1.1 302 Found\r\nLocation: http://notice.example/blocked\r\nContent-Length: 0\r\n"
      "Connection: close\r\nCache-Control: no-store\r\n\r\n";
  ASSERT_EQ(std::string(reinterpret_cast<char*>(body), bn), expect);
  std::vector<uint8_t> out(512);
  const size_t n =
      buildTcp(t, p, Toward::kClient, 2000, 1005, kTcpFin | kTcpPsh | kTcpAck, {body, bn}, out);
  ASSERT_GT(n, 0u);
  out.resize(n);
  PacketInfo r;
  ASSERT_EQ(parsePacket(out, &r, &why), PacketStatus::kOk);
  EXPECT_EQ(r.payload_len, bn);
  EXPECT_TRUE(l4ChecksumOk(out, r));
}

TEST(InjectTest, TooSmallBufferFails) {
  const auto t = trigger();
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(t, &p, &why), PacketStatus::kOk);
  for (size_t cap = 0; cap < 58; ++cap) {
    std::vector<uint8_t> out(cap);
    EXPECT_EQ(buildTcp(t, p, Toward::kServer, 1, 2, kTcpRst, {}, out), 0u) << cap;
  }
}

// Query for "blocked.example" type A, id 0x1234, RD and CD set, with an EDNS OPT record
// after the question (as dig sends); bytes laid out per RFC 1035 section 4.1.
std::vector<uint8_t> dnsQuery(uint16_t qtype) {
  std::vector<uint8_t> q = {0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 1};
  for (const char* l : {"blocked", "example"}) {
    q.push_back(static_cast<uint8_t>(strlen(l)));
    q.insert(q.end(), l, l + strlen(l));
  }
  q.push_back(0);
  q.insert(q.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});  // OPT
  return q;
}

TEST(InjectTest, DnsNxdomainEchoesIdQuestionAndFlags) {
  const auto q = dnsQuery(1);
  const size_t qend = 12 + 17 + 4;
  uint8_t out[512];
  const size_t n = buildDnsAnswer(q, qend, 1, DnsAnswerSpec{}, out);
  ASSERT_EQ(n, qend);
  EXPECT_EQ(out[0], 0x12);
  EXPECT_EQ(out[1], 0x34);
  // QR=1, opcode 0, AA=0, TC=0, RD=1 | RA=1, Z=0, AD=0, CD=1, RCODE=3
  EXPECT_EQ(out[2], 0x81);
  EXPECT_EQ(out[3], 0x93);
  EXPECT_EQ(std::vector<uint8_t>(out + 4, out + 12),
            (std::vector<uint8_t>{0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(std::vector<uint8_t>(out + 12, out + n),
            std::vector<uint8_t>(q.begin() + 12, q.begin() + static_cast<long>(qend)));
}

TEST(InjectTest, DnsSinkholeAnswersMatchingQtypeOnly) {
  DnsAnswerSpec spec;
  spec.rcode = 0;
  ASSERT_TRUE(parseIp("192.0.2.1", &spec.answer));
  const size_t qend = 12 + 17 + 4;
  uint8_t out[512];
  auto a = dnsQuery(1);
  size_t n = buildDnsAnswer(a, qend, 1, spec, out);
  ASSERT_EQ(n, qend + 16);
  EXPECT_EQ(out[7], 1);  // ANCOUNT
  EXPECT_EQ(std::vector<uint8_t>(out + qend, out + n),
            (std::vector<uint8_t>{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1}));
  auto aaaa = dnsQuery(28);
  n = buildDnsAnswer(aaaa, qend, 28, spec, out);
  EXPECT_EQ(n, qend);  // NODATA: no IPv6 sinkhole configured
  EXPECT_EQ(out[3] & 0x0f, 0);
  EXPECT_EQ(out[7], 0);
}

TEST(InjectTest, DnsAnswerRejectsBadQuestionEnd) {
  const auto q = dnsQuery(1);
  uint8_t out[512];
  EXPECT_EQ(buildDnsAnswer(q, 5, 1, DnsAnswerSpec{}, out), 0u);
  EXPECT_EQ(buildDnsAnswer(q, q.size() + 1, 1, DnsAnswerSpec{}, out), 0u);
  EXPECT_EQ(buildDnsAnswer(q, 33, 1, DnsAnswerSpec{}, std::span<uint8_t>(out, 20)), 0u);
}

}  // namespace
}  // namespace cordon

namespace cordon {
namespace {

// PPPoE session (RFC 2516) around IPv4/UDP: test::kPppoeV4Udp (encap_fixtures.h).

TEST(InjectEncapTest, PppoeLengthFollowsTheInjectedPacket) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::kPppoeV4Udp, &p, &why), PacketStatus::kOk);
  const std::vector<uint8_t> payload(50, 0xab);
  std::vector<uint8_t> out(256);
  const size_t n = buildUdpToClient(test::kPppoeV4Udp, p, payload, out);
  ASSERT_GT(n, 0u);
  out.resize(n);
  PacketInfo r;
  ASSERT_EQ(parsePacket(out, &r, &why), PacketStatus::kOk);
  // Same session id; LENGTH = protocol field (2) + IPv4 (20) + UDP (8) + payload (50).
  EXPECT_EQ(out[16], 0x12);
  EXPECT_EQ(out[17], 0x34);
  EXPECT_EQ((out[18] << 8 | out[19]), 2 + 20 + 8 + 50);
  EXPECT_EQ(ipToString(r.src), "10.0.0.2");
  EXPECT_EQ(r.payload_len, 50);
  EXPECT_TRUE(l4ChecksumOk(out, r));
  // The trigger itself is untouched.
  EXPECT_EQ((test::kPppoeV4Udp[18] << 8 | test::kPppoeV4Udp[19]), 0x21);
}

}  // namespace
}  // namespace cordon

namespace cordon {
namespace {

// IP-in-IP triggers test::k6in4Tcp and test::k4in6Udp (encap_fixtures.h), and the packets cordon
// must build for them, written by scapy from RFC 2003/4213/2473 field values (outer header fresh:
// IPv4 IHL 5, id 0, DF, TTL 64; IPv6 hop limit 64):
//   k6in4RstToClient = Ether(src=..:02, dst=..:01)
//       /IP(src="198.51.100.1", dst="192.0.2.1", id=0, flags="DF", ttl=64)
//       /IPv6(src="2001:db8::2", dst="2001:db8::1", hlim=64)
//       /TCP(sport=443, dport=40000, seq=2000, ack=1005, flags="RA", window=0)
//   k6in4RstToServer = Ether(src=..:01, dst=..:02)
//       /IP(src="192.0.2.1", dst="198.51.100.1", id=0, flags="DF", ttl=64)
//       /IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64)
//       /TCP(sport=40000, dport=443, seq=1000, ack=2000, flags="RA", window=0)
//   k4in6UdpToClient = Ether(src=..:02, dst=..:01)
//       /IPv6(src="2001:db8:ffff::2", dst="2001:db8:ffff::1", hlim=64)
//       /IP(src="10.0.0.2", dst="10.0.0.1", id=0, flags="DF", ttl=64)
//       /UDP(sport=53, dport=5353)/b"xyz"
const std::vector<uint8_t> k6in4RstToClient = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x50, 0x00, 0x00, 0x40, 0x00, 0x40, 0x29, 0x4e, 0x4f, 0xc6, 0x33, 0x64, 0x01, 0xc0, 0x00,
    0x02, 0x01, 0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0xbb, 0x9c, 0x40, 0x00, 0x00,
    0x07, 0xd0, 0x00, 0x00, 0x03, 0xed, 0x50, 0x14, 0x00, 0x00, 0xaa, 0xa3, 0x00, 0x00};
const std::vector<uint8_t> k6in4RstToServer = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x50, 0x00, 0x00, 0x40, 0x00, 0x40, 0x29, 0x4e, 0x4f, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33,
    0x64, 0x01, 0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00,
    0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x50, 0x14, 0x00, 0x00, 0xaa, 0xa8, 0x00, 0x00};
const std::vector<uint8_t> k4in6UdpToClient = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x1f, 0x04, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x45, 0x00, 0x00, 0x1f, 0x00, 0x00,
    0x40, 0x00, 0x40, 0x11, 0x26, 0xcc, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x00,
    0x35, 0x14, 0xe9, 0x00, 0x0b, 0xe4, 0x3d, 0x78, 0x79, 0x7a};

TEST(InjectTunnelTest, SixInFourRstTowardClientIsReEncapsulated) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::k6in4Tcp, &p, &why), PacketStatus::kOk);
  std::vector<uint8_t> out(256);
  const size_t n = buildTcp(test::k6in4Tcp, p, Toward::kClient, p.ack, p.seq + p.payload_len,
                            kTcpRst | kTcpAck, {}, out);
  out.resize(n);
  EXPECT_EQ(out, k6in4RstToClient);
}

TEST(InjectTunnelTest, SixInFourRstTowardServerKeepsDirection) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::k6in4Tcp, &p, &why), PacketStatus::kOk);
  std::vector<uint8_t> out(256);
  const size_t n =
      buildTcp(test::k6in4Tcp, p, Toward::kServer, p.seq, p.ack, kTcpRst | kTcpAck, {}, out);
  out.resize(n);
  EXPECT_EQ(out, k6in4RstToServer);
}

TEST(InjectTunnelTest, FourInSixUdpTowardClientIsReEncapsulated) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::k4in6Udp, &p, &why), PacketStatus::kOk);
  const uint8_t payload[] = {'x', 'y', 'z'};
  std::vector<uint8_t> out(256);
  const size_t n = buildUdpToClient(test::k4in6Udp, p, payload, out);
  out.resize(n);
  EXPECT_EQ(out, k4in6UdpToClient);
}

TEST(InjectTunnelTest, TooSmallBufferFailsInsideTheOuterHeader) {
  PacketInfo p;
  Counter why{};
  ASSERT_EQ(parsePacket(test::k6in4Tcp, &p, &why), PacketStatus::kOk);
  for (size_t cap = 0; cap < k6in4RstToServer.size(); ++cap) {
    std::vector<uint8_t> out(cap);
    EXPECT_EQ(buildTcp(test::k6in4Tcp, p, Toward::kServer, 1, 2, kTcpRst, {}, out), 0u) << cap;
  }
}

}  // namespace
}  // namespace cordon
