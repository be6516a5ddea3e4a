// Normalisation tables for rules/normalize.h (the fast-path forms) and the control-plane
// canonicalHost() with IDN conversion.

#include "rules/normalize.h"

#include <gtest/gtest.h>

#include <string>

#include "rules/list_parser.h"

namespace cordon::rules {
namespace {

std::string host(std::string_view in) {
  char buf[kMaxHostLen + 1];
  return std::string(buf, normalizeHost(in, buf, sizeof buf));
}

std::string path(std::string_view in) {
  char buf[kMaxUrlPathLen + 1];
  return std::string(buf, normalizeUrlPath(in, buf, sizeof buf));
}

struct HostCase {
  std::string in;
  std::string out;  // "" = rejected
};

TEST(NormalizeHost, Table) {
  const std::string label63(63, 'a');
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name253.size(), 253u);
  const HostCase cases[] = {
      // case folding, trailing dot
      {"example.com", "example.com"},
      {"Example.COM", "example.com"},
      {"WWW.EXAMPLE.COM.", "www.example.com"},
      {"example.com..", ""},
      {"_dmarc.Example.com", "_dmarc.example.com"},
      {"xn--bcher-kva.de", "xn--bcher-kva.de"},
      // ports
      {"example.com:443", "example.com"},
      {"example.com.:8080", "example.com"},
      {"example.com:", "example.com"},
      {"example.com:80a", ""},
      {"example.com:-1", ""},
      {"192.0.2.1:80", "192.0.2.1"},
      // IPv6 literals
      {"[2001:DB8::1]:443", "2001:db8::1"},
      {"[2001:db8::1]", "2001:db8::1"},
      {"[::1]:", "::1"},
      {"2001:db8::1", "2001:db8::1"},
      {"[2001:db8::1", ""},
      {"[::1]x", ""},
      {"[::1]:8o", ""},
      {"[exa mple]", ""},
      {"[]", ""},
      // empty labels
      {"", ""},
      {".", ""},
      {".example.com", ""},
      {"a..b", ""},
      // bytes no host name carries
      {"exa mple.com", ""},
      {"exa\tmple.com", ""},
      {std::string("exa\0mple.com", 12), ""},
      {"exa\x01mple.com", ""},
      {"exa\x7fmple.com", ""},
      {"exa/mple.com", ""},
      {"user@example.com", ""},
      {"exa%41mple.com", ""},
      {"exa\\mple.com", ""},
      {"b\xc3\xbc"
       "cher.de",
       ""},
      {"example.com?x", ""},
      {"example.com#x", ""},
      // lengths (RFC 1035 section 2.3.4)
      {label63 + ".com", label63 + ".com"},
      {label63 + "a.com", ""},
      {name253, name253},
      {name253 + ".", name253},
      {name253 + "b", ""},
  };
  for (const HostCase& c : cases) EXPECT_EQ(host(c.in), c.out) << "input: '" << c.in << "'";
}

TEST(NormalizeHost, SmallBufferIsRejectedNotOverrun) {
  char buf[8] = {'#', '#', '#', '#', '#', '#', '#', '#'};
  EXPECT_EQ(normalizeHost("example.com", buf, 4), 0u);
  EXPECT_EQ(buf[4], '#');
  EXPECT_EQ(normalizeHost("a.b", buf, 0), 0u);
}

struct PathCase {
  std::string in;
  std::string out;
};

TEST(NormalizeUrlPath, Table) {
  const PathCase cases[] = {
      {"", "/"},
      {"/", "/"},
      {"/index.html", "/index.html"},
      // dot segments (RFC 3986 section 5.2.4)
      {"/a/b/../c/./d", "/a/c/d"},
      {"/a/..", "/"},
      {"/a/.", "/a/"},
      {"/a/b/..", "/a/"},
      {"/..", "/"},
      {"/.", "/"},
      {"/../../x", "/x"},
      {"/a//b", "/a//b"},
      {"/a//..", "/a/"},
      {"/a/.../b", "/a/.../b"},
      {"/a/..b/c", "/a/..b/c"},
      {"a/b", "/a/b"},
      // percent-decoding of unreserved characters only (RFC 3986 section 2.3)
      {"/%7Euser/%41%62%2d%5F%2E", "/~user/Ab-_."},
      {"/%2e%2E/x", "/x"},
      {"/a/%2e/b", "/a/b"},
      {"/a%2fb", "/a%2Fb"},
      {"/a%2Fb/../c", "/c"},
      {"/%20%3c", "/%20%3C"},
      {"/%c3%bc", "/%C3%BC"},
      {"/x%zz%4", "/x%zz%4"},
      {"/x%", "/x%"},
      // query: decoded like the path, but no dot-segment removal
      {"/p?q=%41%2f&r=/../", "/p?q=A%2F&r=/../"},
      {"?x=1", "/?x=1"},
      {"/a/../?", "/?"},
      // a fragment is dropped
      {"/p#frag", "/p"},
      {"/p?q#frag", "/p?q"},
  };
  for (const PathCase& c : cases) EXPECT_EQ(path(c.in), c.out) << "input: '" << c.in << "'";
}

TEST(NormalizeUrlPath, TruncatesToCap) {
  char buf[16];
  const std::string long_path = "/" + std::string(100, 'x');
  EXPECT_EQ(normalizeUrlPath(long_path, buf, 8), 8u);
  EXPECT_EQ(std::string(buf, 8), "/xxxxxxx");
  EXPECT_EQ(normalizeUrlPath("/a?" + std::string(50, 'q'), buf, sizeof buf), sizeof buf);
  EXPECT_EQ(normalizeUrlPath("/a", buf, 0), 0u);
  char big[kMaxUrlPathLen + 1];
  const std::string huge = "/" + std::string(5000, '%');
  EXPECT_EQ(normalizeUrlPath(huge, big, sizeof big), sizeof big);
}

TEST(CanonicalHost, IdnToPunycode) {
  std::string out;
  std::string why;
  ASSERT_TRUE(
      canonicalHost("b\xc3\xbc"
                    "cher.de",
                    &out, &why))
      << why;
  EXPECT_EQ(out, "xn--bcher-kva.de");
  ASSERT_TRUE(
      canonicalHost("B\xc3\x9c"
                    "CHER.DE.",
                    &out, &why))
      << why;
  EXPECT_EQ(out, "xn--bcher-kva.de");
  ASSERT_TRUE(
      canonicalHost("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", &out, &why));
  EXPECT_EQ(out, "xn--r8jz45g.xn--zckzah");
  ASSERT_TRUE(canonicalHost("Example.COM:8080", &out, &why));
  EXPECT_EQ(out, "example.com");
  EXPECT_FALSE(canonicalHost("bad\xff.de", &out, &why));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(canonicalHost("a..b", &out, &why));
}

TEST(IpAddr, ParseAndFormat) {
  IpAddr a;
  ASSERT_TRUE(parseIp("192.0.2.1", &a));
  EXPECT_EQ(a.family, 4);
  EXPECT_EQ(ipToString(a), "192.0.2.1");
  ASSERT_TRUE(parseIp("2001:DB8::1", &a));
  EXPECT_EQ(a.family, 6);
  EXPECT_EQ(ipToString(a), "2001:db8::1");
  EXPECT_FALSE(parseIp("300.1.2.3", &a));
  EXPECT_FALSE(parseIp("example.com", &a));
  EXPECT_FALSE(parseIp("", &a));
  char small[4];
  ASSERT_TRUE(parseIp("192.0.2.1", &a));
  formatIp(a, small, sizeof small);
  EXPECT_EQ(std::string(small), "192");
  EXPECT_EQ(ipToString(IpAddr()), "");
}

}  // namespace
}  // namespace cordon::rules
