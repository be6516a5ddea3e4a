// List formats (rules/formats.h): detection, one table row per format semantic, the sample
// files of data/ (laid out like the real-world lists they imitate), and bad input.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "rules/compiler.h"
#include "rules/formats.h"
#include "rules/pattern_set.h"
#include "rules/snapshot.h"
#include "tests/unit/rules/test_lists.h"

namespace cordon::rules {
namespace {

using testing::TempDir;

const std::string kData = RULES_TEST_DATA;
constexpr int64_t kNov2026 = 1795392000;  // 2026-11-23T00:00:00Z

std::shared_ptr<const Snapshot> compileOne(const std::string& path, ListFormat f,
                                           std::vector<std::string>* errors,
                                           CompileStats* stats = nullptr, bool strict = true) {
  ListSource src{"l", path, ListAction::kBlock};
  src.format = f;
  src.strict = strict;
  CompileOptions o;
  o.now = kNov2026;
  return compileSnapshot({src}, errors, stats, o);
}

TEST(Formats, TimeParsing) {
  int64_t t = 0;
  ASSERT_TRUE(parseTime("2026-11-23T00:00:00Z", &t));
  EXPECT_EQ(t, kNov2026);
  ASSERT_TRUE(parseTime("2026-11-23", &t));
  EXPECT_EQ(t, kNov2026);
  ASSERT_TRUE(parseTime("2026-11-23T01:00:00.123+01:00", &t));
  EXPECT_EQ(t, kNov2026);
  ASSERT_TRUE(parseTime("1795392000", &t));
  EXPECT_EQ(t, kNov2026);
  EXPECT_EQ(formatTime(kNov2026), "2026-11-23T00:00:00Z");
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-23T00:00:00", "yesterday",
                          "2026-11-23T25:00:00Z", "99999999999999999999"}) {
    EXPECT_FALSE(parseTime(bad, &t)) << bad;
  }
}

TEST(Formats, DetectsEachSample) {
  const std::pair<const char*, ListFormat> files[] = {
      {"hosts.txt", ListFormat::kHosts},     {"zone.rpz", ListFormat::kRpz},
      {"adguard.txt", ListFormat::kAdguard}, {"registry.csv", ListFormat::kCsv},
      {"feed.yaml", ListFormat::kFeed},      {"feed.jsonl", ListFormat::kFeed},
  };
  for (const auto& [file, want] : files) {
    std::ifstream in(kData + "/" + file);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(detectFormat(content), want) << file;
  }
  EXPECT_EQ(detectFormat("example.com\n=a.org\n203.0.113.0/24\nre:a,b{1,3}\n"), ListFormat::kList);
  EXPECT_EQ(detectFormat("# only comments\n"), ListFormat::kList);
  EXPECT_EQ(detectFormat(""), ListFormat::kList);
}

struct Row {
  std::string what;
  ListFormat format;
  std::vector<std::string> lines;
  std::string query;   // host, or http://host/path
  std::string expect;  // deciding pattern ("@@" prefix for an exception), "" for none
  RuleAction policy = RuleAction::kDefault;
  std::string id = "";
  std::string ref = "";
};

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      // hosts: exact names, several per line, boilerplate skipped, address → sinkhole
      {"hosts exact", ListFormat::kHosts, {"0.0.0.0 ads.test"}, "ads.test", "ads.test"},
      {"hosts not sub", ListFormat::kHosts, {"0.0.0.0 ads.test"}, "x.ads.test", ""},
      {"hosts second name",
       ListFormat::kHosts,
       {"127.0.0.1 a.test b.test # c"},
       "b.test",
       "b.test"},
      {"hosts localhost", ListFormat::kHosts, {"127.0.0.1 localhost"}, "localhost", ""},
      {"hosts case+dot", ListFormat::kHosts, {"0.0.0.0 Ads.TEST."}, "ads.test", "Ads.TEST."},
      {"hosts sinkhole",
       ListFormat::kHosts,
       {"192.0.2.1 s.test"},
       "s.test",
       "s.test",
       RuleAction::kSinkhole},
      {"hosts idn",
       ListFormat::kHosts,
       {"0.0.0.0 b\xc3\xbc"
        "cher.test"},
       "xn--bcher-kva.test",
       "b\xc3\xbc"
       "cher.test"},
      // RPZ policies
      {"rpz nxdomain",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.test CNAME ."},
       "a.test",
       "=a.test",
       RuleAction::kNxdomain},
      {"rpz exact only", ListFormat::kRpz, {"$ORIGIN rpz.", "a.test CNAME ."}, "x.a.test", ""},
      {"rpz wildcard",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "*.a.test CNAME ."},
       "x.a.test",
       "*.a.test",
       RuleAction::kNxdomain},
      {"rpz wildcard not apex",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "*.a.test CNAME ."},
       "a.test",
       ""},
      {"rpz nodata",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.test CNAME *."},
       "a.test",
       "=a.test",
       RuleAction::kNodata},
      {"rpz drop",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.test 60 IN CNAME rpz-drop."},
       "a.test",
       "=a.test",
       RuleAction::kDrop},
      {"rpz passthru",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "*.a.test CNAME .", "ok.a.test CNAME rpz-passthru."},
       "ok.a.test",
       "@@=ok.a.test"},
      {"rpz local A",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.test A 192.0.2.1"},
       "a.test",
       "=a.test",
       RuleAction::kSinkhole},
      {"rpz absolute owner",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.test.rpz. CNAME ."},
       "a.test",
       "=a.test",
       RuleAction::kNxdomain},
      {"rpz origin from SOA",
       ListFormat::kRpz,
       {"rpz.example. 60 IN SOA ns. h. (1 2 3 4 5)", "a.test.rpz.example. CNAME ."},
       "a.test",
       "=a.test",
       RuleAction::kNxdomain},
      {"rpz relative origin",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "$ORIGIN sub", "a CNAME ."},
       "a",
       "=a",
       RuleAction::kNxdomain},
      {"rpz omitted owner",
       ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.test A 192.0.2.1", "  AAAA 2001:db8::1"},
       "a.test",
       "=a.test",
       RuleAction::kSinkhole},
      // AdGuard
      {"adguard domain", ListFormat::kAdguard, {"||a.test^"}, "x.a.test", "||a.test^"},
      {"adguard boundary", ListFormat::kAdguard, {"||a.test^"}, "xa.test", ""},
      {"adguard exception",
       ListFormat::kAdguard,
       {"||a.test^", "@@||ok.a.test^"},
       "ok.a.test",
       "@@||ok.a.test^"},
      {"adguard modifiers skipped", ListFormat::kAdguard, {"||a.test^$third-party"}, "a.test", ""},
      // CSV (default header mapping)
      {"csv domain",
       ListFormat::kCsv,
       {"id,domain,reference", "r-1,a.test,Order 1"},
       "a.test",
       "a.test",
       RuleAction::kDefault,
       "r-1",
       "Order 1"},
      {"csv url",
       ListFormat::kCsv,
       {"id,url", "r-2,http://a.test/x"},
       "http://a.test/x/y",
       "http://a.test/x",
       RuleAction::kDefault,
       "r-2"},
      {"csv quoted",
       ListFormat::kCsv,
       {"id,domain,ref", "r-3,\"a.test\",\"Case \"\"7\"\"\""},
       "a.test",
       "a.test",
       RuleAction::kDefault,
       "r-3",
       "Case \"7\""},
      {"csv several domains", ListFormat::kCsv, {"domain", "a.test | b.test"}, "b.test", "b.test"},
      // feed
      {"feed yaml",
       ListFormat::kFeed,
       {"entries:", "  - id: r-9", "    pattern: a.test", "    reference: Order 9"},
       "a.test",
       "a.test",
       RuleAction::kDefault,
       "r-9",
       "Order 9"},
      {"feed jsonl nxdomain",
       ListFormat::kFeed,
       {R"({"id": "r-1", "pattern": "a.test", "action": "nxdomain"})"},
       "a.test",
       "a.test",
       RuleAction::kNxdomain,
       "r-1"},
      {"feed allow",
       ListFormat::kFeed,
       {R"({"id": "r-1", "pattern": "a.test"})",
        R"({"id": "r-2", "pattern": "b.a.test", "action": "allow"})"},
       "b.a.test",
       "@@b.a.test",
       RuleAction::kDefault,
       "r-2"},
      {"feed inactive later",
       ListFormat::kFeed,
       {R"({"id": "r-1", "pattern": "a.test", "valid_from": "2030-01-01"})"},
       "a.test",
       ""},
      {"feed inactive expired",
       ListFormat::kFeed,
       {R"({"id": "r-1", "pattern": "a.test", "valid_until": "2020-01-01"})"},
       "a.test",
       ""},
      {"feed active window",
       ListFormat::kFeed,
       {R"({"id": "r-1", "pattern": "a.test", "valid_from": "2026-01-01", "valid_until": "2027-01-01"})"},
       "a.test",
       "a.test",
       RuleAction::kDefault,
       "r-1"},
  };
  return kRows;
}

class FormatRow : public ::testing::TestWithParam<size_t> {};

TEST_P(FormatRow, Decides) {
  const Row& row = rows()[GetParam()];
  TempDir dir;
  std::vector<std::string> errors;
  const auto snap = compileOne(dir.write("l.txt", row.lines), row.format, &errors);
  ASSERT_NE(snap, nullptr) << row.what << ": " << (errors.empty() ? "" : errors[0]);
  const auto scratch = snap->newScratch();
  Match m;
  if (row.query.starts_with("http://")) {
    const size_t slash = row.query.find('/', 7);
    m = snap->matchUrl(row.query.substr(7, slash - 7), row.query.substr(slash), scratch.get());
  } else {
    m = snap->matchHost(row.query, scratch.get());
  }
  const std::string got =
      m.matched() ? (m.rule->exception ? "@@" : "") + std::string(m.rule->pattern) : "";
  EXPECT_EQ(got, row.expect) << row.what;
  EXPECT_EQ(m.policy(), row.policy) << row.what;
  if (!row.id.empty()) {
    EXPECT_EQ(m.id(), row.id) << row.what;
  }
  EXPECT_EQ(m.ref(), row.ref) << row.what;
}

INSTANTIATE_TEST_SUITE_P(Table, FormatRow, ::testing::Range(size_t{0}, rows().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = rows()[info.param].what;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return std::to_string(info.param) + "_" + n;
                         });

TEST(Formats, SampleFiles) {
  struct Want {
    const char* file;
    size_t rules;
    size_t warnings;
  };
  for (const Want& w :
       {Want{"hosts.txt", 8, 1}, Want{"zone.rpz", 8, 3}, Want{"adguard.txt", 4, 4},
        Want{"registry.csv", 7, 0}, Want{"feed.yaml", 7, 0}, Want{"feed.jsonl", 4, 0}}) {
    std::vector<std::string> errors;
    CompileStats stats;
    const auto snap = compileOne(kData + "/" + w.file, ListFormat::kAuto, &errors, &stats);
    ASSERT_NE(snap, nullptr) << w.file << ": " << (errors.empty() ? "" : errors[0]);
    EXPECT_EQ(snap->ruleCount(), w.rules) << w.file;
    EXPECT_EQ(stats.warnings_total, w.warnings) << w.file;
  }
}

TEST(Formats, RpzSampleDetails) {
  std::vector<std::string> errors;
  CompileStats stats;
  const auto snap = compileOne(kData + "/zone.rpz", ListFormat::kAuto, &errors, &stats);
  ASSERT_NE(snap, nullptr);
  const auto s = snap->newScratch();
  const Match g = snap->matchHost("garden.example.com", s.get());
  ASSERT_TRUE(g.matched());
  ASSERT_NE(g.rule->sinkholeA(), nullptr);
  EXPECT_EQ(ipToString(*g.rule->sinkholeA()), "192.0.2.1");
  ASSERT_NE(g.rule->sinkholeAaaa(), nullptr);
  EXPECT_EQ(ipToString(*g.rule->sinkholeAaaa()), "2001:db8::1");
  EXPECT_EQ(snap->matchHost("abs.example.org", s.get()).policy(), RuleAction::kNxdomain);
  EXPECT_FALSE(snap->matchHost("walled.example.com", s.get()).matched());
  EXPECT_EQ(stats.warnings[0], kData +
                                   "/zone.rpz:24: trigger '32.1.2.0.192.rpz-ip' is not a QNAME "
                                   "trigger (only QNAME triggers are enforced), skipped");
}

TEST(Formats, FeedMetadataAndBoundary) {
  std::vector<std::string> errors;
  const auto snap = compileOne(kData + "/feed.yaml", ListFormat::kAuto, &errors);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->asOf(), kNov2026);
  int64_t jan2027 = 0;
  ASSERT_TRUE(parseTime("2027-01-01", &jan2027));
  EXPECT_EQ(snap->nextBoundary(), jan2027);
  const auto s = snap->newScratch();
  const Match m = snap->matchHost("www.pirate.example", s.get());
  ASSERT_TRUE(m.matched());
  EXPECT_EQ(m.id(), "r-0001");
  EXPECT_EQ(m.ref(), "Court order 2026-17");
  ASSERT_NE(m.rule->meta, nullptr);
  EXPECT_EQ(m.rule->meta->rights_holder, "Studio A");
  EXPECT_EQ(m.rule->meta->category, "piracy");
  EXPECT_TRUE(snap->matchHost("watch.example", s.get()).monitor());
  EXPECT_EQ(snap->matchHost("sink.example", s.get()).policy(), RuleAction::kSinkhole);
  EXPECT_FALSE(snap->matchHost("ok.pirate.example", s.get()).enforce());
}

TEST(Formats, InvalidEntriesNameFileAndLine) {
  TempDir dir;
  struct Bad {
    ListFormat f;
    std::vector<std::string> lines;
    std::string want;  // suffix after "path:"
  };
  const Bad cases[] = {
      {ListFormat::kHosts,
       {"0.0.0.0 ok.test", "not-an-ip a.test"},
       "2: hosts line must start with an IP address, not 'not-an-ip'"},
      {ListFormat::kHosts, {"0.0.0.0 bad..test"}, "1: invalid host name 'bad..test'"},
      {ListFormat::kRpz,
       {"a.test. CNAME ."},
       "1: absolute owner name 'a.test.' without $ORIGIN or SOA"},
      {ListFormat::kRpz,
       {"$ORIGIN rpz.", "a.other. CNAME ."},
       "2: owner name 'a.other.' is outside the zone 'rpz'"},
      {ListFormat::kRpz, {"$ORIGIN rpz.", "a A 999.1.1.1"}, "2: invalid 'A' address '999.1.1.1'"},
      {ListFormat::kRpz,
       {"$ORIGIN rpz.", "a CNAME .", "a A 192.0.2.1"},
       "3: trigger 'a' has both a CNAME policy (line 2) and local data"},
      {ListFormat::kRpz, {"$INCLUDE other.zone"}, "1: unsupported directive '$INCLUDE'"},
      {ListFormat::kAdguard, {"||bad..test^"}, "1: invalid domain name 'bad..test'"},
      {ListFormat::kCsv, {"id,domain", "r1,\"unterminated"}, "2: unterminated quoted field"},
      {ListFormat::kCsv,
       {"id,name2", "r1,a.test"},
       "1: csv header names no domain, url or ip column (set csv.columns)"},
      {ListFormat::kFeed,
       {R"({"id": "x", "pattern": "a.test", "colour": "red"})"},
       "1: unknown key 'colour' in feed entry"},
      {ListFormat::kFeed, {R"({"id": "x"})"}, "1: feed entry without 'pattern' or 'patterns'"},
      {ListFormat::kFeed,
       {R"({"id": "x", "pattern": "a.test", "action": "explode"})"},
       "1: unknown action 'explode' (block, monitor, allow, drop, nxdomain, nodata, sinkhole)"},
      {ListFormat::kFeed,
       {R"({"id": "x", "pattern": "a.test", "valid_from": "soon"})"},
       "1: valid_from: invalid time 'soon'"},
      {ListFormat::kFeed,
       {R"({"pattern": "a.test", "valid_from": "2026-02-01", "valid_until": "2026-01-01"})"},
       "1: valid_until is not after valid_from"},
      {ListFormat::kFeed, {R"({"pattern": "re:("})"}, "1: Hyperscan rejected regex: "},
      {ListFormat::kFeed,
       {"entries:", "  - id: a", "    pattern: [unclosed"},
       "4: end of sequence flow not found"},
      {ListFormat::kFeed,
       {"{not json"},
       "1: invalid JSON: column 3: syntax error while parsing object key"},
      {ListFormat::kFeed, {R"({"id": "x", "pattern": null})"}, "1: pattern must be a string"},
      {ListFormat::kFeed,
       {R"({"id": "x", "patterns": ["a.test", {"b": 1}]})"},
       "1: pattern must be a string"},
      {ListFormat::kFeed, {R"({"id": "x", "patterns": "a.test"})"}, "1: patterns must be a list"},
      {ListFormat::kFeed,
       {R"({"id": "x", "pattern": "a.test"})", "", R"(["b.test"])"},
       "3: feed entry must be a mapping"},
      {ListFormat::kFeed,
       {R"({"id": "x", "pattern": "a.test"} trailing)"},
       "1: invalid JSON: column 36: syntax error while parsing value"},
  };
  for (const Bad& b : cases) {
    const std::string p = dir.write("bad.txt", b.lines);
    std::vector<std::string> errors;
    EXPECT_EQ(compileOne(p, b.f, &errors), nullptr) << b.want;
    ASSERT_FALSE(errors.empty()) << b.want;
    EXPECT_TRUE(errors[0].starts_with(p + ":" + b.want)) << errors[0] << "\n want " << b.want;
  }
}

// JSON lines: numbers and booleans read as strings (as in the YAML form), key order kept,
// each entry's line number is its line in the file.
TEST(Formats, FeedJsonLines) {
  TempDir dir;
  const std::string p = dir.write(
      "feed.jsonl",
      {"# court registry export", R"({"id": 17, "pattern": "n.test", "ref": 2026})", "",
       R"({"id": "r2", "patterns": ["m.test", "http://u.test/x"], "action": "monitor"})"});
  std::vector<std::string> errors;
  const auto snap = compileOne(p, ListFormat::kAuto, &errors);
  ASSERT_NE(snap, nullptr) << (errors.empty() ? "" : errors[0]);
  const auto s = snap->newScratch();
  const Match n = snap->matchHost("n.test", s.get());
  ASSERT_TRUE(n.matched());
  EXPECT_EQ(n.id(), "17");
  EXPECT_EQ(n.ref(), "2026");
  EXPECT_EQ(n.rule->line, 2u);
  EXPECT_TRUE(n.enforce());
  const Match m = snap->matchHost("m.test", s.get());
  ASSERT_TRUE(m.matched());
  EXPECT_EQ(m.rule->line, 4u);
  EXPECT_TRUE(m.monitor());
  EXPECT_TRUE(snap->matchUrl("u.test", "/x/y", s.get()).monitor());
}

TEST(Formats, NonStrictSkipsAndWarns) {
  TempDir dir;
  const std::string p = dir.write("l.list", {"good.test", "bad..test", "also.test"});
  std::vector<std::string> errors;
  CompileStats stats;
  const auto snap = compileOne(p, ListFormat::kAuto, &errors, &stats, /*strict=*/false);
  ASSERT_NE(snap, nullptr);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(snap->ruleCount(), 2u);
  EXPECT_EQ(stats.skipped, 1u);
  ASSERT_EQ(stats.warnings.size(), 1u);
  EXPECT_EQ(stats.warnings[0], p + ":2: invalid domain name 'bad..test' (skipped: strict is off)");
}

TEST(BadInput, BinaryGarbage) {
  TempDir dir;
  const std::string p = dir.path() + "/garbage.bin";
  {
    std::ofstream out(p, std::ios::binary);
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  std::vector<std::string> errors;
  EXPECT_EQ(compileOne(p, ListFormat::kAuto, &errors), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], p + ": not a text file (NUL byte at offset 0)");
}

TEST(BadInput, VeryLongLineIsCapped) {
  TempDir dir;
  const std::string p = dir.path() + "/long.list";
  {
    // Over kMaxLineBytes (1 MiB) on one line: streamed, never held whole.
    std::ofstream out(p, std::ios::binary);
    out << "ok.test\n";
    const std::string chunk(1 << 16, 'a');
    for (size_t i = 0; i < (kMaxLineBytes >> 16) * 3; ++i) out << chunk;
    out << "\nalso.test\n";
  }
  std::vector<std::string> errors;
  EXPECT_EQ(compileOne(p, ListFormat::kAuto, &errors), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], p + ":2: line longer than 1048576 bytes");
  errors.clear();
  CompileStats stats;
  const auto snap = compileOne(p, ListFormat::kList, &errors, &stats, false);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->ruleCount(), 2u);  // the lines after the long one are read
}

TEST(BadInput, NulInsideALine) {
  TempDir dir;
  const std::string p = dir.path() + "/nul.list";
  {
    std::ofstream out(p, std::ios::binary);
    out << std::string(5000, '#') << "\nok.test\nba" << '\0' << "d.test\n";
  }
  std::vector<std::string> errors;
  EXPECT_EQ(compileOne(p, ListFormat::kAuto, &errors), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], p + ":3: binary data (NUL byte at column 3)");
}

TEST(BadInput, DuplicatesWarnOnce) {
  TempDir dir;
  const std::string p =
      dir.write("d.list", {"a.test", "b.test", "A.test.", "203.0.113.0/24", "203.0.113.9/24"});
  std::vector<std::string> errors;
  CompileStats stats;
  const auto snap = compileOne(p, ListFormat::kAuto, &errors, &stats);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(stats.duplicates, 2u);
  ASSERT_EQ(stats.warnings.size(), 2u);
  EXPECT_EQ(stats.warnings[0], p + ":3: duplicate of line 1, ignored");
  EXPECT_EQ(stats.warnings[1], p + ":5: duplicate of line 4, ignored");
  EXPECT_EQ(snap->matchHost("a.test", snap->newScratch().get()).rule->line, 1u);
}

TEST(BadInput, ErrorFloodIsCapped) {
  TempDir dir;
  std::vector<std::string> lines(1000, "bad..test");
  const std::string p = dir.write("flood.list", lines);
  std::vector<std::string> errors;
  EXPECT_EQ(compileOne(p, ListFormat::kAuto, &errors), nullptr);
  ASSERT_EQ(errors.size(), kMaxErrorsPerList + 1);
  EXPECT_EQ(errors.back(), p + ": ... and 900 more errors");
}

TEST(BadInput, UnreadableFile) {
  TempDir dir;
  const std::string p = dir.write("secret.list", {"a.test"});
  ::chmod(p.c_str(), 0);
  // Root reads any file: as root (CI), read as nobody for the duration of the compile. The
  // saved set-user-ID stays 0, so the effective ID can be restored afterwards.
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::seteuid(65534), 0);
  }
  std::vector<std::string> errors;
  const auto snap = compileOne(p, ListFormat::kAuto, &errors);
  if (root) {
    ASSERT_EQ(::seteuid(0), 0);
  }
  EXPECT_EQ(snap, nullptr);
  EXPECT_EQ(errors, std::vector<std::string>{p + ": Permission denied"});
}

}  // namespace
}  // namespace cordon::rules
