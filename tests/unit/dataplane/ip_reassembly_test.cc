// IpReassembly and ResidualTable: bounded IP fragment reassembly (RFC 791 section 3.2,
// RFC 8200 section 4.5, RFC 5722) and the residual-blocking table. Frames are built here:
// an Ethernet/IPv4 or IPv6 UDP datagram of deterministic bytes, split by frag_builder.h.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "dataplane/flow/ip_reassembly.h"
#include "dataplane/flow/residual.h"
#include "tests/unit/dataplane/frag_builder.h"

namespace cordon {
namespace {

using fragtest::fragmentV4;
using fragtest::fragmentV6;
using fragtest::Piece;

const uint8_t kA4[4] = {198, 51, 100, 7}, kB4[4] = {192, 0, 2, 53};
const uint8_t kA6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
const uint8_t kB6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

std::vector<uint8_t> bytesOf(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// Ethernet + IPv4 (id 0x1234, no flags) + UDP 53001 -> 53 with `n` payload bytes.
std::vector<uint8_t> udp4(size_t n, uint8_t seed = 1) {
  const auto payload = bytesOf(n, seed);
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  const uint16_t total = static_cast<uint16_t>(28 + n), ulen = static_cast<uint16_t>(8 + n);
  std::vector<uint8_t> ip = {0x45,
                             0,
                             static_cast<uint8_t>(total >> 8),
                             static_cast<uint8_t>(total),
                             0x12,
                             0x34,
                             0,
                             0,
                             64,
                             17,
                             0,
                             0};
  ip.insert(ip.end(), kA4, kA4 + 4);
  ip.insert(ip.end(), kB4, kB4 + 4);
  const uint16_t s = checksumFold(checksumAdd(ip, 0));
  ip[10] = static_cast<uint8_t>(s >> 8);
  ip[11] = static_cast<uint8_t>(s);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(),
           {0xcf, 0x09, 0, 53, static_cast<uint8_t>(ulen >> 8), static_cast<uint8_t>(ulen), 0, 0});
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

PacketInfo parsed(const std::vector<uint8_t>& f) {
  PacketInfo p;
  Counter why{};
  EXPECT_EQ(parsePacket(f, &p, &why), PacketStatus::kOk);
  return p;
}

using Add = IpReassembly::Add;

Add add(IpReassembly* r, const std::vector<uint8_t>& f, uint64_t now = 1'000'000'000,
        int32_t* ctx = nullptr) {
  int32_t dummy = -1;
  return r->add(f, parsed(f), now, ctx ? ctx : &dummy);
}

TEST(IpFragmentParseTest, FieldsOfIpv4AndIpv6Fragments) {
  const auto v4 = fragmentV4(udp4(100), 0xbeef, {{0, 48, true}, {48, 0, false}});
  PacketInfo p = parsed(v4[1]);
  EXPECT_TRUE(p.fragment);
  EXPECT_FALSE(p.frag_more);
  EXPECT_EQ(p.frag_offset, 48);
  EXPECT_EQ(p.frag_id, 0xbeefu);
  EXPECT_EQ(p.ip_proto, 17);
  EXPECT_EQ(p.l4_len, 108 - 48);
  const auto full6 =
      fragtest::udp6Frame(IpAddr::v6(kA6), IpAddr::v6(kB6), 53001, 53, bytesOf(100, 3));
  const auto v6 = fragmentV6(full6, 0xa1b2c3d4, {{0, 56, true}, {56, 0, false}});
  p = parsed(v6[0]);
  EXPECT_TRUE(p.fragment);
  EXPECT_TRUE(p.frag_more);
  EXPECT_EQ(p.frag_offset, 0);
  EXPECT_EQ(p.frag_id, 0xa1b2c3d4u);
  EXPECT_EQ(p.frag_hdr_offset, 14 + 40);
  EXPECT_EQ(p.frag_nh_offset, 14 + 6);
  EXPECT_EQ(p.l4_offset, 14 + 48);
  EXPECT_EQ(p.l4_len, 56);
  // A non-first fragment whose Fragment header names destination options (60): its data is
  // not a header chain and must not be walked as one.
  auto odd = v6[1];
  odd[14 + 40] = 60;
  odd[14 + 48] = 0xff;  // would be an absurd header length
  p = parsed(odd);
  EXPECT_TRUE(p.fragment);
  EXPECT_EQ(p.ip_proto, 60);
}

TEST(IpReassemblyTest, Ipv4InAndOutOfOrderRebuildsTheOriginalFrame) {
  const auto full = udp4(1000);
  for (const bool reverse : {false, true}) {
    IpReassembly r(4);
    auto frags = fragmentV4(full, 0x1234, {{0, 400, true}, {400, 400, true}, {800, 0, false}});
    if (reverse) std::reverse(frags.begin(), frags.end());
    int32_t ctx = -1;
    EXPECT_EQ(add(&r, frags[0]), Add::kHeld);
    EXPECT_EQ(add(&r, frags[1]), Add::kHeld);
    ASSERT_EQ(add(&r, frags[2], 1'000'000'000, &ctx), Add::kComplete);
    std::vector<uint8_t> out(kMaxFragHeaderBytes + kMaxIpDatagramBytes);
    const size_t n = r.buildFrame(ctx, out);
    out.resize(n);
    EXPECT_EQ(out, full);  // same id, no flags: byte for byte the unfragmented datagram
    r.release(ctx);
    EXPECT_EQ(r.inUse(), 0u);
  }
}

TEST(IpReassemblyTest, Ipv6RemovesTheFragmentHeader) {
  const auto full =
      fragtest::udp6Frame(IpAddr::v6(kA6), IpAddr::v6(kB6), 53001, 53, bytesOf(1500, 9));
  IpReassembly r(4);
  const auto frags = fragmentV6(full, 7, {{1232, 0, false}, {0, 1232, true}});
  int32_t ctx = -1;
  EXPECT_EQ(add(&r, frags[0]), Add::kHeld);
  ASSERT_EQ(add(&r, frags[1], 1'000'000'000, &ctx), Add::kComplete);
  std::vector<uint8_t> out(kMaxFragHeaderBytes + kMaxIpDatagramBytes);
  out.resize(r.buildFrame(ctx, out));
  EXPECT_EQ(out, full);
  const PacketInfo p = parsed(out);
  EXPECT_EQ(p.l4, L4::kUdp);
  EXPECT_TRUE(l4ChecksumOk(out, p));
}

TEST(IpReassemblyTest, DuplicatesAreIgnoredOverlapsDiscardTheDatagram) {
  // IPv6: RFC 5722 section 4, the whole datagram is discarded.
  const auto full6 =
      fragtest::udp6Frame(IpAddr::v6(kA6), IpAddr::v6(kB6), 53001, 53, bytesOf(64, 5));
  IpReassembly r(4);
  const auto frags = fragmentV6(full6, 1, {{0, 32, true}, {32, 0, false}});
  EXPECT_EQ(add(&r, frags[0]), Add::kHeld);
  EXPECT_EQ(add(&r, frags[0]), Add::kDuplicate);  // RFC 8200 section 4.5: exact duplicate
  // Same range, other bytes (the classic first/last-wins evasion).
  auto other = frags[0];
  other.back() ^= 0xff;
  EXPECT_EQ(add(&r, other), Add::kOverlap);
  EXPECT_EQ(add(&r, frags[1]), Add::kDropRest);  // never completes, rest dropped
  // A partial overlap.
  const auto g = fragmentV6(full6, 2, {{0, 32, true}, {24, 0, false}});
  EXPECT_EQ(add(&r, g[0]), Add::kHeld);
  EXPECT_EQ(add(&r, g[1]), Add::kOverlap);
  // IPv4: the same shapes make cordon give up on the datagram (dataplane.fail decides).
  const auto full = udp4(64);
  const auto h = fragmentV4(full, 3, {{32, 0, false}, {40, 40, true}});  // past the known end
  EXPECT_EQ(add(&r, h[0]), Add::kHeld);
  EXPECT_EQ(add(&r, h[1]), Add::kOverlapGiveUp);
  EXPECT_EQ(add(&r, h[0]), Add::kGiveUpRest);
  const auto k = fragmentV4(full, 4, {{0, 32, true}, {24, 0, false}});
  EXPECT_EQ(add(&r, k[0]), Add::kHeld);
  EXPECT_EQ(add(&r, k[1]), Add::kOverlapGiveUp);
}

TEST(IpReassemblyTest, LimitsAndMalformedPieces) {
  IpReassembly r(2);
  // A non-last piece whose length is not a multiple of 8 (RFC 8200 section 4.5).
  EXPECT_EQ(add(&r, fragmentV4(udp4(64), 10, {{0, 30, true}})[0]), Add::kMalformed);
  EXPECT_EQ(r.inUse(), 0u);
  // 8-byte slivers: past kMaxFragmentsPerDatagram the datagram is given up on.
  const auto big = udp4(8 * (kMaxFragmentsPerDatagram + 4));
  std::vector<Piece> pieces;
  for (uint32_t i = 0; i < kMaxFragmentsPerDatagram + 2; ++i) pieces.push_back({i * 8, 8, true});
  const auto slivers = fragmentV4(big, 11, pieces);
  for (int i = 0; i < kMaxFragmentsPerDatagram; ++i) EXPECT_EQ(add(&r, slivers[i]), Add::kHeld);
  EXPECT_EQ(add(&r, slivers[kMaxFragmentsPerDatagram]), Add::kTooMany);
  EXPECT_EQ(add(&r, slivers[kMaxFragmentsPerDatagram + 1]), Add::kGiveUpRest);
  // Beyond kMaxIpDatagramBytes.
  const auto huge = udp4(kMaxIpDatagramBytes + 100);
  EXPECT_EQ(add(&r, fragmentV4(huge, 12, {{kMaxIpDatagramBytes - 8, 0, false}})[0]),
            Add::kTooLarge);
  // Both contexts are taken now: a third datagram finds none until the others time out.
  const auto third = fragmentV4(udp4(64), 13, {{0, 32, true}});
  EXPECT_EQ(add(&r, third[0]), Add::kNoContext);
  EXPECT_EQ(r.expire(1'000'000'000 + kIpReasmTimeoutNs + 1), 0u);  // both were tombstones
  EXPECT_EQ(add(&r, third[0], 4'000'000'000), Add::kHeld);
  EXPECT_EQ(r.expire(4'000'000'000 + kIpReasmTimeoutNs + 1), 1u);  // incomplete: counted
  EXPECT_EQ(r.inUse(), 0u);
}

TEST(IpReassemblyTest, BlockedDatagramDropsLaterCopies) {
  const auto frags = fragmentV4(udp4(64), 20, {{0, 32, true}, {32, 0, false}});
  IpReassembly r(2);
  int32_t ctx = -1;
  EXPECT_EQ(add(&r, frags[0]), Add::kHeld);
  ASSERT_EQ(add(&r, frags[1], 1'000'000'000, &ctx), Add::kComplete);
  r.markDropped(ctx);
  EXPECT_EQ(add(&r, frags[1]), Add::kDropRest);
  EXPECT_EQ(add(&r, frags[0]), Add::kDropRest);
}

TEST(ResidualTableTest, ExpiresAndEvictsOldestFirst) {
  ResidualTable t(2);
  const auto k = [](uint8_t last, uint16_t port) {
    uint8_t c[4] = {10, 0, 0, last}, s[4] = {10, 0, 1, 1};
    return makeResidualKey(IpAddr::v4(c), IpAddr::v4(s), port, 6);
  };
  EXPECT_FALSE(t.add(k(1, 443), 100));
  EXPECT_TRUE(t.blocked(k(1, 443), 50));
  EXPECT_FALSE(t.blocked(k(1, 80), 50));
  EXPECT_FALSE(t.blocked(k(2, 443), 50));
  EXPECT_FALSE(t.add(k(2, 443), 100));
  EXPECT_FALSE(t.add(k(1, 443), 200));  // refresh: now the newest
  EXPECT_TRUE(t.add(k(3, 443), 200));   // full: evicts k(2), the oldest
  EXPECT_FALSE(t.blocked(k(2, 443), 50));
  EXPECT_TRUE(t.blocked(k(1, 443), 150));
  EXPECT_FALSE(t.blocked(k(1, 443), 200));  // expired and removed
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace cordon
