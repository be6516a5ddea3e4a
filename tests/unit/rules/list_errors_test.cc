// Rule-list errors: every bad line is reported as "file:line: reason", all of them at once,
// and compileSnapshot() then returns nullptr.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/compiler.h"
#include "rules/list_parser.h"
#include "tests/unit/rules/test_lists.h"

namespace cordon::rules {
namespace {

using testing::TempDir;

struct BadLine {
  std::string line;
  std::string reason;
};

TEST(ListErrors, ReasonPerLine) {
  const BadLine cases[] = {
      {"bad..com", "invalid domain name 'bad..com'"},
      {".example.com", "invalid domain name '.example.com'"},
      {"exa_mple!.com", "invalid domain name 'exa_mple!.com'"},
      {"=", "invalid domain name ''"},
      {"=bad..com", "invalid domain name 'bad..com'"},
      {"*.", "invalid domain name ''"},
      {"*.bad..com", "invalid domain name 'bad..com'"},
      {"foo*.com",
       "invalid domain name 'foo*.com': '*' only as a leading \"*.\" (use re: for patterns)"},
      {"*.*.com",
       "invalid domain name '*.com': '*' only as a leading \"*.\" (use re: for patterns)"},
      {"example.com:80", "invalid IP address 'example.com:80'"},
      {"a" + std::string(64, 'b') + ".com",
       "invalid domain name 'a" + std::string(64, 'b') + ".com'"},
      {"b\xff.de", "invalid domain name 'b\xff.de': string encoding error"},
      {"exa mple.com", "unexpected whitespace in rule 'exa mple.com'"},
      {"example.com#frag", "invalid domain name 'example.com#frag'"},
      {"@@", "empty exception rule"},
      {"@@  # only a comment", "empty exception rule"},
      {"10.0.0.0/33", "invalid CIDR prefix length"},
      {"10.0.0.0/", "invalid CIDR prefix length"},
      {"10.0.0.0/x", "invalid CIDR prefix length"},
      {"10.0.0.0/-1", "invalid CIDR prefix length"},
      {"10.0.0.0/1.5", "invalid CIDR prefix length"},
      {"2001:db8::/129", "invalid CIDR prefix length"},
      {"300.1.2.3", "invalid IP address '300.1.2.3'"},
      {"10.0.0/8", "invalid IP address '10.0.0'"},
      {"2001:db8:::1", "invalid IP address '2001:db8:::1'"},
      {"re:", "empty regex"},
      {"url-re:", "empty regex"},
      {"re:(", "Hyperscan rejected regex: Missing close parenthesis for group started at index 0."},
      {"url-re:a{2,1}", "Hyperscan rejected regex: Invalid repeat at index 1."},
      {"re:.*",
       "Hyperscan rejected regex: Pattern matches empty buffer; use HS_FLAG_ALLOWEMPTY "
       "to enable support."},
      {"re:(?<=a)b\\1", "Hyperscan rejected regex: Invalid back reference to expression 1."},
      {"ftp://example.com/x", "unsupported URL scheme 'ftp' (http:// or https:// only)"},
      {"http:///path", "URL rule without a host 'http:///path'"},
      {"http://user@example.com/", "URL rule with user info 'http://user@example.com/'"},
      {"http://example.com/a#b",
       "URL rule with a fragment (never sent in a request) 'http://example.com/a#b'"},
      {"http://bad..com/x", "invalid host in URL 'http://bad..com/x'"},
      {"http://example.com/" + std::string(2048, 'x'), "URL rule path longer than 2048 bytes"},
      {"example.com/path",
       "URL rule without a scheme 'example.com/path' (write "
       "http://example.com/path)"},
  };
  for (const BadLine& c : cases) {
    ParsedRule pr;
    std::string reason;
    EXPECT_EQ(parseRuleLine(c.line, &pr, &reason), LineResult::kError) << c.line;
    EXPECT_EQ(reason, c.reason) << c.line;
  }
}

TEST(ListErrors, GoodLinesParse) {
  const std::string good[] = {
      "example.com",
      "=example.com",
      "*.example.com",
      "@@example.com",
      "@@ example.com",
      "xn--bcher-kva.de",
      "_sip._tcp.ex.com",
      "123.example",
      "http://e.com",
      "HTTPS://E.com:8443/a?b=c",
      "http://192.0.2.1/x",
      "re:^",
      "http://[2001:db8::1]:8080/x",
      "re:^a",
      "url-re:a b",
      "192.0.2.1",
      "192.0.2.0/24",
      "2001:db8::/32",
      "::/0",
  };
  for (const std::string& line : good) {
    ParsedRule pr;
    std::string reason;
    const LineResult r = parseRuleLine(line, &pr, &reason);
    EXPECT_NE(r, LineResult::kError) << line << ": " << reason;
  }
}

TEST(ListErrors, FileLineForEveryBadLine) {
  TempDir dir;
  const std::string a = dir.write("a.list", {
                                                "# court order 17",  // 1
                                                "example.com",       // 2
                                                "",                  // 3
                                                "bad..com",          // 4
                                                "10.0.0.0/33",       // 5
                                                "re:(",              // 6
                                                "ok.example",        // 7
                                                "   =also bad..x",   // 8
                                            });
  const std::string b = dir.write("b.list", {"fine.com", "2001:db8::/200"});
  const std::string missing = dir.path() + "/missing.list";
  std::vector<std::string> errors;
  const auto snap = compileSnapshot({{"a", a, ListAction::kBlock},
                                     {"missing", missing, ListAction::kBlock},
                                     {"b", b, ListAction::kMonitor},
                                     {"dir", dir.path(), ListAction::kBlock}},
                                    &errors);
  EXPECT_EQ(snap, nullptr);
  const std::vector<std::string> want = {
      a + ":4: invalid domain name 'bad..com'",
      a + ":5: invalid CIDR prefix length",
      a + ":6: Hyperscan rejected regex: Missing close parenthesis for group started at index 0.",
      a + ":8: unexpected whitespace in rule '=also bad..x'",
      missing + ": No such file or directory",
      b + ":2: invalid CIDR prefix length",
      dir.path() + ": Is a directory",
  };
  EXPECT_EQ(errors, want);
}

TEST(ListErrors, ErrorsAreAppended) {
  TempDir dir;
  std::vector<std::string> errors = {"earlier"};
  EXPECT_EQ(
      compileSnapshot({{"x", dir.write("x.list", {"bad..com"}), ListAction::kBlock}}, &errors),
      nullptr);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "earlier");
  // An earlier error in *errors does not fail a good compile.
  EXPECT_NE(
      compileSnapshot({{"y", dir.write("y.list", {"good.com"}), ListAction::kBlock}}, &errors),
      nullptr);
}

TEST(ListErrors, CrlfBomAndNoFinalNewline) {
  TempDir dir;
  const std::string p = dir.path() + "/crlf.list";
  {
    std::ofstream out(p, std::ios::binary);
    out << "\xef\xbb\xbf"
           "example.com\r\n# c\r\n=exact.org\r\nbad..com";
  }
  std::vector<std::string> errors;
  EXPECT_EQ(compileSnapshot({{"crlf", p, ListAction::kBlock}}, &errors), nullptr);
  EXPECT_EQ(errors, std::vector<std::string>{p + ":4: invalid domain name 'bad..com'"});
}

TEST(ListErrors, StatsCountKinds) {
  TempDir dir;
  const std::string p = dir.write("s.list", {"a.com", "=b.com", "*.c.com", "http://d.com/x", "re:e",
                                             "url-re:f", "192.0.2.0/24", "@@g.com"});
  std::vector<std::string> errors;
  CompileStats stats;
  ASSERT_NE(compileSnapshot({{"s", p, ListAction::kBlock}}, &errors, &stats), nullptr);
  EXPECT_EQ(stats.rules, 8u);
  EXPECT_EQ(stats.lists, 1u);
  EXPECT_EQ(stats.exceptions, 1u);
  EXPECT_EQ(stats.by_kind[static_cast<size_t>(RuleKind::kDomain)], 2u);
  EXPECT_EQ(stats.by_kind[static_cast<size_t>(RuleKind::kIp)], 1u);
  EXPECT_EQ(ruleKindName(RuleKind::kUrlRegex), "url-re");
}

}  // namespace
}  // namespace cordon::rules
