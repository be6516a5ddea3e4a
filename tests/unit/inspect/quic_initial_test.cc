// QUIC client Initial parsing and decryption (dataplane/inspect/quic). Fixtures: RFC 9001
// appendix A and RFC 9369 appendix A (quic_fixtures.h); synthetic Initials sealed by
// quic_builder.h around ClientHellos from hello_builder.h. Reassembly of the CRYPTO stream
// uses the worker's ReasmBuffer, as the pipeline does.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/flow/reassembly.h"
#include "dataplane/inspect/quic/initial.h"
#include "dataplane/inspect/tls/client_hello.h"
#include "tests/unit/inspect/quic_builder.h"
#include "tests/unit/inspect/quic_fixtures.h"

namespace cordon::quic {
namespace {

using testing::Bytes;
using testing::cryptoFrame;
using testing::fromHex;
using testing::PacketSpec;
using testing::padDatagram;
using testing::padded;
using testing::sealPacket;

std::string hexOf(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[p[i] >> 4]);
    s.push_back(d[p[i] & 15]);
  }
  return s;
}

// Collects CRYPTO data into a ReasmBuffer and parses the ClientHello from its prefix.
class Conn : public CryptoSink {
 public:
  Conn() : buf_(std::make_unique<ReasmBuffer>()), scratch_(65536) { buf_->reset(0); }
  void onCrypto(uint64_t offset, std::span<const uint8_t> data) override {
    if (offset < kReasmWindowBytes) (void)buf_->insert(static_cast<int64_t>(offset), data);
  }
  ParseStatus feed(const Bytes& datagram) {
    return readClientDatagram(crypto_, datagram, &keys_, scratch_, this, &info_);
  }
  ParseStatus hello(tls::ClientHelloInfo* h) const {
    return tls::parseClientHelloMessage(buf_->prefix(), h);
  }
  std::string sni() const {
    tls::ClientHelloInfo h;
    if (hello(&h) != ParseStatus::kOk || !h.has_sni) return "";
    return std::string(h.sni, h.sni_len);
  }
  const DatagramInfo& info() const { return info_; }
  const ConnKeys& keys() const { return keys_; }
  std::vector<uint8_t>& scratch() { return scratch_; }

 private:
  InitialCrypto crypto_;
  ConnKeys keys_;
  DatagramInfo info_;
  std::unique_ptr<ReasmBuffer> buf_;
  std::vector<uint8_t> scratch_;
};

Bytes rfcPayload() {
  return padded(fromHex(fixtures::kRfc9001CryptoFrame), fixtures::kRfc9001PayloadLen);
}

// ---- keys ----

TEST(QuicKeysTest, Rfc9001AppendixA1) {
  InitialCrypto c;
  ASSERT_TRUE(c.ok());
  VersionInfo v;
  ASSERT_TRUE(lookupVersion(kVersion1, &v));
  InitialKeys k;
  ASSERT_TRUE(c.deriveClientKeys(v, fromHex(fixtures::kRfcDcid), &k));
  EXPECT_EQ(hexOf(k.key, 16), fixtures::kV1Key);
  EXPECT_EQ(hexOf(k.iv, 12), fixtures::kV1Iv);
  EXPECT_EQ(hexOf(k.hp, 16), fixtures::kV1Hp);
}

TEST(QuicKeysTest, Rfc9369AppendixA1) {
  InitialCrypto c;
  VersionInfo v;
  ASSERT_TRUE(lookupVersion(kVersion2, &v));
  EXPECT_TRUE(v.v2);
  InitialKeys k;
  ASSERT_TRUE(c.deriveClientKeys(v, fromHex(fixtures::kRfcDcid), &k));
  EXPECT_EQ(hexOf(k.key, 16), fixtures::kV2Key);
  EXPECT_EQ(hexOf(k.iv, 12), fixtures::kV2Iv);
  EXPECT_EQ(hexOf(k.hp, 16), fixtures::kV2Hp);
}

TEST(QuicKeysTest, RepeatedDerivationsAgree) {
  // The HMAC context is reused with and without re-keying; results must not depend on the
  // previous call.
  InitialCrypto c;
  VersionInfo v1, v2;
  ASSERT_TRUE(lookupVersion(kVersion1, &v1));
  ASSERT_TRUE(lookupVersion(kVersion2, &v2));
  InitialKeys a, b;
  ASSERT_TRUE(c.deriveClientKeys(v2, fromHex("0011223344556677"), &b));
  ASSERT_TRUE(c.deriveClientKeys(v1, fromHex(fixtures::kRfcDcid), &a));
  EXPECT_EQ(hexOf(a.key, 16), fixtures::kV1Key);
  ASSERT_TRUE(c.deriveClientKeys(v1, {}, &a));  // a zero-length DCID is legal input
}

TEST(QuicVersionTest, Table) {
  VersionInfo v;
  EXPECT_TRUE(lookupVersion(kVersionDraft29, &v));
  EXPECT_EQ(v.flavor, Flavor::kIetf);
  EXPECT_TRUE(lookupVersion(0xff00001b, &v));  // draft-27
  EXPECT_TRUE(lookupVersion(0xfaceb002, &v));  // mvfst draft-27
  EXPECT_TRUE(lookupVersion(0x54303531, &v));  // T051
  EXPECT_EQ(v.flavor, Flavor::kGquicTls);
  EXPECT_TRUE(lookupVersion(0x51303530, &v));  // Q050
  EXPECT_EQ(v.flavor, Flavor::kGquicChlo);
  EXPECT_TRUE(lookupVersion(0x51303433, &v));  // Q043
  EXPECT_EQ(v.flavor, Flavor::kGquicPlain);
  EXPECT_FALSE(lookupVersion(0, &v));           // version negotiation
  EXPECT_FALSE(lookupVersion(0x1a2a3a4a, &v));  // RFC 9000 section 15 reserved (greased)
  EXPECT_FALSE(lookupVersion(0xff000015, &v));  // draft-21: older key schedule
}

// ---- RFC sample packets ----

TEST(QuicInitialTest, Rfc9001SampleDatagram) {
  const Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
  ASSERT_EQ(d.size(), 1200u);
  EXPECT_TRUE(looksLikeClientInitial(d));
  LongHeader h;
  ASSERT_EQ(parseLongHeader(d, &h), ParseStatus::kOk);
  EXPECT_TRUE(h.initial);
  EXPECT_EQ(h.pn_offset, 18u);
  EXPECT_EQ(h.packet_len, 1200u);
  EXPECT_EQ(hexOf(h.dcid.data(), h.dcid.size()), fixtures::kRfcDcid);
  Conn c;
  ASSERT_EQ(c.feed(d), ParseStatus::kOk);
  EXPECT_EQ(c.info().initials, 1);
  EXPECT_EQ(c.info().decrypted, 1);
  EXPECT_EQ(c.info().crypto_frames, 1);
  EXPECT_TRUE(c.info().rekeyed);
  EXPECT_EQ(c.sni(), "example.com");
}

TEST(QuicInitialTest, BuilderReproducesRfc9001AndRfc9369Samples) {
  PacketSpec s;
  const Bytes v1 = sealPacket(s, rfcPayload());
  EXPECT_EQ(hexOf(v1.data(), v1.size()), fixtures::kRfc9001ProtectedPacket);
  s.version = kVersion2;
  const Bytes v2 = sealPacket(s, rfcPayload());
  EXPECT_EQ(hexOf(v2.data(), 32), fixtures::kRfc9369ProtectedPrefix);
  Conn c;
  ASSERT_EQ(c.feed(v2), ParseStatus::kOk);
  EXPECT_EQ(c.sni(), "example.com");
}

TEST(QuicInitialTest, PacketBytesAreNotModified) {
  const Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
  const Bytes copy = d;
  Conn c;
  ASSERT_EQ(c.feed(d), ParseStatus::kOk);
  EXPECT_EQ(d, copy);
}

// ---- multi-packet, reordered, coalesced: parameterised over versions ----

class QuicVersionsTest : public ::testing::TestWithParam<uint32_t> {};

INSTANTIATE_TEST_SUITE_P(Versions, QuicVersionsTest,
                         ::testing::Values(kVersion1, kVersion2, kVersionDraft29,
                                           0xff00001bu /* draft-27 */, 0xfaceb002u /* mvfst */,
                                           0x54303531u /* T051 */),
                         [](const auto& info) {
                           char b[16];
                           std::snprintf(b, sizeof b, "v%08x", info.param);
                           return std::string(b);
                         });

// Google T05x carries CRYPTO as frame type 0x08 with the same varint fields.
Bytes cryptoFrameFor(uint32_t version, const Bytes& msg, size_t off, size_t len) {
  Bytes f = cryptoFrame(msg, off, len);
  VersionInfo v;
  if (lookupVersion(version, &v) && v.flavor == Flavor::kGquicTls) f[0] = 0x08;
  return f;
}

// A post-quantum sized ClientHello (X25519MLKEM768 key share, ~1.8 KB) split over two
// Initials at `cut`.
std::vector<Bytes> twoInitials(uint32_t version, const Bytes& hello, size_t cut) {
  PacketSpec s;
  s.version = version;
  s.pn = 0;
  std::vector<Bytes> out;
  out.push_back(sealPacket(s, padded(cryptoFrameFor(version, hello, 0, cut), 1150)));
  s.pn = 1;
  out.push_back(
      sealPacket(s, padded(cryptoFrameFor(version, hello, cut, hello.size() - cut), 1150)));
  return out;
}

TEST_P(QuicVersionsTest, ClientHelloOverTwoInitials) {
  const Bytes hello = tls::testing::buildLargeKeyShareHello("pq.example.net");
  ASSERT_GT(hello.size(), 1200u);
  const auto pkts = twoInitials(GetParam(), hello, 1000);
  Conn c;
  ASSERT_EQ(c.feed(pkts[0]), ParseStatus::kOk);
  tls::ClientHelloInfo h;
  EXPECT_EQ(c.hello(&h), ParseStatus::kNeedMore);
  ASSERT_EQ(c.feed(pkts[1]), ParseStatus::kOk);
  EXPECT_FALSE(c.info().rekeyed);  // second Initial opened with the stored keys
  EXPECT_EQ(c.sni(), "pq.example.net");
}

TEST_P(QuicVersionsTest, ClientHelloOverTwoInitialsReordered) {
  const Bytes hello = tls::testing::buildLargeKeyShareHello("pq.example.net");
  const auto pkts = twoInitials(GetParam(), hello, 700);
  Conn c;
  ASSERT_EQ(c.feed(pkts[1]), ParseStatus::kOk);
  tls::ClientHelloInfo h;
  EXPECT_EQ(c.hello(&h), ParseStatus::kNeedMore);  // nothing at offset 0 yet
  ASSERT_EQ(c.feed(pkts[0]), ParseStatus::kOk);
  EXPECT_EQ(c.sni(), "pq.example.net");
}

TEST_P(QuicVersionsTest, ShuffledCryptoFramesWithPingAndPaddingInOnePacket) {
  // Chromium's "chaos protection" sends the ClientHello as several CRYPTO frames in random
  // order with PING and PADDING frames between them.
  const Bytes hello = tls::testing::buildClientHello({tls::testing::sniExtension("chaos.test")});
  std::vector<std::pair<size_t, size_t>> parts = {{0, 30}, {30, 50}, {80, hello.size() - 80}};
  std::mt19937 rng(7);
  std::shuffle(parts.begin(), parts.end(), rng);
  VersionInfo v;
  ASSERT_TRUE(lookupVersion(GetParam(), &v));
  Bytes frames;
  for (const auto& [off, len] : parts) {
    const Bytes f = cryptoFrameFor(GetParam(), hello, off, len);
    frames.insert(frames.end(), f.begin(), f.end());
    if (v.flavor == Flavor::kIetf) {
      frames.push_back(0x01);  // PING
      frames.push_back(0x00);  // PADDING
    }
  }
  PacketSpec s;
  s.version = GetParam();
  Conn c;
  ASSERT_EQ(c.feed(sealPacket(s, padded(frames, 1150))), ParseStatus::kOk);
  EXPECT_EQ(c.info().crypto_frames, 3);
  EXPECT_EQ(c.sni(), "chaos.test");
}

TEST_P(QuicVersionsTest, LaterInitialWithADifferentDcidUsesTheFirstKeys) {
  // RFC 9001 section 5.2: after the server's first Initial the client sends to the server's
  // connection ID, still under keys from its first DCID.
  const Bytes hello = tls::testing::buildLargeKeyShareHello("dcid.example");
  PacketSpec s;
  s.version = GetParam();
  s.pn = 0;
  Conn c;
  ASSERT_EQ(c.feed(sealPacket(s, padded(cryptoFrameFor(GetParam(), hello, 0, 900), 1150))),
            ParseStatus::kOk);
  s.pn = 1;
  s.keys_dcid = s.dcid;
  s.dcid = fromHex("f067a5502a4262b5");
  ASSERT_EQ(c.feed(sealPacket(
                s, padded(cryptoFrameFor(GetParam(), hello, 900, hello.size() - 900), 1150))),
            ParseStatus::kOk);
  EXPECT_FALSE(c.info().rekeyed);
  EXPECT_EQ(c.sni(), "dcid.example");
}

TEST_P(QuicVersionsTest, RetryRestartsWithKeysFromTheNewDcid) {
  const Bytes hello = tls::testing::buildClientHello({tls::testing::sniExtension("retry.test")});
  PacketSpec s;
  s.version = GetParam();
  Conn c;
  ASSERT_EQ(c.feed(sealPacket(s, padded(cryptoFrameFor(GetParam(), hello, 0, 10), 1150))),
            ParseStatus::kOk);
  s.dcid = fromHex("aabbccddeeff0011");  // the Retry's SCID; keys now derive from it
  s.token = fromHex("0102030405060708090a");
  ASSERT_EQ(c.feed(sealPacket(s, padded(cryptoFrameFor(GetParam(), hello, 0, hello.size()), 1150))),
            ParseStatus::kOk);
  EXPECT_TRUE(c.info().rekeyed);
  EXPECT_EQ(c.sni(), "retry.test");
}

TEST_P(QuicVersionsTest, CoalescedInitialAndZeroRttInOneDatagram) {
  const Bytes hello = tls::testing::buildClientHello({tls::testing::sniExtension("co.test")});
  PacketSpec s;
  s.version = GetParam();
  Bytes d = sealPacket(s, padded(cryptoFrameFor(GetParam(), hello, 0, hello.size()), 400));
  PacketSpec z = s;
  z.zero_rtt = true;
  const Bytes zr = sealPacket(z, Bytes(300, 0x42));
  d.insert(d.end(), zr.begin(), zr.end());
  d = padDatagram(d);
  Conn c;
  ASSERT_EQ(c.feed(d), ParseStatus::kOk);
  EXPECT_EQ(c.info().initials, 1);
  EXPECT_EQ(c.sni(), "co.test");
}

TEST_P(QuicVersionsTest, TwoCoalescedInitialsInOneDatagram) {
  const Bytes hello = tls::testing::buildClientHello({tls::testing::sniExtension("two.test")});
  PacketSpec s;
  s.version = GetParam();
  s.pn = 0;
  Bytes d = sealPacket(s, padded(cryptoFrameFor(GetParam(), hello, 0, 20), 100));
  s.pn = 1;
  const Bytes b =
      sealPacket(s, padded(cryptoFrameFor(GetParam(), hello, 20, hello.size() - 20), 100));
  d.insert(d.end(), b.begin(), b.end());
  Conn c;
  ASSERT_EQ(c.feed(padDatagram(d)), ParseStatus::kOk);
  EXPECT_EQ(c.info().initials, 2);
  EXPECT_EQ(c.sni(), "two.test");
}

// ---- bad input ----

TEST(QuicInitialBadInputTest, NotQuic) {
  Conn c;
  EXPECT_EQ(c.feed({}), ParseStatus::kUnsupported);
  EXPECT_EQ(c.feed(Bytes(1200, 0)), ParseStatus::kUnsupported);  // short header
  Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
  d[1] = d[2] = d[3] = d[4] = 0;  // version negotiation
  EXPECT_FALSE(looksLikeClientInitial(d));
  EXPECT_EQ(c.feed(d), ParseStatus::kUnsupported);
  d[4] = 0x0a;  // a greased, unknown version
  d[1] = 0x1a;
  EXPECT_EQ(c.feed(d), ParseStatus::kUnsupported);
}

TEST(QuicInitialBadInputTest, SmallDatagramIsNotAClientInitial) {
  Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
  d.resize(1199);
  EXPECT_FALSE(looksLikeClientInitial(d));
}

TEST(QuicInitialBadInputTest, EveryTruncationFailsCleanly) {
  const Bytes full = fromHex(fixtures::kRfc9001ProtectedPacket);
  Conn c;
  for (size_t n = 0; n < full.size(); ++n) {
    const Bytes d(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const ParseStatus st = c.feed(d);
    EXPECT_NE(st, ParseStatus::kOk) << n;
  }
}

TEST(QuicInitialBadInputTest, BogusLengths) {
  Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
  Conn c;
  Bytes t = d;
  t[5] = 21;  // DCID longer than 20 bytes
  EXPECT_EQ(c.feed(t), ParseStatus::kMalformed);
  t = d;
  t[15] = 0x3f;  // token length 63 (no token there)
  EXPECT_EQ(c.feed(t), ParseStatus::kMalformed);
  t = d;
  t[16] = 0x7f;  // Length 0x3f9e: beyond the datagram
  t[17] = 0x9e;
  EXPECT_EQ(c.feed(t), ParseStatus::kMalformed);
  t = d;
  t[16] = 0x40;  // Length 5: too short for a sample and a tag
  t[17] = 0x05;
  EXPECT_EQ(c.feed(t), ParseStatus::kMalformed);
}

TEST(QuicInitialBadInputTest, CorruptCiphertextOrTagDoesNotDecrypt) {
  for (size_t at : {size_t{40}, size_t{600}, size_t{1199}}) {
    Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
    d[at] ^= 1;
    Conn c;
    EXPECT_EQ(c.feed(d), ParseStatus::kMalformed) << at;
    EXPECT_FALSE(c.keys().valid);
  }
}

TEST(QuicInitialBadInputTest, ScratchTooSmall) {
  const Bytes d = fromHex(fixtures::kRfc9001ProtectedPacket);
  InitialCrypto crypto;
  ConnKeys keys;
  DatagramInfo info;
  std::vector<uint8_t> scratch(100);
  struct : CryptoSink {
    void onCrypto(uint64_t, std::span<const uint8_t>) override {}
  } sink;
  EXPECT_EQ(readClientDatagram(crypto, d, &keys, scratch, &sink, &info), ParseStatus::kUnsupported);
}

struct NullSink : CryptoSink {
  int n = 0;
  void onCrypto(uint64_t, std::span<const uint8_t>) override { ++n; }
};

TEST(QuicFramesTest, AllowedFrames) {
  NullSink s;
  int frames = 0;
  // PADDING, PING, ACK (largest 5, delay 0, 1 range: first 2, gap 0 len 1), ACK_ECN with
  // three counts, CRYPTO (offset 0, 3 bytes), CONNECTION_CLOSE (code 0, frame 0, reason "x").
  const Bytes p = fromHex(
      "00000102050001020001030500000000000006"
      "0003aabbcc1c00000178");
  EXPECT_EQ(parseInitialFrames(p, &s, &frames), ParseStatus::kOk);
  EXPECT_EQ(frames, 1);
  EXPECT_EQ(s.n, 1);
}

TEST(QuicFramesTest, TruncatedCryptoFrame) {
  NullSink s;
  int frames = 0;
  EXPECT_EQ(parseInitialFrames(fromHex("06000aaabbcc"), &s, &frames), ParseStatus::kMalformed);
  EXPECT_EQ(parseInitialFrames(fromHex("0600"), &s, &frames), ParseStatus::kMalformed);
  EXPECT_EQ(parseInitialFrames(fromHex("06"), &s, &frames), ParseStatus::kMalformed);
  EXPECT_EQ(s.n, 0);
}

TEST(QuicFramesTest, ForbiddenFrameInInitial) {
  NullSink s;
  int frames = 0;
  EXPECT_EQ(parseInitialFrames(fromHex("08000100"), &s, &frames), ParseStatus::kMalformed);
  // ACK whose range count cannot fit.
  EXPECT_EQ(parseInitialFrames(fromHex("020500bfffffff00"), &s, &frames), ParseStatus::kMalformed);
}

TEST(QuicFramesTest, CryptoOffsetBeyond2To62) {
  NullSink s;
  int frames = 0;
  EXPECT_EQ(parseInitialFrames(fromHex("06ffffffffffffffff01aa"), &s, &frames),
            ParseStatus::kMalformed);
}

// ---- Google QUIC CHLO ----

Bytes chlo(const std::vector<std::pair<std::string, std::string>>& tags) {
  Bytes m = {'C', 'H', 'L', 'O', static_cast<uint8_t>(tags.size()), 0, 0, 0};
  uint32_t end = 0;
  for (const auto& [t, v] : tags) {
    Bytes tag(t.begin(), t.end());
    tag.resize(4, 0);
    m.insert(m.end(), tag.begin(), tag.end());
    end += static_cast<uint32_t>(v.size());
    for (int i = 0; i < 4; ++i) m.push_back(static_cast<uint8_t>(end >> (8 * i)));
  }
  for (const auto& tv : tags) m.insert(m.end(), tv.second.begin(), tv.second.end());
  return m;
}

TEST(QuicChloTest, Sni) {
  const Bytes m = chlo({{"PAD", std::string(20, '-')}, {"SNI", "www.google.com"}, {"VER", "Q043"}});
  ChloInfo info;
  ASSERT_EQ(parseChlo(m, &info), ParseStatus::kOk);
  ASSERT_TRUE(info.has_sni);
  EXPECT_EQ(std::string(info.sni, info.sni_len), "www.google.com");
  for (size_t n = 0; n < m.size(); ++n) {
    EXPECT_EQ(parseChlo(std::span<const uint8_t>(m.data(), n), &info), ParseStatus::kNeedMore) << n;
  }
}

TEST(QuicChloTest, BadInput) {
  ChloInfo info;
  Bytes m = chlo({{"SNI", "a.test"}, {"VER", "Q043"}});
  m[0] = 'S';
  EXPECT_EQ(parseChlo(m, &info), ParseStatus::kUnsupported);
  m = chlo({{"SNI", "a.test"}, {"VER", "Q043"}});
  m[20] = 0x01;  // second end offset (1) before the first (6): decreasing
  EXPECT_EQ(parseChlo(m, &info), ParseStatus::kMalformed);
  m = chlo({{"SNI", std::string("a\0b", 3)}});
  EXPECT_EQ(parseChlo(m, &info), ParseStatus::kMalformed);
  m = {'C', 'H', 'L', 'O', 0xff, 0xff, 0, 0};
  EXPECT_EQ(parseChlo(m, &info), ParseStatus::kMalformed);  // more entries than allowed
}

}  // namespace
}  // namespace cordon::quic
