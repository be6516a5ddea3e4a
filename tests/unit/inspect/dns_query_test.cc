// DNS query parsing (dataplane/inspect/dns/dns_query.h). Messages are built field by field
// from RFC 1035 section 4.1 by the helpers below unless a test says otherwise.

#include "dataplane/inspect/dns/dns_query.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::dns {
namespace {

using Bytes = std::vector<uint8_t>;

void putU16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}

// Header: id, flags, qdcount, an/ns/arcount 0 (RFC 1035 section 4.1.1).
Bytes header(uint16_t id = 0x1234, uint16_t flags = 0x0100, uint16_t qdcount = 1) {
  Bytes b;
  putU16(&b, id);
  putU16(&b, flags);
  putU16(&b, qdcount);
  putU16(&b, 0);
  putU16(&b, 0);
  putU16(&b, 0);
  return b;
}

// Wire-form name from raw labels (each label's bytes as given, no escaping).
Bytes wireName(const std::vector<std::string>& labels) {
  Bytes b;
  for (const std::string& l : labels) {
    b.push_back(static_cast<uint8_t>(l.size()));
    b.insert(b.end(), l.begin(), l.end());
  }
  b.push_back(0);
  return b;
}

// A query for `labels`, type A (1), class IN (1), RD set, like the captured one below.
Bytes query(const std::vector<std::string>& labels, uint16_t qtype = 1, uint16_t flags = 0x0100) {
  Bytes b = header(0x1234, flags);
  const Bytes n = wireName(labels);
  b.insert(b.end(), n.begin(), n.end());
  putU16(&b, qtype);
  putU16(&b, 1);
  return b;
}

std::string nameOf(const DnsQuery& q) {
  return std::string(q.name, q.name_len);
}

// A real query: glibc 2.36's resolver library (Debian 12) asking for www.Example.COM A, caught by
// a Python UDP socket bound to 127.0.0.1:53 and printed as hex:
//   echo "nameserver 127.0.0.1" > /tmp/resolv.conf
//   python3 -c 'import socket; s=socket.socket(2,2); s.bind(("127.0.0.1",53));
//               print(s.recvfrom(4096)[0].hex())' &
//   unshare -m sh -c 'mount --bind /tmp/resolv.conf /etc/resolv.conf &&
//                     getent ahostsv4 www.Example.COM'
// id 0xfc76, flags 0x0100 (RD), one question, no EDNS.
const Bytes kGlibcQuery = {0xfc, 0x76, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x03, 'w',  'w',  'w',  0x07, 'E',  'x',  'a',  'm',  'p',
                           'l',  'e',  0x03, 'C',  'O',  'M',  0x00, 0x00, 0x01, 0x00, 0x01};

TEST(DnsQueryTest, ParsesCapturedGlibcQuery) {
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(kGlibcQuery, &q), ParseStatus::kOk);
  EXPECT_EQ(q.id, 0xfc76);
  EXPECT_EQ(q.flags, 0x0100);
  EXPECT_EQ(q.qdcount, 1);
  EXPECT_EQ(nameOf(q), "www.example.com");
  EXPECT_EQ(q.name[q.name_len], '\0');
  EXPECT_EQ(q.qtype, 1);
  EXPECT_EQ(q.qclass, 1);
  EXPECT_EQ(q.question_end, kGlibcQuery.size());
}

TEST(DnsQueryTest, EveryTruncationIsMalformedNeverOk) {
  for (size_t n = 0; n < kGlibcQuery.size(); ++n) {
    DnsQuery q;
    const std::span<const uint8_t> part(kGlibcQuery.data(), n);
    EXPECT_EQ(parseDnsQuery(part, &q), ParseStatus::kMalformed) << "prefix " << n;
    EXPECT_EQ(q.name_len, 0u);
  }
}

TEST(DnsQueryTest, TrailingRecordsAfterQuestionAreIgnored) {
  Bytes b = query({"example", "org"}, 28);
  const size_t end = b.size();
  b.insert(b.end(), {0x00, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});  // EDNS OPT RR
  b[11] = 1;                                                            // arcount
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(b, &q), ParseStatus::kOk);
  EXPECT_EQ(q.question_end, end);
  EXPECT_EQ(q.qtype, 28);
}

struct NameCase {
  const char* description;
  std::function<Bytes()> build;
  ParseStatus status;
  std::string_view name;
};

Bytes withPointerName(Bytes name_bytes, uint16_t id = 0x0161, uint16_t qdcount = 1) {
  Bytes b = header(id, 0x0000, qdcount);
  b.insert(b.end(), name_bytes.begin(), name_bytes.end());
  putU16(&b, 1);
  putU16(&b, 1);
  return b;
}

const NameCase kNameCases[] = {
    {"lower-cases ASCII",
     [] {
       return query({"WWW", "ExAmPlE", "CoM"});
     },
     ParseStatus::kOk, "www.example.com"},
    {"root name is empty", [] { return query({}); }, ParseStatus::kOk, ""},
    {"single label", [] { return query({"localhost"}); }, ParseStatus::kOk, "localhost"},
    {"keeps - _ * and digits",
     [] {
       return query({"_sip", "*", "a-1", "b_2"});
     },
     ParseStatus::kOk, "_sip.*.a-1.b_2"},
    {"dot inside a label is escaped",
     [] {
       return query({"a.b", "com"});
     },
     ParseStatus::kOk, "a\\046b.com"},
    {"backslash escaped", [] { return query({"a\\b"}); }, ParseStatus::kOk, "a\\092b"},
    {"space and NUL escaped", [] { return query({std::string("a b\0c", 5)}); }, ParseStatus::kOk,
     "a\\032b\\000c"},
    {"non-ASCII escaped", [] { return query({"\xc3\xa9t\xff"}); }, ParseStatus::kOk,
     "\\195\\169t\\255"},
    // Compression (RFC 1035 section 4.1.4). The header's id 0x0161 reads as the label "a"
    // and flags 0x0000 as its terminating root, so a pointer to offset 0 names "a".
    {"pointer after a label",
     [] {
       return withPointerName({3, 'w', 'w', 'w', 0xc0, 0x00});
     },
     ParseStatus::kOk, "www.a"},
    {"name that is only a pointer",
     [] {
       return withPointerName({0xc0, 0x00});
     },
     ParseStatus::kOk, "a"},
    {"two hops: question -> qdcount word -> id",
     [] {
       return withPointerName({0xc0, 0x04}, 0x0161, 0xc000);
     },
     ParseStatus::kOk, "a"},
    {"pointer to itself",
     [] {
       return withPointerName({0xc0, 0x0c});
     },
     ParseStatus::kMalformed, ""},
    {"forward pointer",
     [] {
       return withPointerName({0xc0, 0x20});
     },
     ParseStatus::kMalformed, ""},
    {"pointer past the end",
     [] {
       return withPointerName({0xff, 0xff});
     },
     ParseStatus::kMalformed, ""},
    {"loop through the header (id word points back at the question)",
     [] {
       return withPointerName({0xc0, 0x00}, 0xc00c);
     },
     ParseStatus::kMalformed, ""},
    {"loop between two header words",
     [] {
       return withPointerName({0xc0, 0x04}, 0xc004, 0xc000);
     },
     ParseStatus::kMalformed, ""},
    {"pointer cut after its first byte", [] { return withPointerName({0xc0}); },
     ParseStatus::kMalformed, ""},
    {"label type 01 (length 64)",
     [] {
       Bytes b = header();
       b.push_back(0x40);
       b.insert(b.end(), 64, 'a');
       b.insert(b.end(), {0, 0, 1, 0, 1});
       return b;
     },
     ParseStatus::kMalformed, ""},
    {"label type 10 (0x80)",
     [] {
       Bytes b = header();
       b.insert(b.end(), {0x80, 0, 0, 1, 0, 1});
       return b;
     },
     ParseStatus::kMalformed, ""},
    {"label length past the message",
     [] {
       Bytes b = header();
       b.insert(b.end(), {0x3f, 'a', 'b'});
       return b;
     },
     ParseStatus::kMalformed, ""},
    {"no QTYPE/QCLASS",
     [] {
       Bytes b = header();
       const Bytes n = wireName({"a"});
       b.insert(b.end(), n.begin(), n.end());
       b.push_back(0);
       return b;
     },
     ParseStatus::kMalformed, ""},
    {"header only", [] { return header(); }, ParseStatus::kMalformed, ""},
    {"response (QR=1) is not inspected",
     [] {
       return query({"a", "com"}, 1, 0x8180);
     },
     ParseStatus::kUnsupported, ""},
    {"UPDATE opcode is not inspected",
     [] {
       return query({"a", "com"}, 6, 0x2800);
     },
     ParseStatus::kUnsupported, ""},
    {"no question", [] { return header(0x1234, 0x0100, 0); }, ParseStatus::kUnsupported, ""},
    {"HTTPS qtype is parsed like any other",
     [] {
       return query({"svc", "example"}, 65);
     },
     ParseStatus::kOk, "svc.example"},
    {"ANY qtype", [] { return query({"example"}, 255); }, ParseStatus::kOk, "example"},
};

class DnsNameTest : public ::testing::TestWithParam<NameCase> {};

TEST_P(DnsNameTest, Parses) {
  const NameCase& c = GetParam();
  const Bytes msg = c.build();
  DnsQuery q;
  EXPECT_EQ(parseDnsQuery(msg, &q), c.status) << c.description;
  if (c.status == ParseStatus::kOk) {
    EXPECT_EQ(nameOf(q), c.name) << c.description;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, DnsNameTest, ::testing::ValuesIn(kNameCases));

TEST(DnsQueryTest, LabelOf63IsFine) {
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(query({std::string(63, 'x'), "com"}), &q), ParseStatus::kOk);
  EXPECT_EQ(q.name_len, 67u);
}

TEST(DnsQueryTest, NameOf255WireOctetsIsFineAnd256IsMalformed) {
  // 3 * (1 + 63) + (1 + 61) + 1 = 255 octets.
  const std::vector<std::string> max = {std::string(63, 'a'), std::string(63, 'b'),
                                        std::string(63, 'c'), std::string(61, 'd')};
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(query(max), &q), ParseStatus::kOk);
  EXPECT_EQ(q.name_len, 63u * 3 + 61 + 3);
  std::vector<std::string> over = max;
  over.back().push_back('d');
  EXPECT_EQ(parseDnsQuery(query(over), &q), ParseStatus::kMalformed);
}

TEST(DnsQueryTest, LongestEscapedNameFitsTheTextBuffer) {
  // 255 wire octets where every label byte needs \DDD: the largest text the parser can emit.
  const std::vector<std::string> max = {std::string(63, '.'), std::string(63, '.'),
                                        std::string(63, '.'), std::string(61, '.')};
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(query(max), &q), ParseStatus::kOk);
  EXPECT_EQ(q.name_len, (63u * 3 + 61) * 4 + 3);
  EXPECT_LE(q.name_len, kMaxNameText);
  EXPECT_EQ(std::string_view(q.name, 4), "\\046");
}

TEST(DnsQueryTest, ManySmallLabels) {
  std::vector<std::string> labels(127, "a");  // 127 * 2 + 1 = 255 octets
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(query(labels), &q), ParseStatus::kOk);
  EXPECT_EQ(q.name_len, 127u * 2 - 1);
  labels.push_back("a");
  EXPECT_EQ(parseDnsQuery(query(labels), &q), ParseStatus::kMalformed);
}

TEST(DnsQueryTest, PointedToNameCountsTowardTheLengthCap) {
  // 4 labels of 60 (244 octets) then a pointer to "a" in the header: 244 + 2 + 1 = 247 ok;
  // with a fifth label the expansion passes 255.
  Bytes name;
  for (int i = 0; i < 4; ++i) {
    name.push_back(60);
    name.insert(name.end(), 60, 'x');
  }
  name.insert(name.end(), {0xc0, 0x00});
  DnsQuery q;
  EXPECT_EQ(parseDnsQuery(withPointerName(name), &q), ParseStatus::kOk);
  Bytes longer = {8, 'y', 'y', 'y', 'y', 'y', 'y', 'y', 'y'};
  longer.insert(longer.end(), name.begin(), name.end());
  EXPECT_EQ(parseDnsQuery(withPointerName(longer), &q), ParseStatus::kMalformed);
}

TEST(DnsQueryTest, QuestionEndFollowsThePointerNotTheTarget) {
  const Bytes b = withPointerName({3, 'w', 'w', 'w', 0xc0, 0x00});
  DnsQuery q;
  ASSERT_EQ(parseDnsQuery(b, &q), ParseStatus::kOk);
  EXPECT_EQ(q.question_end, b.size());
}

TEST(DnsTcpFrameTest, WholeFrame) {
  Bytes s;
  putU16(&s, static_cast<uint16_t>(kGlibcQuery.size()));
  s.insert(s.end(), kGlibcQuery.begin(), kGlibcQuery.end());
  s.insert(s.end(), {0x00, 0x21});  // start of a next frame
  size_t len = 0;
  ASSERT_EQ(dnsTcpFrame(s, &len), ParseStatus::kOk);
  EXPECT_EQ(len, kGlibcQuery.size());
  DnsQuery q;
  EXPECT_EQ(parseDnsQuery(std::span<const uint8_t>(s).subspan(2, len), &q), ParseStatus::kOk);
}

TEST(DnsTcpFrameTest, EveryTruncationNeedsMore) {
  Bytes s;
  putU16(&s, static_cast<uint16_t>(kGlibcQuery.size()));
  s.insert(s.end(), kGlibcQuery.begin(), kGlibcQuery.end());
  for (size_t n = 0; n < s.size(); ++n) {
    size_t len = 12345;
    EXPECT_EQ(dnsTcpFrame(std::span<const uint8_t>(s.data(), n), &len), ParseStatus::kNeedMore)
        << n;
    EXPECT_EQ(len, 12345u);
  }
}

TEST(DnsTcpFrameTest, ZeroLengthIsMalformed) {
  const Bytes s = {0x00, 0x00, 0x12};
  size_t len = 0;
  EXPECT_EQ(dnsTcpFrame(s, &len), ParseStatus::kMalformed);
}

TEST(DnsTcpFrameTest, MaxLengthNeedsMore) {
  Bytes s = {0xff, 0xff};
  s.resize(1000, 0);
  size_t len = 0;
  EXPECT_EQ(dnsTcpFrame(s, &len), ParseStatus::kNeedMore);
}

}  // namespace
}  // namespace cordon::dns
