// HTTP/1.x request-head parsing (dataplane/inspect/http/http_request.h).

#include "dataplane/inspect/http/http_request.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::http {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Captured on loopback: what curl 7.88.1 sent to a Python socket listening on 127.0.0.1:18080
// (`s.bind(("127.0.0.1", 18080)); s.listen(); print(repr(c.recv(4096)))`) for
//   curl "http://www.example.com:18080/a/b?q=1" --resolve www.example.com:18080:127.0.0.1
constexpr std::string_view kCurlGet =
    "GET /a/b?q=1 HTTP/1.1\r\nHost: www.example.com:18080\r\nUser-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n\r\n";
//   curl -x http://127.0.0.1:18080 "http://user:pw@proxied.example:8080/x?y"
constexpr std::string_view kCurlProxyGet =
    "GET http://proxied.example:8080/x?y HTTP/1.1\r\nHost: proxied.example:8080\r\n"
    "Authorization: Basic dXNlcjpwdw==\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Proxy-Connection: Keep-Alive\r\n\r\n";
//   curl -p -x http://127.0.0.1:18080 "http://tunnel.example:443/"
constexpr std::string_view kCurlConnect =
    "CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n"
    "User-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n\r\n";

TEST(HttpRequestTest, CapturedCurlGet) {
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(kCurlGet), &r), ParseStatus::kOk);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/a/b?q=1");
  EXPECT_EQ(r.host, "www.example.com");
  EXPECT_EQ(r.path, "/a/b?q=1");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_EQ(r.head_len, kCurlGet.size());
  EXPECT_EQ(r.content_length, 0u);
  EXPECT_FALSE(r.chunked);
}

TEST(HttpRequestTest, CapturedCurlProxyGet) {
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(kCurlProxyGet), &r), ParseStatus::kOk);
  EXPECT_EQ(r.host, "proxied.example");
  EXPECT_EQ(r.path, "/x?y");
  EXPECT_EQ(r.head_len, kCurlProxyGet.size());
}

TEST(HttpRequestTest, CapturedCurlConnect) {
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(kCurlConnect), &r), ParseStatus::kOk);
  EXPECT_EQ(r.method, "CONNECT");
  EXPECT_EQ(r.host, "tunnel.example");
  EXPECT_EQ(r.path, "");
}

TEST(HttpRequestTest, EveryTruncationNeedsMore) {
  for (const std::string_view req : {kCurlGet, kCurlProxyGet, kCurlConnect}) {
    for (size_t n = 0; n < req.size(); ++n) {
      HttpRequest r;
      ASSERT_EQ(parseHttpRequest(bytes(req.substr(0, n)), &r), ParseStatus::kNeedMore)
          << n << ": " << req.substr(0, n);
      if (n > 0) {
        EXPECT_TRUE(looksLikeHttpRequest(bytes(req.substr(0, n)))) << n;
      }
    }
  }
}

TEST(HttpRequestTest, ViewsPointIntoTheInput) {
  const std::string req = "POST /up HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(req), &r), ParseStatus::kOk);
  EXPECT_EQ(r.host.data(), req.data() + req.find("h\r"));
  EXPECT_EQ(r.version_minor, 0);
  EXPECT_EQ(r.content_length, 3u);
  EXPECT_EQ(r.head_len, req.size() - 3);
}

TEST(HttpRequestTest, PipelinedRequestsParseOneAtATime) {
  const std::string two =
      "GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\nGET /2 HTTP/1.1\r\nHost: b.example\r\n\r\n";
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(two), &r), ParseStatus::kOk);
  EXPECT_EQ(r.host, "a.example");
  ASSERT_EQ(parseHttpRequest(bytes(two).subspan(r.head_len), &r), ParseStatus::kOk);
  EXPECT_EQ(r.host, "b.example");
  EXPECT_EQ(r.path, "/2");
}

TEST(HttpRequestTest, HeadOverTheCapIsUnsupported) {
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ";
  req.append(kMaxRequestHeadBytes, 'x');
  HttpRequest r;
  EXPECT_EQ(parseHttpRequest(bytes(req.substr(0, kMaxRequestHeadBytes - 1)), &r),
            ParseStatus::kNeedMore);
  EXPECT_EQ(parseHttpRequest(bytes(req.substr(0, kMaxRequestHeadBytes)), &r),
            ParseStatus::kUnsupported);
  req += "\r\n\r\n";
  EXPECT_EQ(parseHttpRequest(bytes(req), &r), ParseStatus::kUnsupported);
}

TEST(HttpRequestTest, HeadOfExactlyTheCapIsParsed) {
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ";
  req.append(kMaxRequestHeadBytes - req.size() - 4, 'x');
  req += "\r\n\r\n";
  ASSERT_EQ(req.size(), kMaxRequestHeadBytes);
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(req + "body"), &r), ParseStatus::kOk);
  EXPECT_EQ(r.head_len, kMaxRequestHeadBytes);
}

TEST(HttpRequestTest, EmptyInput) {
  HttpRequest r;
  EXPECT_EQ(parseHttpRequest({}, &r), ParseStatus::kNeedMore);
  EXPECT_FALSE(looksLikeHttpRequest({}));
}

struct Case {
  const char* description;
  std::string_view request;
  ParseStatus status;
  std::string_view host = {};
  std::string_view path = {};
  uint64_t content_length = 0;
  bool chunked = false;
};

const Case kCases[] = {
    // Host header handling (RFC 9110 section 7.2).
    {"host name is case-insensitive", "GET / HTTP/1.1\r\nhOsT: a.example\r\n\r\n", ParseStatus::kOk,
     "a.example", "/"},
    {"optional whitespace around the value", "GET / HTTP/1.1\r\nHost: \t a.example \t\r\n\r\n",
     ParseStatus::kOk, "a.example", "/"},
    {"no whitespace at all", "GET / HTTP/1.1\r\nHost:a.example\r\n\r\n", ParseStatus::kOk,
     "a.example", "/"},
    {"port stripped", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", ParseStatus::kOk,
     "a.example", "/"},
    {"empty port stripped", "GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", ParseStatus::kOk,
     "a.example", "/"},
    {"IPv6 literal keeps brackets", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
     ParseStatus::kOk, "[2001:db8::1]", "/"},
    {"IPv6 literal without port", "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", ParseStatus::kOk,
     "[::1]", "/"},
    {"unclosed IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", ParseStatus::kMalformed},
    {"IPv4 host", "GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", ParseStatus::kOk, "192.0.2.1",
     "/"},
    {"case kept (normalised by the matcher)", "GET / HTTP/1.1\r\nHost: WWW.Example.COM\r\n\r\n",
     ParseStatus::kOk, "WWW.Example.COM", "/"},
    {"no Host header", "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", ParseStatus::kOk, "", "/"},
    {"empty Host header", "GET / HTTP/1.1\r\nHost:\r\n\r\n", ParseStatus::kOk, "", "/"},
    {"Host-like header names do not count", "GET / HTTP/1.1\r\nX-Host: a\r\nHostname: b\r\n\r\n",
     ParseStatus::kOk, "", "/"},
    {"space inside the host", "GET / HTTP/1.1\r\nHost: a b.example\r\n\r\n",
     ParseStatus::kMalformed},
    {"same Host twice is harmless", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
     ParseStatus::kOk, "a", "/"},
    {"different Host twice", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
     ParseStatus::kMalformed},
    {"userinfo in Host stripped", "GET / HTTP/1.1\r\nHost: u@a.example\r\n\r\n", ParseStatus::kOk,
     "a.example", "/"},
    // Line endings (RFC 9112 section 2.2).
    {"bare LF line endings", "GET /x HTTP/1.1\nHost: a.example\n\n", ParseStatus::kOk, "a.example",
     "/x"},
    {"mixed line endings", "GET /x HTTP/1.1\r\nHost: a.example\n\r\n", ParseStatus::kOk,
     "a.example", "/x"},
    {"leading empty lines ignored", "\r\n\r\nGET /x HTTP/1.1\r\nHost: a.example\r\n\r\n",
     ParseStatus::kOk, "a.example", "/x"},
    // obs-fold (RFC 9112 section 5.2).
    {"folded header before Host", "GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\nHost: a.example\r\n\r\n",
     ParseStatus::kOk, "a.example", "/"},
    {"Host value on a folded line", "GET / HTTP/1.1\r\nHost:\r\n a.example\r\n\r\n",
     ParseStatus::kOk, "a.example", "/"},
    {"Host value split by a fold", "GET / HTTP/1.1\r\nHost: a\r\n .example\r\n\r\n",
     ParseStatus::kMalformed},
    {"empty fold after Host", "GET / HTTP/1.1\r\nHost: a.example\r\n \r\n\r\n", ParseStatus::kOk,
     "a.example", "/"},
    {"whitespace line before the first header ignored",
     "GET / HTTP/1.1\r\n Host: hidden\r\nHost: a.example\r\n\r\n", ParseStatus::kOk, "a.example",
     "/"},
    // Request-target forms (RFC 9112 section 3.2).
    {"absolute-form overrides Host",
     "GET http://target.example/p?q HTTP/1.1\r\nHost: other.example\r\n\r\n", ParseStatus::kOk,
     "target.example", "/p?q"},
    {"absolute-form with port and no path", "GET http://target.example:81 HTTP/1.1\r\n\r\n",
     ParseStatus::kOk, "target.example", "/"},
    {"absolute-form scheme is case-insensitive", "GET HTTP://T.example/ HTTP/1.1\r\n\r\n",
     ParseStatus::kOk, "T.example", "/"},
    {"absolute-form userinfo stripped",
     "GET http://user:pa@ss@target.example:8080/x HTTP/1.1\r\n\r\n", ParseStatus::kOk,
     "target.example", "/x"},
    {"absolute-form IPv6", "GET http://[2001:db8::2]:8080/x HTTP/1.1\r\n\r\n", ParseStatus::kOk,
     "[2001:db8::2]", "/x"},
    {"absolute-form query without path", "GET http://q.example?x=1 HTTP/1.1\r\n\r\n",
     ParseStatus::kOk, "q.example", "?x=1"},
    {"absolute-form empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
     ParseStatus::kMalformed},
    {"https absolute-form", "GET https://s.example/ HTTP/1.1\r\n\r\n", ParseStatus::kOk,
     "s.example", "/"},
    {"CONNECT authority-form", "CONNECT c.example:443 HTTP/1.1\r\nHost: other\r\n\r\n",
     ParseStatus::kOk, "c.example", ""},
    {"CONNECT IPv6", "CONNECT [2001:db8::3]:443 HTTP/1.1\r\n\r\n", ParseStatus::kOk,
     "[2001:db8::3]", ""},
    {"CONNECT with empty host", "CONNECT :443 HTTP/1.1\r\n\r\n", ParseStatus::kMalformed},
    {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: o.example\r\n\r\n", ParseStatus::kOk, "o.example",
     "*"},
    {"authority-form outside CONNECT", "GET a.example:80 HTTP/1.1\r\n\r\n",
     ParseStatus::kMalformed},
    {"relative target", "GET index.html HTTP/1.1\r\n\r\n", ParseStatus::kMalformed},
    // Request line (RFC 9112 section 3).
    {"all methods: HEAD", "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::kOk, "a", "/h"},
    {"all methods: DELETE", "DELETE /d HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::kOk, "a", "/d"},
    {"all methods: PATCH", "PATCH /p HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::kOk, "a", "/p"},
    {"extension method", "PROPFIND /dav HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::kOk, "a",
     "/dav"},
    {"extra spaces tolerated", "GET   /x   HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::kOk, "a",
     "/x"},
    {"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", ParseStatus::kOk, "", "/"},
    {"HTTP/2.0 is not HTTP/1", "GET / HTTP/2.0\r\n\r\n", ParseStatus::kUnsupported},
    {"HTTP/0.9 has no version", "GET /\r\n\r\n", ParseStatus::kUnsupported},
    {"lower-case version", "GET / http/1.1\r\n\r\n", ParseStatus::kMalformed},
    {"garbage version", "GET / HTTP/1.1x\r\n\r\n", ParseStatus::kMalformed},
    // Invalid per RFC 9112 section 3, but accepted by lenient servers (seen in the nDPI
    // corpus: WebattackRCE, "GET /cgi-bin/...;cat /etc/passwd|?data=Download HTTP/1.1"): the
    // Host must still be read, or the request would pass uninspected.
    {"raw space inside the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus::kOk, "a",
     "/a b"},
    {"raw spaces and a blocked host",
     "GET /x;cat /etc/passwd|?d=1 HTTP/1.1\r\nHost: blocked.example\r\n\r\n", ParseStatus::kOk,
     "blocked.example", "/x;cat /etc/passwd|?d=1"},
    {"method only", "GET\r\n\r\n", ParseStatus::kMalformed},
    {"control byte in the target", "GET /a\x01 HTTP/1.1\r\n\r\n", ParseStatus::kMalformed},
    {"malformed request line is reported before the head ends", "GET / HTTP/9\r\nHost: a",
     ParseStatus::kMalformed},
    // Header lines (RFC 9112 section 5).
    {"header without colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", ParseStatus::kMalformed},
    {"space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseStatus::kMalformed},
    {"empty header name", "GET / HTTP/1.1\r\n: a\r\n\r\n", ParseStatus::kMalformed},
    // Body length (RFC 9112 section 6, RFC 9110 section 8.6).
    {"Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", ParseStatus::kOk,
     "a", "/", 42},
    {"Content-Length name case-insensitive", "POST / HTTP/1.1\r\ncontent-LENGTH: 7\r\n\r\n",
     ParseStatus::kOk, "", "/", 7},
    {"repeated equal Content-Length",
     "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", ParseStatus::kOk, "", "/",
     5},
    {"equal Content-Length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
     ParseStatus::kOk, "", "/", 5},
    {"conflicting Content-Length",
     "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", ParseStatus::kMalformed},
    {"conflicting Content-Length list", "POST / HTTP/1.1\r\nContent-Length: 5,6\r\n\r\n",
     ParseStatus::kMalformed},
    {"negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
     ParseStatus::kMalformed},
    {"empty Content-Length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", ParseStatus::kMalformed},
    {"huge Content-Length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
     ParseStatus::kMalformed},
    {"largest accepted Content-Length",
     "POST / HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\n", ParseStatus::kOk, "", "/",
     999999999999999999ull},
    {"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", ParseStatus::kOk, "", "/",
     0, true},
    {"chunked after gzip", "POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
     ParseStatus::kOk, "", "/", 0, true},
    {"Transfer-Encoding overrides Content-Length",
     "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", ParseStatus::kOk,
     "", "/", 4, true},
};

class HttpTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(HttpTableTest, Parses) {
  const Case& c = GetParam();
  HttpRequest r;
  ASSERT_EQ(parseHttpRequest(bytes(c.request), &r), c.status) << c.description;
  if (c.status != ParseStatus::kOk) return;
  EXPECT_EQ(r.host, c.host) << c.description;
  EXPECT_EQ(r.path, c.path) << c.description;
  EXPECT_EQ(r.content_length, c.content_length) << c.description;
  EXPECT_EQ(r.chunked, c.chunked) << c.description;
  EXPECT_EQ(r.head_len, c.request.size()) << c.description;
  // Every strict prefix waits for more, or is already known to be bad; never kOk.
  for (size_t n = 0; n < c.request.size(); ++n) {
    EXPECT_EQ(parseHttpRequest(bytes(c.request.substr(0, n)), &r), ParseStatus::kNeedMore)
        << c.description << " prefix " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, HttpTableTest, ::testing::ValuesIn(kCases));

struct LooksCase {
  std::string_view bytes;
  bool expected;
};

class LooksLikeHttpRequestTest : public ::testing::TestWithParam<LooksCase> {};

TEST_P(LooksLikeHttpRequestTest, Classifies) {
  EXPECT_EQ(looksLikeHttpRequest(bytes(GetParam().bytes)), GetParam().expected) << GetParam().bytes;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LooksLikeHttpRequestTest,
    ::testing::Values(LooksCase{"GET /", true}, LooksCase{"HEAD /", true},
                      LooksCase{"POST /", true}, LooksCase{"PUT /", true},
                      LooksCase{"DELETE /", true}, LooksCase{"CONNECT h:443", true},
                      LooksCase{"OPTIONS *", true}, LooksCase{"TRACE /", true},
                      LooksCase{"PATCH /", true}, LooksCase{"G", true}, LooksCase{"GE", true},
                      LooksCase{"GET", true}, LooksCase{"OPTI", true}, LooksCase{"P", true},
                      LooksCase{"", false}, LooksCase{"get /", false}, LooksCase{"GET/", false},
                      LooksCase{"GETS /", false}, LooksCase{"GX", false},
                      LooksCase{"PRI * HTTP/2.0", false}, LooksCase{"\x16\x03\x01", false},
                      LooksCase{"GET\t/", false}, LooksCase{"X", false}));

}  // namespace
}  // namespace cordon::http
