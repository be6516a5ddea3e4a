// Feed fetching end to end against a local HTTP server on 127.0.0.1 (http_server.h) and
// file:// sources: conditional requests, signatures, limits, bad content, the last good copy.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/feed/fetcher.h"
#include "control/feed/scheduler.h"
#include "control/feed/signature.h"
#include "tests/unit/feed/files.h"
#include "tests/unit/feed/http_server.h"

namespace cordon::feed {
namespace {

using test::Request;
using test::Response;
using test::TestHttpServer;
namespace fs = std::filesystem;

const std::string kList = "# court order 2026-17\nexample.com\n=exact.example\n*.wild.example\n";
const std::string kList2 = kList + "second.example\n";

using test::readFile;
using test::writeFile;

// An Ed25519 key pair made with OpenSSL; the public half is written as PEM to `pub_path`.
class Key {
 public:
  explicit Key(const std::string& pub_path) : pub_path_(pub_path) {
    key_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    FILE* f = std::fopen(pub_path.c_str(), "w");
    PEM_write_PUBKEY(f, key_);
    std::fclose(f);
  }
  ~Key() { EVP_PKEY_free(key_); }
  std::string sign(const std::string& data) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char sig[64];
    size_t len = sizeof sig;
    EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_);
    EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(data.data()),
                   data.size());
    EVP_MD_CTX_free(ctx);
    return std::string(reinterpret_cast<char*>(sig), len);
  }
  const std::string& pub() const { return pub_path_; }

 private:
  std::string pub_path_;
  EVP_PKEY* key_;
};

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    char tmpl[] = "/tmp/cordon-feed-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    key_ = std::make_unique<Key>(dir_ + "/feed.pub");
    other_ = std::make_unique<Key>(dir_ + "/other.pub");
  }
  void TearDown() override { fs::remove_all(dir_); }

  FeedSource source(const std::string& url, bool signed_feed = false) {
    FeedSource s;
    s.name = "registry";
    s.url = url;
    s.cache_dir = dir_ + "/cache";
    if (signed_feed) s.pubkey_path = key_->pub();
    return s;
  }
  // Serves kList with an ETag and its signature, then fetches once: the cache holds kList.
  FeedSource seeded(TestHttpServer* srv) {
    srv->serve("/list", kList, "text/plain", "\"v1\"");
    srv->serve("/list.sig", key_->sign(kList), "application/octet-stream");
    FeedSource s = source(srv->url("/list"), true);
    const FetchResult r = FeedFetcher().fetch(s);
    EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
    EXPECT_EQ(readFile(s.dataPath()), kList);
    return s;
  }

  std::string dir_;
  std::unique_ptr<Key> key_, other_;
};

TEST_F(FeedTest, GoodSignedListThenNotModifiedByEtag) {
  TestHttpServer srv;
  const FeedSource s = seeded(&srv);
  CacheMeta m;
  ASSERT_TRUE(readMeta(s.metaPath(), &m));
  EXPECT_EQ(m.etag, "\"v1\"");
  EXPECT_EQ(m.sha256, sha256Hex(kList));
  EXPECT_EQ(m.bytes, kList.size());
  EXPECT_FALSE(m.key.empty());
  EXPECT_GT(m.fetched_at, 0);

  const FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kNotModified) << r.error;
  EXPECT_EQ(r.http_status, 304);
  EXPECT_EQ(r.path, s.dataPath());
  EXPECT_EQ(readFile(s.dataPath()), kList);
  const auto reqs = srv.requests("/list");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("if-none-match"), "");
  EXPECT_EQ(reqs[1].header("if-none-match"), "\"v1\"");
  EXPECT_EQ(srv.requests("/list.sig").size(), 1u);  // not refetched on 304

  FetchResult good;
  std::string err;
  EXPECT_TRUE(FeedFetcher::lastGood(s, &good, &err)) << err;
  EXPECT_EQ(good.meta.sha256, sha256Hex(kList));
}

TEST_F(FeedTest, NewContentReplacesTheCopyAndIfModifiedSinceIsSent) {
  TestHttpServer srv;
  srv.on("/list", [](const Request&) {
    Response r;
    r.body = kList;
    r.headers.push_back({"Last-Modified", "Mon, 23 Nov 2026 20:00:00 GMT"});
    return r;
  });
  FeedSource s = source(srv.url("/list"));
  EXPECT_EQ(FeedFetcher().fetch(s).status, FetchStatus::kUpdated);
  // Same bytes again (no 304 support): not modified, nothing rewritten.
  EXPECT_EQ(FeedFetcher().fetch(s).status, FetchStatus::kNotModified);
  EXPECT_EQ(srv.requests("/list").back().header("if-modified-since"),
            "Mon, 23 Nov 2026 20:00:00 GMT");
  srv.serve("/list", kList2);
  const FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList2);
  EXPECT_EQ(r.meta.sha256, sha256Hex(kList2));
}

TEST_F(FeedTest, Base64SignatureIsAccepted) {
  TestHttpServer srv;
  srv.serve("/list", kList);
  srv.serve("/list.sig", base64Encode(key_->sign(kList)) + "\n");
  const FetchResult r = FeedFetcher().fetch(source(srv.url("/list"), true));
  EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_FALSE(r.meta.signature.empty());
}

TEST_F(FeedTest, SignatureAtAConfiguredUrl) {
  TestHttpServer srv;
  srv.serve("/list", kList);
  srv.serve("/sigs/registry", key_->sign(kList));
  FeedSource s = source(srv.url("/list"), true);
  s.sig_url = srv.url("/sigs/registry");
  EXPECT_EQ(FeedFetcher().fetch(s).status, FetchStatus::kUpdated);
}

TEST_F(FeedTest, HtmlIsRejectedAndTheLastGoodCopyKept) {
  TestHttpServer srv;
  const FeedSource s = seeded(&srv);
  srv.serve("/list", "<html><body>Login</body></html>", "text/html; charset=utf-8");
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("HTML, not a rule list (Content-Type: text/html"), std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("feed 'registry': " + s.url), std::string::npos) << r.error;
  EXPECT_EQ(r.path, s.dataPath());
  EXPECT_EQ(readFile(s.dataPath()), kList);

  // Mislabelled HTML (text/plain) is caught by its first byte.
  srv.serve("/list", "\n  <!DOCTYPE html><html></html>", "text/plain");
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("HTML, not a rule list (the body starts with '<')"), std::string::npos)
      << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
  EXPECT_FALSE(fs::exists(s.cache_dir + "/.registry.data.tmp"));
}

TEST_F(FeedTest, EndlessChunkedBodyIsAbortedAtMaxBytes) {
  TestHttpServer srv;
  const FeedSource seed = seeded(&srv);
  srv.on("/list", [](const Request&) {
    Response r;
    r.mode = Response::Body::kEndlessChunked;
    return r;
  });
  FeedSource s = seed;
  s.max_bytes = 1 << 20;
  const auto t0 = std::chrono::steady_clock::now();
  const FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("body larger than max_bytes (1048576 bytes); transfer aborted"),
            std::string::npos)
      << r.error;
  EXPECT_LE(r.received, s.max_bytes);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(readFile(s.dataPath()), kList);
  EXPECT_FALSE(fs::exists(s.cache_dir + "/.registry.data.tmp"));
}

TEST_F(FeedTest, TenGigabyteContentLengthIsRefusedUpFront) {
  TestHttpServer srv;
  const FeedSource s = seeded(&srv);
  srv.on("/list", [](const Request&) {
    Response r;
    r.mode = Response::Body::kEndlessWithLength;
    r.declared_length = uint64_t{10} << 30;
    return r;
  });
  const FetchResult r = FeedFetcher().fetch(s);  // default max_bytes, 256 MiB
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("body larger than max_bytes (268435456 bytes)"), std::string::npos)
      << r.error;
  EXPECT_EQ(r.received, 0u);
  EXPECT_EQ(readFile(s.dataPath()), kList);
}

TEST_F(FeedTest, WrongKeySignatureIsRejected) {
  TestHttpServer srv;
  const FeedSource s = seeded(&srv);
  srv.serve("/list", kList2, "text/plain", "\"v2\"");
  srv.serve("/list.sig", other_->sign(kList2));
  const FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("does not verify with " + key_->pub()), std::string::npos) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
  CacheMeta m;
  ASSERT_TRUE(readMeta(s.metaPath(), &m));
  EXPECT_EQ(m.etag, "\"v1\"");  // validators of the rejected body are not kept
}

TEST_F(FeedTest, SignatureOverOtherBytesIsRejected) {
  TestHttpServer srv;
  srv.serve("/list", kList2);
  srv.serve("/list.sig", key_->sign(kList));  // right key, altered feed
  const FetchResult r = FeedFetcher().fetch(source(srv.url("/list"), true));
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("wrong key or altered feed"), std::string::npos) << r.error;
  EXPECT_TRUE(r.path.empty());
  EXPECT_FALSE(fs::exists(dir_ + "/cache/registry.data"));
}

TEST_F(FeedTest, MissingOrGarbledSignatureIsRejected) {
  TestHttpServer srv;
  const FeedSource s = seeded(&srv);
  srv.serve("/list", kList2);
  srv.on("/list.sig", [](const Request&) {
    Response r;
    r.status = 404;
    return r;
  });
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("signature " + s.url + ".sig: HTTP 404"), std::string::npos) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);

  srv.serve("/list.sig", "this is not a signature");
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("not an Ed25519 signature"), std::string::npos) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
}

TEST_F(FeedTest, SlowServerTimesOut) {
  TestHttpServer srv;
  const FeedSource seed = seeded(&srv);
  srv.on("/list", [](const Request&) {
    Response r;
    r.mode = Response::Body::kTrickle;
    return r;
  });
  FeedSource s = seed;
  s.timeout_s = 1;
  const auto t0 = std::chrono::steady_clock::now();
  const FetchResult r = FeedFetcher().fetch(s);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("timed out after 1 s"), std::string::npos) << r.error;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(readFile(s.dataPath()), kList);
}

TEST_F(FeedTest, HttpErrorsAndRedirects) {
  TestHttpServer srv;
  const FeedSource s = seeded(&srv);
  srv.on("/list", [](const Request&) {
    Response r;
    r.status = 500;
    return r;
  });
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("HTTP 500"), std::string::npos) << r.error;

  // A redirect to another http URL is followed; one to file:// is refused.
  srv.serve("/moved", kList2);
  srv.serve("/moved.sig", key_->sign(kList2));
  srv.on("/list", [&](const Request&) {
    Response x;
    x.status = 302;
    x.headers.push_back({"Location", srv.url("/moved")});
    return x;
  });
  FeedSource moved = s;
  moved.sig_url = srv.url("/moved.sig");
  r = FeedFetcher().fetch(moved);
  EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList2);

  const std::string secret = dir_ + "/secret";
  writeFile(secret, "example.org\n");
  srv.on("/list", [&](const Request&) {
    Response x;
    x.status = 302;
    x.headers.push_back({"Location", "file://" + secret});
    return x;
  });
  r = FeedFetcher().fetch(moved);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_EQ(readFile(s.dataPath()), kList2);
}

TEST_F(FeedTest, EmptyBodyIsRejected) {
  TestHttpServer srv;
  srv.serve("/list", "");
  const FetchResult r = FeedFetcher().fetch(source(srv.url("/list")));
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("empty body"), std::string::npos) << r.error;
}

TEST_F(FeedTest, ValidatorRejectsAnInvalidList) {
  TestHttpServer srv;
  const FeedSource seed = seeded(&srv);
  std::string bad = kList2 + "badXname.example\n";
  bad[kList2.size() + 3] = '\0';
  srv.serve("/list", bad);
  srv.serve("/list.sig", key_->sign(bad));
  rules::ListSource ls;
  ls.name = "registry";
  FeedSource s = seed;
  s.validate = ruleListValidator(ls);
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("not a valid rule list (1 error; not a text file (NUL byte"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);

  // An invalid entry rejects a strict list (the default) ...
  const std::string typo = kList2 + "bad..name.example\n";
  srv.serve("/list", typo);
  srv.serve("/list.sig", key_->sign(typo));
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("not a valid rule list (format list, 1 error; line 6: invalid domain "
                         "name 'bad..name.example')"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
  // ... and is skipped in a lenient one.
  ls.strict = false;
  s.validate = ruleListValidator(ls);
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), typo);

  srv.serve("/list", kList2);
  srv.serve("/list.sig", key_->sign(kList2));
  EXPECT_EQ(FeedFetcher().fetch(s).status, FetchStatus::kUpdated);
}

TEST_F(FeedTest, FileFeedUsesMtimeAndSize) {
  const std::string src = dir_ + "/court.list";
  writeFile(src, kList);
  writeFile(src + ".sig", base64Encode(key_->sign(kList)));
  FeedSource s = source("file://" + src, true);
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kNotModified) << r.error;

  // A new version with a stale signature is refused; with a fresh one it is taken.
  writeFile(src, kList2);
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("does not verify"), std::string::npos) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
  writeFile(src + ".sig", key_->sign(kList2));
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList2);

  fs::remove(src);
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList2);
}

TEST_F(FeedTest, FileFeedLimitsAndHtml) {
  const std::string src = dir_ + "/big.list";
  writeFile(src, std::string(4096, 'a'));
  FeedSource s = source("file://" + src);
  s.max_bytes = 1000;
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("larger than max_bytes (1000 bytes)"), std::string::npos) << r.error;
  writeFile(src, "<html>\n");
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("HTML, not a rule list"), std::string::npos) << r.error;
  EXPECT_FALSE(fs::exists(s.dataPath()));
}

TEST_F(FeedTest, LastGoodDetectsATamperedCopyAndAnotherKey) {
  TestHttpServer srv;
  FeedSource s = seeded(&srv);
  FetchResult good;
  std::string err;
  ASSERT_TRUE(FeedFetcher::lastGood(s, &good, &err)) << err;
  FeedSource rotated = s;
  rotated.pubkey_path = other_->pub();
  EXPECT_FALSE(FeedFetcher::lastGood(rotated, &good, &err));
  EXPECT_NE(err.find("last good copy is not signed by " + other_->pub()), std::string::npos) << err;
  writeFile(s.dataPath(), kList2);
  EXPECT_FALSE(FeedFetcher::lastGood(s, &good, &err));
  EXPECT_NE(err.find("does not match its metadata"), std::string::npos) << err;
}

TEST_F(FeedTest, BadPublicKeyFile) {
  writeFile(dir_ + "/bad.pub", "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n");
  FeedSource s = source("file://" + dir_ + "/x.list", true);
  s.pubkey_path = dir_ + "/bad.pub";
  writeFile(dir_ + "/x.list", kList);
  const FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find(dir_ + "/bad.pub: not a PEM public key"), std::string::npos) << r.error;
}

// ---- the scheduler cordond drives --------------------------------------------------------

TEST_F(FeedTest, PrepareFetchesAndPointsTheListAtTheCache) {
  TestHttpServer srv;
  srv.serve("/list", kList);
  srv.serve("/list.sig", key_->sign(kList));
  FeedSource s = source(srv.url("/list"), true);
  std::vector<rules::ListSource> lists(2);
  lists[0].name = "local";
  lists[0].path = "/etc/cordon/local.list";
  lists[1].name = "registry";
  FeedScheduler sched({s});
  std::vector<std::string> warnings;
  std::string err;
  ASSERT_TRUE(sched.prepare(&lists, &warnings, &err)) << err;
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(lists[0].path, "/etc/cordon/local.list");
  EXPECT_EQ(lists[1].path, s.dataPath());
  EXPECT_EQ(readFile(lists[1].path), kList);
  const auto st = sched.status();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].result, "updated");
  EXPECT_EQ(st[0].bytes, kList.size());
  EXPECT_EQ(st[0].sha256, sha256Hex(kList));
  EXPECT_TRUE(st[0].verified);
  const std::string json = sched.statusJson();
  EXPECT_NE(json.find("\"name\":\"registry\",\"url\":\"" + s.url +
                      "\",\"result\":\"updated\","
                      "\"error\":null"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"sha256\":\"" + sha256Hex(kList) + "\",\"verified\":true"),
            std::string::npos)
      << json;
  const std::string prom = sched.prometheus();
  EXPECT_NE(prom.find("cordon_feed_bytes{feed=\"registry\"} " + std::to_string(kList.size())),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("cordon_feed_failures_total{feed=\"registry\"} 0"), std::string::npos);
}

TEST_F(FeedTest, ServerDownAtStartUsesTheLastGoodCopy) {
  FeedSource s;
  {
    TestHttpServer srv;
    s = seeded(&srv);
  }  // the server is gone; its port refuses connections
  std::vector<rules::ListSource> lists(1);
  lists[0].name = "registry";
  FeedScheduler sched({s});
  std::vector<std::string> warnings;
  std::string err;
  ASSERT_TRUE(sched.prepare(&lists, &warnings, &err)) << err;
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("using the last good copy"), std::string::npos) << warnings[0];
  EXPECT_EQ(lists[0].path, s.dataPath());
  EXPECT_EQ(sched.status()[0].result, "cached");
  EXPECT_FALSE(sched.status()[0].error.empty());
}

TEST_F(FeedTest, ServerDownAtStartWithoutACopyFails) {
  uint16_t port;
  {
    TestHttpServer srv;
    port = srv.port();
  }
  FeedSource s = source("http://127.0.0.1:" + std::to_string(port) + "/list");
  std::vector<rules::ListSource> lists(1);
  lists[0].name = "registry";
  FeedScheduler sched({s});
  std::vector<std::string> warnings;
  std::string err;
  EXPECT_FALSE(sched.prepare(&lists, &warnings, &err));
  EXPECT_NE(err.find("feed 'registry': " + s.url), std::string::npos) << err;
  EXPECT_NE(err.find("no usable last good copy (feed 'registry': no last good copy in"),
            std::string::npos)
      << err;
}

TEST_F(FeedTest, RotatedKeyAndServerDownRefusesTheOldCopy) {
  FeedSource s;
  {
    TestHttpServer srv;
    s = seeded(&srv);
  }
  s.pubkey_path = other_->pub();
  std::vector<rules::ListSource> lists;
  FeedScheduler sched({s});
  std::vector<std::string> warnings;
  std::string err;
  EXPECT_FALSE(sched.prepare(&lists, &warnings, &err));
  EXPECT_NE(err.find("is not signed by " + other_->pub()), std::string::npos) << err;
}

TEST_F(FeedTest, PollFetchesInTheBackgroundAndReportsChanges) {
  TestHttpServer srv;
  srv.serve("/list", kList, "text/plain", "\"v1\"");
  FeedSource s = source(srv.url("/list"));
  s.refresh_s = 1;
  FeedScheduler sched({s});
  std::vector<rules::ListSource> lists;
  std::vector<std::string> warnings;
  std::string err;
  ASSERT_TRUE(sched.prepare(&lists, &warnings, &err)) << err;

  auto pollUntil = [&](auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  // Unchanged (304) feeds do not ask for a reload.
  ASSERT_TRUE(pollUntil([&] {
    EXPECT_FALSE(sched.poll());
    return srv.requests("/list").size() >= 2 && sched.status()[0].attempts >= 2;
  }));
  EXPECT_EQ(sched.status()[0].result, "not_modified");

  srv.serve("/list", kList2, "text/plain", "\"v2\"");
  ASSERT_TRUE(pollUntil([&] { return sched.poll(); }));
  EXPECT_EQ(readFile(s.dataPath()), kList2);
  const auto msgs = sched.takeMessages();
  ASSERT_FALSE(msgs.empty());
  EXPECT_NE(msgs.back().find("feed 'registry': updated, " + std::to_string(kList2.size())),
            std::string::npos)
      << msgs.back();

  srv.serve("/list", "<html></html>", "text/html");
  ASSERT_TRUE(pollUntil([&] {
    EXPECT_FALSE(sched.poll());
    return sched.status()[0].result == "failed";
  }));
  const FeedStatus st = sched.status()[0];
  EXPECT_NE(st.error.find("HTML, not a rule list"), std::string::npos) << st.error;
  EXPECT_EQ(st.sha256, sha256Hex(kList2));
  EXPECT_EQ(st.consecutive_failures, 1u);
  EXPECT_EQ(readFile(s.dataPath()), kList2);
}

TEST_F(FeedTest, DestructorCancelsARunningTransfer) {
  TestHttpServer srv;
  srv.on("/list", [](const Request&) {
    Response r;
    r.mode = Response::Body::kTrickle;
    return r;
  });
  FeedSource s = source(srv.url("/list"));
  s.timeout_s = 120;
  const auto t0 = std::chrono::steady_clock::now();
  {
    FeedScheduler sched({s});
    sched.poll();
    while (srv.requests("/list").empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(FeedSignature, DecodeForms) {
  std::string sig, err;
  const std::string raw(64, '\x01');
  EXPECT_TRUE(decodeSignature(raw, &sig, &err));
  EXPECT_EQ(sig, raw);
  EXPECT_TRUE(decodeSignature(" " + base64Encode(raw) + "\r\n", &sig, &err));
  EXPECT_EQ(sig, raw);
  EXPECT_FALSE(decodeSignature(base64Encode(std::string(63, 'x')), &sig, &err));
  EXPECT_FALSE(decodeSignature("", &sig, &err));
  EXPECT_NE(err.find("got 0 bytes"), std::string::npos);
  std::string out;
  EXPECT_TRUE(base64Decode("aGVsbG8", &out));
  EXPECT_EQ(out, "hello");
  EXPECT_FALSE(base64Decode("aGV*bG8=", &out));
}

}  // namespace
}  // namespace cordon::feed
