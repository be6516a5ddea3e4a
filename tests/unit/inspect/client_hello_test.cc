// TLS ClientHello parsing (dataplane/inspect/tls/client_hello.h). Fixtures: RFC 8448 and
// loopback captures in tls_fixtures.h; synthetic hellos from hello_builder.h.

#include "dataplane/inspect/tls/client_hello.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/inspect/hello_builder.h"
#include "tests/unit/inspect/tls_fixtures.h"

namespace cordon::tls {
namespace {

using testing::buildClientHello;
using testing::buildLargeKeyShareHello;
using testing::Bytes;
using testing::Extension;
using testing::oneRecord;
using testing::serverNameData;
using testing::sniExtension;
using testing::splitIntoRecords;

Bytes rfc8448Message() {
  return Bytes(std::begin(fixtures::kRfc8448ClientHello), std::end(fixtures::kRfc8448ClientHello));
}
Bytes fixture(std::span<const uint8_t> s) {
  return Bytes(s.begin(), s.end());
}
std::string sniOf(const ClientHelloInfo& h) {
  return std::string(h.sni, h.sni_len);
}

// Runs parseClientHelloRecords with a fresh scratch of the documented size.
ParseStatus parseRecords(std::span<const uint8_t> stream, ClientHelloInfo* out) {
  std::vector<uint8_t> scratch(kMaxClientHelloBytes);
  return parseClientHelloRecords(stream, scratch, out);
}

// ---- parseClientHelloMessage ----

TEST(ClientHelloMessageTest, Rfc8448SimpleOneRtt) {
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(rfc8448Message(), &h), ParseStatus::kOk);
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_TRUE(h.has_sni);
  EXPECT_FALSE(h.has_ech);
  EXPECT_EQ(sniOf(h), "server");
  EXPECT_EQ(h.sni[h.sni_len], '\0');
  EXPECT_EQ(h.records_len, 0u);
}

TEST(ClientHelloMessageTest, EveryTruncationNeedsMore) {
  const Bytes m = rfc8448Message();
  for (size_t n = 0; n < m.size(); ++n) {
    ClientHelloInfo h;
    EXPECT_EQ(parseClientHelloMessage(std::span<const uint8_t>(m.data(), n), &h),
              ParseStatus::kNeedMore)
        << n;
    EXPECT_FALSE(h.has_sni);
  }
}

TEST(ClientHelloMessageTest, BytesAfterTheMessageAreIgnored) {
  Bytes m = rfc8448Message();
  m.insert(m.end(), {0x14, 0x03, 0x03, 0x00, 0x01, 0x01});
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(m, &h), ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "server");
}

TEST(ClientHelloMessageTest, NotAClientHello) {
  Bytes m = rfc8448Message();
  m[0] = 2;  // server_hello
  ClientHelloInfo h;
  EXPECT_EQ(parseClientHelloMessage(m, &h), ParseStatus::kUnsupported);
}

TEST(ClientHelloMessageTest, AbsurdLengthIsUnsupportedNotBuffered) {
  const Bytes m = {0x01, 0xff, 0xff, 0xff, 0x03, 0x03};
  ClientHelloInfo h;
  EXPECT_EQ(parseClientHelloMessage(m, &h), ParseStatus::kUnsupported);
}

TEST(ClientHelloMessageTest, NoExtensionsBlockIsOkWithoutSni) {
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(buildClientHello({}, /*no_extensions=*/true), &h),
            ParseStatus::kOk);
  EXPECT_FALSE(h.has_sni);
}

TEST(ClientHelloMessageTest, EmptyExtensionsBlockIsOkWithoutSni) {
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(buildClientHello({}), &h), ParseStatus::kOk);
  EXPECT_FALSE(h.has_sni);
}

TEST(ClientHelloMessageTest, SniOfMaxLength) {
  const std::string host(kMaxSniLen, 'a');
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(buildClientHello({sniExtension(host)}), &h), ParseStatus::kOk);
  EXPECT_EQ(h.sni_len, kMaxSniLen);
  EXPECT_EQ(sniOf(h), host);
  EXPECT_EQ(h.sni[kMaxSniLen], '\0');
  EXPECT_EQ(parseClientHelloMessage(buildClientHello({sniExtension(host + "a")}), &h),
            ParseStatus::kMalformed);
  EXPECT_FALSE(h.has_sni);
}

TEST(ClientHelloMessageTest, EchDetected) {
  ClientHelloInfo h;
  // An ECH outer hello: public name in server_name, encrypted inner hello in 0xfe0d.
  Bytes ech = {0x00, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x00, 0x20};  // outer, HPKE suite, config id
  ech.insert(ech.end(), 32, 0x44);                               // enc
  ech.insert(ech.end(), {0x00, 0x40});
  ech.insert(ech.end(), 64, 0x55);  // payload
  ASSERT_EQ(parseClientHelloMessage(
                buildClientHello({sniExtension("public.example"), {0xfe0d, ech}}), &h),
            ParseStatus::kOk);
  EXPECT_TRUE(h.has_ech);
  EXPECT_EQ(sniOf(h), "public.example");
  ASSERT_EQ(parseClientHelloMessage(buildClientHello({{0xfe0d, ech}}), &h), ParseStatus::kOk);
  EXPECT_TRUE(h.has_ech);
  EXPECT_FALSE(h.has_sni);
}

TEST(ClientHelloMessageTest, LargeKeyShareHello) {
  const Bytes m = buildLargeKeyShareHello("www.example.com");
  EXPECT_GT(m.size(), 1700u);
  EXPECT_LT(m.size(), 1900u);
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(m, &h), ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "www.example.com");
  EXPECT_TRUE(h.has_ech);  // Chrome's GREASE ECH looks like ECH on the wire
}

struct MessageCase {
  const char* description;
  std::vector<Extension> exts;
  ParseStatus status;
  std::string_view sni;
  bool ech = false;
};

const MessageCase kMessageCases[] = {
    {"plain SNI", {sniExtension("example.com")}, ParseStatus::kOk, "example.com"},
    {"SNI as sent: case kept, not normalised",
     {sniExtension("WWW.Example.COM.")},
     ParseStatus::kOk,
     "WWW.Example.COM."},
    {"SNI after other extensions",
     {{0x000b, {0x01, 0x00}}, {0x0017, {}}, sniExtension("late.example")},
     ParseStatus::kOk,
     "late.example"},
    {"GREASE extensions are ignored, even repeated",
     {{0x0a0a, {}}, {0x0a0a, {0x00}}, sniExtension("g.example"), {0xfafa, {}}},
     ParseStatus::kOk,
     "g.example"},
    {"first host_name of several wins",
     {{0x0000, serverNameData({{0, "first.example"}, {0, "second.example"}})}},
     ParseStatus::kOk,
     "first.example"},
    {"unknown name type skipped",
     {{0x0000, serverNameData({{7, "opaque"}, {0, "host.example"}})}},
     ParseStatus::kOk,
     "host.example"},
    {"only unknown name types: no SNI",
     {{0x0000, serverNameData({{7, "opaque"}})}},
     ParseStatus::kOk,
     ""},
    {"duplicate server_name",
     {sniExtension("a.example"), sniExtension("b.example")},
     ParseStatus::kMalformed,
     ""},
    {"duplicate ECH", {{0xfe0d, {0x01}}, {0xfe0d, {0x01}}}, ParseStatus::kMalformed, "", false},
    {"empty server_name extension_data", {{0x0000, {}}}, ParseStatus::kMalformed, ""},
    {"empty ServerNameList", {{0x0000, {0x00, 0x00}}}, ParseStatus::kMalformed, ""},
    {"ServerNameList longer than the extension",
     {{0x0000, {0x00, 0x09, 0x00, 0x00, 0x01, 'a'}}},
     ParseStatus::kMalformed,
     ""},
    {"bytes after the ServerNameList",
     {{0x0000, {0x00, 0x04, 0x00, 0x00, 0x01, 'a', 0xff}}},
     ParseStatus::kMalformed,
     ""},
    {"host_name length past its entry",
     {{0x0000, {0x00, 0x04, 0x00, 0x00, 0x05, 'a'}}},
     ParseStatus::kMalformed,
     ""},
    {"empty host_name", {{0x0000, serverNameData({{0, ""}})}}, ParseStatus::kMalformed, ""},
    {"NUL inside host_name",
     {sniExtension(std::string("evil\0.example", 13))},
     ParseStatus::kMalformed,
     ""},
    {"ECH without SNI", {{0xfe0d, {0x01, 0x00}}}, ParseStatus::kOk, "", true},
};

class ClientHelloTableTest : public ::testing::TestWithParam<MessageCase> {};

TEST_P(ClientHelloTableTest, Parses) {
  const MessageCase& c = GetParam();
  const Bytes m = buildClientHello(c.exts);
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloMessage(m, &h), c.status) << c.description;
  EXPECT_EQ(sniOf(h), c.sni) << c.description;
  EXPECT_EQ(h.has_sni, !c.sni.empty()) << c.description;
  if (c.status == ParseStatus::kOk) {
    EXPECT_EQ(h.has_ech, c.ech) << c.description;
  }
  // The same hello through the record layer gives the same answer.
  ClientHelloInfo r;
  EXPECT_EQ(parseRecords(oneRecord(m), &r), c.status) << c.description;
  EXPECT_EQ(sniOf(r), c.sni) << c.description;
}

INSTANTIATE_TEST_SUITE_P(Table, ClientHelloTableTest, ::testing::ValuesIn(kMessageCases));

// Corrupts the fixed fields of the RFC 8448 hello. Offsets are into the handshake message:
// 0 type, 1-3 length, 4-5 legacy_version, 6-37 random, 38 session_id length (0 there),
// 39-40 cipher_suites length (6), 47 compression length (1), 49-50 extensions length (0x91).
struct Corruption {
  const char* description;
  size_t offset;
  uint8_t value;
  ParseStatus status;
};

const Corruption kCorruptions[] = {
    {"session_id longer than 32", 38, 33, ParseStatus::kMalformed},
    {"session_id past the body", 38, 0xff, ParseStatus::kMalformed},
    {"odd cipher_suites length", 40, 5, ParseStatus::kMalformed},
    {"empty cipher_suites", 40, 0, ParseStatus::kMalformed},
    {"cipher_suites past the body", 39, 0xff, ParseStatus::kMalformed},
    {"empty compression_methods", 47, 0, ParseStatus::kMalformed},
    {"extensions length too long", 50, 0x92, ParseStatus::kMalformed},
    {"extensions length too short", 50, 0x90, ParseStatus::kMalformed},
    {"absurd extensions length", 49, 0xff, ParseStatus::kMalformed},
    {"first extension length too long", 54, 0xff, ParseStatus::kMalformed},
    {"legacy_version not 3.x", 4, 0x7f, ParseStatus::kUnsupported},
};

class ClientHelloCorruptionTest : public ::testing::TestWithParam<Corruption> {};

TEST_P(ClientHelloCorruptionTest, Rejects) {
  const Corruption& c = GetParam();
  Bytes m = rfc8448Message();
  m[c.offset] = c.value;
  ClientHelloInfo h;
  EXPECT_EQ(parseClientHelloMessage(m, &h), c.status) << c.description;
  EXPECT_FALSE(h.has_sni);
}

INSTANTIATE_TEST_SUITE_P(Rfc8448, ClientHelloCorruptionTest, ::testing::ValuesIn(kCorruptions));

TEST(ClientHelloMessageTest, HandshakeLengthLongerThanBodyNeedsMore) {
  Bytes m = rfc8448Message();
  m[3] = 0xc1;  // one more than the 192 bytes present
  ClientHelloInfo h;
  EXPECT_EQ(parseClientHelloMessage(m, &h), ParseStatus::kNeedMore);
}

TEST(ClientHelloMessageTest, HandshakeLengthShorterThanBodyIsMalformed) {
  Bytes m = rfc8448Message();
  m[3] = 0xbf;  // cuts the last extension
  ClientHelloInfo h;
  EXPECT_EQ(parseClientHelloMessage(m, &h), ParseStatus::kMalformed);
}

// ---- captured hellos ----

struct CapturedCase {
  const char* description;
  std::span<const uint8_t> record;
  bool has_sni;
  std::string_view sni;
};

class CapturedHelloTest : public ::testing::TestWithParam<CapturedCase> {};

TEST_P(CapturedHelloTest, ParsesAndNeedsMoreForEveryPrefix) {
  const CapturedCase& c = GetParam();
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(c.record, &h), ParseStatus::kOk);
  EXPECT_EQ(h.has_sni, c.has_sni);
  EXPECT_EQ(sniOf(h), c.sni);
  EXPECT_FALSE(h.has_ech);
  EXPECT_EQ(h.records_len, c.record.size());
  EXPECT_TRUE(looksLikeClientHello(c.record));
  for (size_t n = 0; n < c.record.size(); ++n) {
    ASSERT_EQ(parseRecords(c.record.first(n), &h), ParseStatus::kNeedMore) << n;
    if (n > 0) {
      EXPECT_TRUE(looksLikeClientHello(c.record.first(n))) << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Loopback, CapturedHelloTest,
    ::testing::Values(CapturedCase{"openssl s_client -servername", fixtures::kOpensslSniRecord,
                                   true, "www.example.com"},
                      CapturedCase{"curl", fixtures::kCurlSniRecord, true, "cordon-test.example"},
                      CapturedCase{"openssl s_client -noservername", fixtures::kOpensslNoSniRecord,
                                   false, ""}));

// ---- parseClientHelloRecords: the record layer ----

TEST(ClientHelloRecordsTest, Rfc8448InOneRecord) {
  const Bytes s = oneRecord(rfc8448Message());
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "server");
  EXPECT_EQ(h.records_len, 5u + 196u);
}

TEST(ClientHelloRecordsTest, DataAfterTheHelloRecordIsNotConsumed) {
  Bytes s = fixture(fixtures::kCurlSniRecord);
  const size_t hello_len = s.size();
  s.insert(s.end(), {0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03});
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk);
  EXPECT_EQ(h.records_len, hello_len);
}

// A hello split across records, parameterised over where the fragments end and over the
// hellos: RFC 8448 (196 bytes), curl (512) and the synthetic 1.8 KB large key share hello.
struct SplitCase {
  const char* description;
  std::vector<size_t> sizes;
};

const SplitCase kSplits[] = {
    {"2 records, split after the handshake header", {4, 100000}},
    {"2 records, split inside the handshake header", {2, 100000}},
    {"2 records, first of 1 byte", {1, 100000}},
    {"2 records, at 100 bytes", {100, 100000}},
    {"3 records", {50, 60, 100000}},
    {"3 records, middle one tiny", {100, 1, 100000}},
    {"many records of 1 byte", {1}},
    {"many records of 7 bytes", {7}},
    {"records of 100 bytes", {100}},
};

Bytes helloByIndex(int i) {
  switch (i) {
    case 0:
      return rfc8448Message();
    case 1: {
      const Bytes r = fixture(fixtures::kCurlSniRecord);
      return Bytes(r.begin() + 5, r.end());
    }
    default:
      return buildLargeKeyShareHello("split.example");
  }
}
const char* kHelloSni[] = {"server", "cordon-test.example", "split.example"};

class ClientHelloSplitTest : public ::testing::TestWithParam<std::tuple<int, SplitCase>> {};

TEST_P(ClientHelloSplitTest, JoinsFragments) {
  const auto& [which, split] = GetParam();
  const Bytes msg = helloByIndex(which);
  const Bytes s = splitIntoRecords(msg, split.sizes, 0x0303);
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk) << split.description;
  EXPECT_EQ(sniOf(h), kHelloSni[which]);
  EXPECT_EQ(h.records_len, s.size());
  // Every prefix of the stream (a TCP segment boundary anywhere) is "need more".
  for (size_t n = 0; n < s.size(); ++n) {
    ASSERT_EQ(parseRecords(std::span<const uint8_t>(s).first(n), &h), ParseStatus::kNeedMore)
        << split.description << " prefix " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Hellos, ClientHelloSplitTest,
                         ::testing::Combine(::testing::Values(0, 1, 2),
                                            ::testing::ValuesIn(kSplits)));

TEST(ClientHelloRecordsTest, LargeKeyShareHelloOverTwoTcpSegments) {
  // As a 1.8 KB hello arrives: one record, cut by the 1460-byte MSS into two segments.
  const Bytes s = oneRecord(buildLargeKeyShareHello("pq.example"));
  ASSERT_GT(s.size(), 1460u);
  ClientHelloInfo h;
  EXPECT_EQ(parseRecords(std::span<const uint8_t>(s).first(1460), &h), ParseStatus::kNeedMore);
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "pq.example");
  EXPECT_EQ(h.records_len, s.size());
}

TEST(ClientHelloRecordsTest, SplitHelloFollowedByMoreRecords) {
  Bytes s = splitIntoRecords(rfc8448Message(), {100, 100000});
  const size_t hello_len = s.size();
  s.insert(s.end(), {0x14, 0x03, 0x03, 0x00, 0x01, 0x01});
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk);
  EXPECT_EQ(h.records_len, hello_len);
}

TEST(ClientHelloRecordsTest, RecordEndingAfterTheHelloCarriesOtherHandshakeBytes) {
  // The last record holds the end of the hello and then other handshake bytes.
  Bytes msg = rfc8448Message();
  msg.insert(msg.end(), {0x0b, 0x00, 0x00, 0x00});
  const Bytes s = splitIntoRecords(msg, {150, 100000});
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "server");
  EXPECT_EQ(h.records_len, s.size());
}

struct RecordCase {
  const char* description;
  Bytes stream;
  ParseStatus status;
};

Bytes rfcSplit(std::vector<size_t> sizes) {
  return splitIntoRecords(rfc8448Message(), sizes);
}
Bytes withByte(Bytes b, size_t i, uint8_t v) {
  b[i] = v;
  return b;
}
Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
Bytes firstN(const Bytes& b, size_t n) {
  return Bytes(b.begin(), b.begin() + n);
}

std::vector<RecordCase> recordCases() {
  const Bytes two = rfcSplit({100, 100000});  // second record header at offset 105
  return {
      {"empty stream", {}, ParseStatus::kNeedMore},
      {"first record is application data", withByte(two, 0, 0x17), ParseStatus::kUnsupported},
      {"first record is alert", withByte(two, 0, 0x15), ParseStatus::kUnsupported},
      {"SSLv2-compatible hello", {0x80, 0x2e, 0x01, 0x00, 0x02}, ParseStatus::kUnsupported},
      {"record version 4.x", withByte(two, 1, 0x04), ParseStatus::kUnsupported},
      {"record version 3.5", withByte(two, 2, 0x05), ParseStatus::kUnsupported},
      {"application data record in the middle", withByte(two, 105, 0x17), ParseStatus::kMalformed},
      {"change_cipher_spec record in the middle", withByte(two, 105, 0x14),
       ParseStatus::kMalformed},
      {"middle record type seen before its header is complete",
       firstN(withByte(two, 105, 0x17), 106), ParseStatus::kMalformed},
      {"bad version in the middle record", withByte(two, 106, 0x02), ParseStatus::kMalformed},
      {"zero-length first record", {0x16, 0x03, 0x01, 0x00, 0x00, 0x01}, ParseStatus::kMalformed},
      {"zero-length record in the middle",
       concat(concat(firstN(two, 105), {0x16, 0x03, 0x03, 0x00, 0x00}),
              Bytes(two.begin() + 105, two.end())),
       ParseStatus::kMalformed},
      {"record longer than 2^14", {0x16, 0x03, 0x01, 0x40, 0x01, 0x01}, ParseStatus::kMalformed},
      {"record of 0xffff", {0x16, 0x03, 0x01, 0xff, 0xff, 0x01}, ParseStatus::kMalformed},
      {"first message is a server_hello", withByte(two, 5, 0x02), ParseStatus::kUnsupported},
      {"server_hello type seen in a partial record",
       {0x16, 0x03, 0x01, 0x00, 0x40, 0x02, 0x00},
       ParseStatus::kUnsupported},
      {"hello over the cap, known from a partial record",
       {0x16, 0x03, 0x01, 0x10, 0x00, 0x01, 0x00, 0x40, 0x00},
       ParseStatus::kUnsupported},
      {"absurd handshake length",
       {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff},
       ParseStatus::kUnsupported},
      {"absurd length across records",
       concat(splitIntoRecords({0x01, 0xff}, {2}), splitIntoRecords({0xff, 0xff}, {2})),
       ParseStatus::kUnsupported},
      {"hello of exactly the cap is still waited for",
       splitIntoRecords({0x01, 0x00, 0x3f, 0xfc, 0x03, 0x03}, {6}), ParseStatus::kNeedMore},
      {"malformed body inside a complete record", withByte(oneRecord(rfc8448Message()), 5 + 38, 33),
       ParseStatus::kMalformed},
  };
}

class ClientHelloRecordTableTest : public ::testing::TestWithParam<RecordCase> {};

TEST_P(ClientHelloRecordTableTest, Status) {
  const RecordCase& c = GetParam();
  ClientHelloInfo h;
  EXPECT_EQ(parseRecords(c.stream, &h), c.status) << c.description;
  EXPECT_FALSE(h.has_sni);
  EXPECT_EQ(h.records_len, 0u);
}

INSTANTIATE_TEST_SUITE_P(Table, ClientHelloRecordTableTest, ::testing::ValuesIn(recordCases()));

TEST(ClientHelloRecordsTest, HelloOverTheCapAcrossManyRecords) {
  // A 17 KB hello (a huge padding extension) in records of 16 KiB: not inspected.
  const Bytes msg = buildClientHello({sniExtension("big.example"), {0x0015, Bytes(17000, 0)}});
  const Bytes s = splitIntoRecords(msg, {16384});
  ClientHelloInfo h;
  EXPECT_EQ(parseRecords(s, &h), ParseStatus::kUnsupported);
  // Even its first record alone says so.
  EXPECT_EQ(parseRecords(std::span<const uint8_t>(s).first(100), &h), ParseStatus::kUnsupported);
}

TEST(ClientHelloRecordsTest, HelloJustUnderTheCapAcrossRecords) {
  // Padding sized so the whole message is exactly kMaxClientHelloBytes.
  Bytes msg = buildClientHello({sniExtension("cap.example"), {0x0015, {}}});
  const size_t pad = kMaxClientHelloBytes - msg.size();
  msg = buildClientHello({sniExtension("cap.example"), {0x0015, Bytes(pad, 0)}});
  ASSERT_EQ(msg.size(), kMaxClientHelloBytes);
  const Bytes s = splitIntoRecords(msg, {16000});
  ClientHelloInfo h;
  ASSERT_EQ(parseRecords(s, &h), ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "cap.example");
}

TEST(ClientHelloRecordsTest, ScratchTooSmallIsUnsupported) {
  const Bytes s = rfcSplit({100, 100000});
  std::vector<uint8_t> scratch(150);
  ClientHelloInfo h;
  EXPECT_EQ(parseClientHelloRecords(s, scratch, &h), ParseStatus::kUnsupported);
  std::vector<uint8_t> none;
  EXPECT_EQ(parseClientHelloRecords(s, none, &h), ParseStatus::kUnsupported);
  // A hello in one record is parsed in place and needs no scratch at all.
  EXPECT_EQ(parseClientHelloRecords(oneRecord(rfc8448Message()), none, &h), ParseStatus::kOk);
}

TEST(ClientHelloRecordsTest, ScratchIsReusableAcrossCalls) {
  std::vector<uint8_t> scratch(kMaxClientHelloBytes, 0xee);
  ClientHelloInfo h;
  ASSERT_EQ(parseClientHelloRecords(rfcSplit({1}), scratch, &h), ParseStatus::kOk);
  ASSERT_EQ(parseClientHelloRecords(splitIntoRecords(buildLargeKeyShareHello("b.example"), {3}),
                                    scratch, &h),
            ParseStatus::kOk);
  EXPECT_EQ(sniOf(h), "b.example");
}

// ---- looksLikeClientHello ----

struct LooksCase {
  Bytes bytes;
  bool expected;
};

class LooksLikeClientHelloTest : public ::testing::TestWithParam<LooksCase> {};

TEST_P(LooksLikeClientHelloTest, Classifies) {
  EXPECT_EQ(looksLikeClientHello(GetParam().bytes), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LooksLikeClientHelloTest,
    ::testing::Values(LooksCase{{}, false}, LooksCase{{0x16}, true}, LooksCase{{0x16, 0x03}, true},
                      LooksCase{{0x16, 0x03, 0x01}, true},
                      LooksCase{{0x16, 0x03, 0x00, 0x00}, true},  // SSL 3.0 record version
                      LooksCase{{0x16, 0x03, 0x04, 0x01, 0x00}, true},
                      LooksCase{{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, true},
                      LooksCase{{0x17}, false}, LooksCase{{0x15, 0x03, 0x01}, false},
                      LooksCase{{0x16, 0x02}, false}, LooksCase{{0x16, 0x03, 0x05}, false},
                      LooksCase{{0x16, 0x03, 0x01, 0x00, 0x00}, false},  // empty record
                      LooksCase{{0x16, 0x03, 0x01, 0x40, 0x01}, false},  // over 2^14
                      LooksCase{{0x16, 0x03, 0x01, 0x02, 0x00, 0x02}, false},
                      LooksCase{{'G', 'E', 'T', ' '}, false},
                      LooksCase{{0x80, 0x2e, 0x01}, false}));  // SSLv2 hello

}  // namespace
}  // namespace cordon::tls
