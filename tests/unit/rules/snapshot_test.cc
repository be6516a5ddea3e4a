// Semantics of the compiled snapshot: one table row per {rule lists, query, expected
// deciding rule, enforce?}. Covers every rule kind, the label boundary, exceptions,
// the precedence order documented in rules/snapshot.cc, monitor lists, IPv4/IPv6 CIDRs.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "rules/domain_table.h"
#include "rules/list_parser.h"
#include "rules/normalize.h"
#include "rules/serial.h"
#include "rules/snapshot.h"
#include "tests/unit/rules/test_lists.h"

namespace cordon::rules {
namespace {

using testing::TempDir;

struct Case {
  std::string what;
  std::vector<std::string> block;    // lines of a list with action block
  std::vector<std::string> monitor;  // lines of a list with action monitor
  std::string query;   // host name, "http(s)://host/path" (matchUrl) or "ip:ADDR" (matchIp)
  std::string expect;  // deciding rule as written ("@@" for an exception), "" for none
  bool enforce = false;
};

// Runs one query the way the dataplane does: normalise, then match.
Match query(const Snapshot& snap, MatchScratch* scratch, const std::string& q) {
  if (q.starts_with("ip:")) {
    IpAddr a;
    EXPECT_TRUE(parseIp(q.substr(3), &a)) << q;
    return snap.matchIp(a);
  }
  char host[kMaxHostLen + 1];
  if (q.starts_with("http://") || q.starts_with("https://")) {
    const size_t start = q.find("://") + 3;
    const size_t slash = q.find_first_of("/?", start);
    const std::string authority = q.substr(start, slash - start);
    const std::string target = slash == std::string::npos ? "" : q.substr(slash);
    const size_t hn = normalizeHost(authority, host, sizeof host);
    char path[kMaxUrlPathLen + 1];
    const size_t pn = normalizeUrlPath(target, path, sizeof path);
    return snap.matchUrl({host, hn}, {path, pn}, scratch);
  }
  const size_t hn = normalizeHost(q, host, sizeof host);
  return snap.matchHost({host, hn}, scratch);
}

std::string describe(const Match& m) {
  if (!m.matched()) return "";
  return (m.rule->exception ? "@@" : "") + std::string(m.rule->pattern);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      // plain domain: the name and every subdomain, on a label boundary
      {"domain itself", {"example.com"}, {}, "example.com", "example.com", true},
      {"domain subdomain", {"example.com"}, {}, "www.example.com", "example.com", true},
      {"domain deep", {"example.com"}, {}, "a.b.c.example.com", "example.com", true},
      {"label boundary", {"example.com"}, {}, "notexample.com", ""},
      {"label boundary 2", {"example.com"}, {}, "wwwexample.com", ""},
      {"not a prefix", {"example.com"}, {}, "example.com.evil.net", ""},
      {"not the parent", {"example.com"}, {}, "com", ""},
      {"other tld", {"example.com"}, {}, "example.org", ""},
      {"query case+dot+port", {"example.com"}, {}, "WWW.Example.COM.:443", "example.com", true},
      {"rule case+dot", {"Example.COM."}, {}, "www.example.com", "Example.COM.", true},
      {"single label rule", {"ru"}, {}, "site.ru", "ru", true},
      // =exact
      {"exact itself", {"=example.com"}, {}, "example.com", "=example.com", true},
      {"exact not sub", {"=example.com"}, {}, "www.example.com", ""},
      // *.subdomains
      {"sub not itself", {"*.example.com"}, {}, "example.com", ""},
      {"sub one level", {"*.example.com"}, {}, "www.example.com", "*.example.com", true},
      {"sub deep", {"*.example.com"}, {}, "a.b.example.com", "*.example.com", true},
      {"sub label boundary", {"*.example.com"}, {}, "wwwexample.com", ""},
      // IDN: rules are converted to punycode, queries arrive as A-labels
      {"idn rule",
       {"b\xc3\xbc"
        "cher.de"},
       {},
       "www.xn--bcher-kva.de",
       "b\xc3\xbc"
       "cher.de",
       true},
      {"idn exact",
       {"=B\xc3\x9c"
        "CHER.de"},
       {},
       "xn--bcher-kva.de",
       "=B\xc3\x9c"
       "CHER.de",
       true},
      // comments and whitespace
      {"trailing comment",
       {"  example.com   # court order 17  "},
       {},
       "example.com",
       "example.com",
       true},
      {"comment line", {"# example.com", "", "   "}, {}, "example.com", ""},
      // precedence: exact > longer suffix > shorter suffix > pattern
      {"exact over suffix",
       {"example.com", "=www.example.com"},
       {},
       "www.example.com",
       "=www.example.com",
       true},
      {"longer suffix",
       {"example.com", "b.example.com"},
       {},
       "a.b.example.com",
       "b.example.com",
       true},
      {"longer suffix order",
       {"b.example.com", "example.com"},
       {},
       "a.b.example.com",
       "b.example.com",
       true},
      {"sub over domain same name",
       {"example.com", "*.example.com"},
       {},
       "www.example.com",
       "*.example.com",
       true},
      {"domain when sub n/a",
       {"example.com", "*.example.com"},
       {},
       "example.com",
       "example.com",
       true},
      {"domain over pattern",
       {"re:example", "example.com"},
       {},
       "www.example.com",
       "example.com",
       true},
      {"pattern when no domain",
       {"re:example", "example.com"},
       {},
       "myexample.org",
       "re:example",
       true},
      // exceptions win over everything
      {"exception sub",
       {"example.com", "@@www.example.com"},
       {},
       "www.example.com",
       "@@www.example.com"},
      {"exception deeper",
       {"example.com", "@@www.example.com"},
       {},
       "a.www.example.com",
       "@@www.example.com"},
      {"exception elsewhere",
       {"example.com", "@@www.example.com"},
       {},
       "mail.example.com",
       "example.com",
       true},
      {"short exception over exact",
       {"=www.example.com", "@@example.com"},
       {},
       "www.example.com",
       "@@example.com"},
      {"exception exact", {"example.com", "@@=example.com"}, {}, "example.com", "@@=example.com"},
      {"exception exact only",
       {"example.com", "@@=example.com"},
       {},
       "www.example.com",
       "example.com",
       true},
      {"exception subdomains",
       {"example.com", "@@*.example.com"},
       {},
       "www.example.com",
       "@@*.example.com"},
      {"exception subdomains not name",
       {"example.com", "@@*.example.com"},
       {},
       "example.com",
       "example.com",
       true},
      {"exception first in list",
       {"@@example.com", "example.com"},
       {},
       "example.com",
       "@@example.com"},
      {"regex exception over domain",
       {"example.com", "@@re:^safe\\."},
       {},
       "safe.example.com",
       "@@re:^safe\\."},
      {"regex exception miss",
       {"example.com", "@@re:^safe\\."},
       {},
       "www.example.com",
       "example.com",
       true},
      {"exception in monitor list",
       {"example.com"},
       {"@@www.example.com"},
       "www.example.com",
       "@@www.example.com"},
      {"longest exception reported",
       {"example.com", "@@example.com", "@@www.example.com"},
       {},
       "a.www.example.com",
       "@@www.example.com"},
      // re: patterns over the normalised host
      {"re anchored",
       {"re:^ads[0-9]+\\.example\\.com$"},
       {},
       "ads12.example.com",
       "re:^ads[0-9]+\\.example\\.com$",
       true},
      {"re anchored miss", {"re:^ads[0-9]+\\.example\\.com$"}, {}, "ads.example.com", ""},
      {"re caseless", {"re:EXAMPLE"}, {}, "example.org", "re:EXAMPLE", true},
      {"re on normalised",
       {"re:^www\\.example\\.com$"},
       {},
       "WWW.Example.com.",
       "re:^www\\.example\\.com$",
       true},
      {"re applies to http", {"re:^bad\\."}, {}, "http://bad.example/x", "re:^bad\\.", true},
      // URL prefixes: HTTP only, host exact, path prefix on the normalised path
      {"url prefix",
       {"http://example.com/path"},
       {},
       "http://example.com/path/x",
       "http://example.com/path",
       true},
      {"url prefix plain prefix",
       {"http://example.com/path"},
       {},
       "http://example.com/pathology",
       "http://example.com/path",
       true},
      {"url prefix other path", {"http://example.com/path"}, {}, "http://example.com/other", ""},
      {"url prefix host exact", {"http://example.com/path"}, {}, "http://www.example.com/path", ""},
      {"url prefix not for dns/sni", {"http://example.com/path"}, {}, "example.com", ""},
      {"url prefix https rule",
       {"https://example.com/a"},
       {},
       "http://example.com/a",
       "https://example.com/a",
       true},
      {"url prefix whole host",
       {"http://example.com"},
       {},
       "http://example.com/anything",
       "http://example.com",
       true},
      {"url prefix query",
       {"http://example.com/p?id=1"},
       {},
       "http://example.com/p?id=12",
       "http://example.com/p?id=1",
       true},
      {"url prefix query miss", {"http://example.com/p?id=1"}, {}, "http://example.com/p?id=2", ""},
      {"url rule normalised",
       {"http://EXAMPLE.com:8080/a/./b/../c%7e"},
       {},
       "http://example.com/a/c~d",
       "http://EXAMPLE.com:8080/a/./b/../c%7e",
       true},
      {"url query normalised",
       {"http://example.com/a/./b/../c%7e"},
       {},
       "http://example.com/a/x/../c%7Ed",
       "http://example.com/a/./b/../c%7e",
       true},
      {"url dot-segment evasion",
       {"http://example.com/secret"},
       {},
       "http://example.com/public/%2e%2e/secret",
       "http://example.com/secret",
       true},
      {"longer url prefix",
       {"http://e.com/a", "http://e.com/a/b"},
       {},
       "http://e.com/a/b/c",
       "http://e.com/a/b",
       true},
      {"shorter url prefix",
       {"http://e.com/a", "http://e.com/a/b"},
       {},
       "http://e.com/a/c",
       "http://e.com/a",
       true},
      {"url prefix over exact",
       {"=e.com", "http://e.com/a"},
       {},
       "http://e.com/a",
       "http://e.com/a",
       true},
      {"host rule for other path",
       {"=e.com", "http://e.com/a"},
       {},
       "http://e.com/b",
       "=e.com",
       true},
      {"url monitor over host block",
       {"e.com"},
       {"http://e.com/a"},
       "http://e.com/a",
       "http://e.com/a",
       false},
      {"url exception",
       {"e.com", "@@http://e.com/public"},
       {},
       "http://e.com/public/x",
       "@@http://e.com/public"},
      {"url exception miss",
       {"e.com", "@@http://e.com/public"},
       {},
       "http://e.com/private",
       "e.com",
       true},
      {"url exception not for sni", {"e.com", "@@http://e.com/public"}, {}, "e.com", "e.com", true},
      {"domain exception over url", {"http://e.com/a", "@@e.com"}, {}, "http://e.com/a", "@@e.com"},
      {"longer url exception wins",
       {"http://e.com/", "@@http://e.com/a/b"},
       {},
       "http://e.com/a/b",
       "@@http://e.com/a/b"},
      {"block longer than exception",
       {"http://e.com/a/b", "@@http://e.com/a"},
       {},
       "http://e.com/a/b",
       "@@http://e.com/a"},
      // url-re: over "host/path?query"
      {"url-re",
       {"url-re:^e\\.com/x\\?id=[0-9]+$"},
       {},
       "http://e.com/x?id=42",
       "url-re:^e\\.com/x\\?id=[0-9]+$",
       true},
      {"url-re miss", {"url-re:^e\\.com/x\\?id=[0-9]+$"}, {}, "http://e.com/x?id=a", ""},
      {"url-re not for dns/sni", {"url-re:e\\.com"}, {}, "e.com", ""},
      {"url-re on normalised",
       {"url-re:/admin/"},
       {},
       "http://e.com/x/../%61dmin/",
       "url-re:/admin/",
       true},
      {"url-re exception over prefix",
       {"http://e.com/", "@@url-re:/ok$"},
       {},
       "http://e.com/ok",
       "@@url-re:/ok$"},
      {"url-re below host rule", {"url-re:/x", "e.com"}, {}, "http://e.com/x", "e.com", true},
      // IP and CIDR
      {"v4 cidr", {"203.0.113.0/24"}, {}, "ip:203.0.113.255", "203.0.113.0/24", true},
      {"v4 cidr miss", {"203.0.113.0/24"}, {}, "ip:203.0.114.0", ""},
      {"v4 host", {"192.0.2.1"}, {}, "ip:192.0.2.1", "192.0.2.1", true},
      {"v4 host miss", {"192.0.2.1"}, {}, "ip:192.0.2.2", ""},
      {"v4 /32", {"192.0.2.1/32"}, {}, "ip:192.0.2.1", "192.0.2.1/32", true},
      {"v4 /0", {"0.0.0.0/0"}, {}, "ip:198.51.100.7", "0.0.0.0/0", true},
      {"v4 /0 not v6", {"0.0.0.0/0"}, {}, "ip:2001:db8::1", ""},
      {"v4 host bits set", {"203.0.113.77/24"}, {}, "ip:203.0.113.1", "203.0.113.77/24", true},
      {"v4 odd length", {"10.0.0.0/9"}, {}, "ip:10.127.255.255", "10.0.0.0/9", true},
      {"v4 odd length miss", {"10.0.0.0/9"}, {}, "ip:10.128.0.0", ""},
      {"v4 longest", {"10.1.0.0/16"}, {"10.0.0.0/8"}, "ip:10.1.2.3", "10.1.0.0/16", true},
      {"v4 shorter monitor", {"10.1.0.0/16"}, {"10.0.0.0/8"}, "ip:10.2.0.1", "10.0.0.0/8", false},
      {"v4 exception inside",
       {"203.0.113.0/24", "@@203.0.113.7"},
       {},
       "ip:203.0.113.7",
       "@@203.0.113.7"},
      {"v4 exception neighbour",
       {"203.0.113.0/24", "@@203.0.113.7"},
       {},
       "ip:203.0.113.8",
       "203.0.113.0/24",
       true},
      {"v4 short exception wins",
       {"@@10.0.0.0/8", "10.1.2.0/24"},
       {},
       "ip:10.1.2.3",
       "@@10.0.0.0/8"},
      {"v4-mapped v6", {"192.0.2.0/24"}, {}, "ip:::ffff:192.0.2.9", "192.0.2.0/24", true},
      {"v6 /128", {"2001:db8::1"}, {}, "ip:2001:db8::1", "2001:db8::1", true},
      {"v6 /128 miss", {"2001:db8::1"}, {}, "ip:2001:db8::2", ""},
      {"v6 /128 explicit", {"2001:db8::1/128"}, {}, "ip:2001:db8::1", "2001:db8::1/128", true},
      {"v6 /48", {"2001:db8:1::/48"}, {}, "ip:2001:db8:1:ffff::1", "2001:db8:1::/48", true},
      {"v6 /48 miss", {"2001:db8:1::/48"}, {}, "ip:2001:db8:2::1", ""},
      {"v6 /0", {"::/0"}, {}, "ip:2001:db8::1", "::/0", true},
      {"v6 /0 not v4", {"::/0"}, {}, "ip:192.0.2.1", ""},
      {"v6 host bits set", {"2001:db8::ffff/64"}, {}, "ip:2001:db8::1", "2001:db8::ffff/64", true},
      {"v6 /127", {"2001:db8::/127"}, {}, "ip:2001:db8::1", "2001:db8::/127", true},
      {"v6 /127 miss", {"2001:db8::/127"}, {}, "ip:2001:db8::2", ""},
      {"v6 exception",
       {"2001:db8::/32", "@@2001:db8:ab::/48"},
       {},
       "ip:2001:db8:ab::1",
       "@@2001:db8:ab::/48"},
      {"ip rules not for names", {"192.0.2.1"}, {}, "192.0.2.1", ""},
      // monitor lists: the deciding rule's list action applies
      {"monitor", {}, {"watch.io"}, "www.watch.io", "watch.io", false},
      {"monitor exact beats block",
       {"example.com"},
       {"=www.example.com"},
       "www.example.com",
       "=www.example.com",
       false},
      {"block exact beats monitor",
       {"=www.example.com"},
       {"example.com"},
       "www.example.com",
       "=www.example.com",
       true},
      {"monitor elsewhere",
       {"=www.example.com"},
       {"example.com"},
       "mail.example.com",
       "example.com",
       false},
      {"monitor pattern", {}, {"re:casino"}, "casino.example", "re:casino", false},
      // empty lists
      {"empty lists", {}, {}, "example.com", ""},
  };
  return kCases;
}

class SemanticsTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SemanticsTest, Decides) {
  const Case& c = cases()[GetParam()];
  TempDir dir;
  const std::vector<ListSource> lists = {
      {"blocked", dir.write("blocked.list", c.block), ListAction::kBlock},
      {"watched", dir.write("watched.list", c.monitor), ListAction::kMonitor},
  };
  std::vector<std::string> errors;
  const auto snap = compileSnapshot(lists, &errors);
  ASSERT_NE(snap, nullptr) << (errors.empty() ? "" : errors.front());
  const auto scratch = snap->newScratch();
  const Match m = query(*snap, scratch.get(), c.query);
  EXPECT_EQ(describe(m), c.expect) << c.what << ": " << c.query;
  EXPECT_EQ(m.enforce(), c.enforce) << c.what << ": " << c.query;
  if (m.matched()) {
    EXPECT_EQ(m.monitor(), !m.rule->exception && m.rule->list() == "watched") << c.what;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, SemanticsTest, ::testing::Range(size_t{0}, cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = cases()[info.param].what;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return std::to_string(info.param) + "_" + n;
                         });

TEST(Snapshot, RuleMetadata) {
  TempDir dir;
  const std::string path =
      dir.write("court.list", {"# header", "", "example.com", "  @@=Www.Example.com  # ok"});
  std::vector<std::string> errors;
  const auto snap = compileSnapshot({{"court-2026-17", path, ListAction::kBlock}}, &errors);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->ruleCount(), 2u);
  EXPECT_FALSE(snap->hasIpRules());
  const auto scratch = snap->newScratch();
  const Match a = snap->matchHost("mail.example.com", scratch.get());
  ASSERT_TRUE(a.matched());
  EXPECT_EQ(a.rule->pattern, "example.com");
  EXPECT_EQ(a.rule->list(), "court-2026-17");
  EXPECT_EQ(a.rule->id, "court-2026-17:3");
  EXPECT_EQ(a.rule->file(), path);
  EXPECT_EQ(a.rule->line, 3u);
  EXPECT_EQ(a.rule->kind, RuleKind::kDomain);
  EXPECT_EQ(a.rule->action, ListAction::kBlock);
  EXPECT_FALSE(a.rule->exception);
  EXPECT_TRUE(a.rule->ref.empty());
  const Match b = snap->matchHost("www.example.com", scratch.get());
  ASSERT_TRUE(b.matched());
  EXPECT_EQ(b.rule->pattern, "=Www.Example.com");
  EXPECT_EQ(b.rule->id, "court-2026-17:4");
  EXPECT_EQ(b.rule->line, 4u);
  EXPECT_EQ(b.rule->kind, RuleKind::kExact);
  EXPECT_TRUE(b.rule->exception);
  EXPECT_FALSE(b.enforce());
  EXPECT_FALSE(b.monitor());
}

TEST(Snapshot, DuplicateAcrossListsBlockDecides) {
  TempDir dir;
  const std::vector<ListSource> lists = {
      {"watch", dir.write("w.list", {"dup.com", "10.0.0.0/8", "http://dup.com/x"}),
       ListAction::kMonitor},
      {"court", dir.write("c.list", {"dup.com", "10.0.0.0/8", "http://dup.com/x"}),
       ListAction::kBlock},
      {"court2", dir.write("c2.list", {"dup.com"}), ListAction::kBlock},
  };
  std::vector<std::string> errors;
  const auto snap = compileSnapshot(lists, &errors);
  ASSERT_NE(snap, nullptr);
  const auto scratch = snap->newScratch();
  EXPECT_EQ(snap->matchHost("dup.com", scratch.get()).rule->id, "court:1");
  IpAddr a;
  ASSERT_TRUE(parseIp("10.1.1.1", &a));
  EXPECT_EQ(snap->matchIp(a).rule->id, "court:2");
  EXPECT_EQ(snap->matchUrl("dup.com", "/x", scratch.get()).rule->id, "court:3");
  EXPECT_TRUE(snap->hasIpRules());
}

TEST(Snapshot, EmptyListsAndNoLists) {
  TempDir dir;
  std::vector<std::string> errors;
  auto snap = compileSnapshot({}, &errors);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->ruleCount(), 0u);
  snap = compileSnapshot({{"e", dir.write("e.list", {}), ListAction::kBlock}}, &errors);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->ruleCount(), 0u);
  const auto scratch = snap->newScratch();
  EXPECT_FALSE(snap->matchHost("example.com", scratch.get()).matched());
  EXPECT_FALSE(snap->matchUrl("example.com", "/", scratch.get()).matched());
  EXPECT_FALSE(snap->matchIp(IpAddr()).matched());
  EXPECT_TRUE(errors.empty());
}

TEST(Snapshot, MatchPathIsRobustToOddInput) {
  TempDir dir;
  std::vector<std::string> errors;
  const auto snap = compileSnapshot(
      {{"l", dir.write("l.list", {"example.com", "re:x", "url-re:y", "http://example.com/"}),
        ListAction::kBlock}},
      &errors);
  ASSERT_NE(snap, nullptr);
  const auto scratch = snap->newScratch();
  // Not normalised, empty, too long, empty labels: no crash, no match by accident.
  EXPECT_FALSE(snap->matchHost("", scratch.get()).matched());
  EXPECT_FALSE(snap->matchHost(".", scratch.get()).matched());
  EXPECT_FALSE(snap->matchHost("..com", scratch.get()).matched());
  EXPECT_FALSE(snap->matchHost(std::string(300, 'a'), scratch.get()).matched());
  EXPECT_TRUE(snap->matchHost("a..example.com", scratch.get()).matched());
  EXPECT_FALSE(snap->matchUrl("", "/", scratch.get()).matched());
  EXPECT_TRUE(snap->matchUrl("example.com", std::string(5000, 'q'), scratch.get()).matched());
  // Without a scratch the pattern rules cannot run; the rest still does.
  EXPECT_FALSE(snap->matchHost("x.org", nullptr).matched());
  EXPECT_TRUE(snap->matchHost("www.example.com", nullptr).matched());
  // A scratch of another snapshot is not used for this one's databases.
  const auto other = compileSnapshot({}, &errors);
  const auto other_scratch = other->newScratch();
  EXPECT_FALSE(snap->matchHost("x.org", other_scratch.get()).matched());
  EXPECT_TRUE(snap->matchHost("x.org", scratch.get()).matched());
}

TEST(Snapshot, ManyLabelsAndLongNames) {
  TempDir dir;
  std::vector<std::string> errors;
  std::string deep;
  for (int i = 0; i < 120; ++i) deep += "a.";
  deep += "example.com";  // 251 bytes, 122 labels
  ASSERT_LE(deep.size(), kMaxHostLen);
  const auto snap = compileSnapshot(
      {{"l", dir.write("l.list", {"example.com", "=" + deep}), ListAction::kBlock}}, &errors);
  ASSERT_NE(snap, nullptr);
  const auto scratch = snap->newScratch();
  EXPECT_EQ(snap->matchHost(deep, scratch.get()).rule->pattern, "=" + deep);
  EXPECT_EQ(snap->matchHost("b." + deep.substr(2), scratch.get()).rule->pattern, "example.com");
}

}  // namespace
}  // namespace cordon::rules

namespace cordon::rules {
namespace {

// findSuffixes() reports every listed suffix on a label boundary, shortest first, for
// names of up to kMaxHostLen bytes whose dots fall at every offset of an 8-byte word.
TEST(DomainTable, FindSuffixesAtWordEdges) {
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t shift = 0; shift < 8; ++shift) {
      std::string host(shift + 1, 'x');
      while (host.size() + len + 1 <= kMaxHostLen)
        host += "." + std::string(len, static_cast<char>('a' + len % 26));
      std::vector<size_t> want;  // suffix lengths, shortest first; every other one listed
      DomainTable t;
      size_t k = 0;
      for (size_t pos = host.size(); pos-- > 0;) {
        if (pos != 0 && host[pos - 1] != '.') continue;
        if (k++ % 2 == 0) {
          *t.ruleRef(host.substr(pos), kFlavourDomain) = static_cast<uint32_t>(pos);
          want.push_back(host.size() - pos);
        }
      }
      DomainTable::SuffixHit hits[DomainTable::kMaxLabels];
      const size_t n = t.findSuffixes(host, hits);
      std::vector<size_t> got;
      for (size_t i = 0; i < n; ++i) got.push_back(hits[i].name_len);
      EXPECT_EQ(got, want) << host;
    }
  }
}

// find() against std::unordered_set on a table large enough for full control groups and
// probe sequences that wrap, with names around every length edge of the hash and the
// inline copy (1-8 bytes, 16/17 bytes, labels over 16 bytes) and near misses that differ in
// one byte, in the length, or by a '/' beside a dot.
TEST(DomainTable, AgreesWithSetAtScale) {
  std::mt19937_64 rng(7);
  const auto word = [&rng](size_t len) {
    std::string s;
    for (size_t i = 0; i < len; ++i)
      s.push_back("abcdefghijklmnopqrstuvwxyz0123456789-"[rng() % 37]);
    return s;
  };
  std::unordered_set<std::string> listed;
  std::vector<std::string> names;
  while (names.size() < 200000) {
    std::string n = word(1 + rng() % 20);
    for (size_t labels = rng() % 3; labels > 0; --labels) n += "." + word(1 + rng() % 6);
    if (n.size() <= kMaxHostLen && listed.insert(n).second) names.push_back(n);
  }
  DomainTable t;
  for (size_t i = 0; i < names.size(); ++i)
    *t.ruleRef(names[i], kFlavourDomain) = static_cast<uint32_t>(i);
  ASSERT_EQ(t.size(), names.size());
  t.seal();  // lookups go through the membership filter from here on
  size_t found = 0;
  size_t probed = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const DomainTable::Slot* s = t.find(names[i]);
    ASSERT_NE(s, nullptr) << names[i];
    EXPECT_EQ(t.rule(*s, kFlavourDomain), i);
    std::string near = names[i];
    switch (rng() % 4) {
      case 0:
        near[rng() % near.size()] ^= 0x20;
        break;  // one byte (case or '.'/'\x0e')
      case 1:
        near.push_back('x');
        break;
      case 2:
        near.pop_back();
        break;
      default:
        near.insert(near.begin() + static_cast<long>(rng() % near.size()), '/');
        break;
    }
    if (near.empty() || near.size() > kMaxHostLen) continue;
    ++probed;
    const bool in = listed.count(near) != 0;
    found += in;
    EXPECT_EQ(t.find(near) != nullptr, in) << near;
  }
  EXPECT_GT(probed, 190000u);
  EXPECT_LT(found, probed / 10);  // near misses are mostly not listed
  // A name added after seal() is found: the filter is dropped, not left stale.
  *t.ruleRef("added-after-seal.example", kFlavourDomain) = 7;
  ASSERT_NE(t.find("added-after-seal.example"), nullptr);
  DomainTable::SuffixHit after[DomainTable::kMaxLabels];
  ASSERT_EQ(t.findSuffixes("www.added-after-seal.example", after), 1u);
  // The same after a snapshot round trip (the slot array is rebuilt by rehashing).
  ByteWriter w;
  t.write(&w);
  DomainTable back;
  ByteReader r(w.data());
  ASSERT_TRUE(back.read(&r, static_cast<uint32_t>(names.size())));
  ASSERT_EQ(back.size(), names.size() + 1);  // with added-after-seal.example
  back.seal();
  for (size_t i = 0; i < names.size(); i += 97) {
    const DomainTable::Slot* s = back.find(names[i]);
    ASSERT_NE(s, nullptr) << names[i];
    EXPECT_EQ(back.rule(*s, kFlavourDomain), i);
  }
  EXPECT_EQ(back.find("not-listed.example"), nullptr);
}

// A 32-bit tag is not the name: unlisted names whose tag equals a listed name's (found by
// brute force, ~1 in 20K here) are still not found, because the bytes are compared.
TEST(DomainTable, TagCollisionsAreNotMatches) {
  std::mt19937_64 rng(11);
  const auto word = [&rng](size_t len) {
    std::string s;
    for (size_t i = 0; i < len; ++i) s.push_back("abcdefghijklmnopqrstuvwxyz"[rng() % 26]);
    return s;
  };
  DomainTable t;
  std::unordered_set<uint32_t> tags;
  std::unordered_set<std::string> listed;
  while (listed.size() < 200000) {
    std::string n = word(10) + ".com";  // one length, so a tag collision is also a length one
    if (!listed.insert(n).second) continue;
    *t.ruleRef(n, kFlavourDomain) = 1;
    tags.insert(static_cast<uint32_t>(DomainTable::hashName(n)));
  }
  t.seal();  // a colliding tag passes the filter too (it is keyed by the tag)
  size_t collisions = 0;
  for (size_t i = 0; collisions < 20 && i < 20000000; ++i) {
    std::string q = word(10) + ".com";
    if (!tags.count(static_cast<uint32_t>(DomainTable::hashName(q))) || listed.count(q)) continue;
    ++collisions;
    EXPECT_EQ(t.find(q), nullptr) << q;
    DomainTable::SuffixHit hits[DomainTable::kMaxLabels];
    EXPECT_EQ(t.findSuffixes(q, hits), 0u) << q;
  }
  EXPECT_EQ(collisions, 20u);
}

}  // namespace
}  // namespace cordon::rules
