// Feeds behind access control: extra request headers (an API token) against the in-test
// HTTP server, and HTTPS with a private CA and a client certificate (mutual TLS) against
// `openssl s_server -WWW` on 127.0.0.1, with keys and certificates made by the openssl CLI.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "control/feed/fetcher.h"
#include "tests/unit/feed/files.h"
#include "tests/unit/feed/http_server.h"

namespace cordon::feed {
namespace {

using test::Request;
using test::Response;
using test::TestHttpServer;
namespace fs = std::filesystem;

const std::string kList = "# court order 2026-17\nexample.com\n=exact.example\n";

using test::readFile;
using test::writeFile;

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    char tmpl[] = "/tmp/cordon-feed-access.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  FeedSource source(const std::string& url) {
    FeedSource s;
    s.name = "registry";
    s.url = url;
    s.cache_dir = dir_ + "/cache";
    s.timeout_s = 10;
    return s;
  }

  std::string dir_;
};

// ---- request headers -------------------------------------------------------------------

TEST_F(AccessTest, HeadersFileCarriesTheToken) {
  TestHttpServer srv;
  srv.on("/list", [](const Request& q) {
    Response r;
    if (q.header("authorization") != "Bearer s3cret") {
      r.status = 401;
      r.body = "no";
    } else {
      r.body = kList;
    }
    return r;
  });
  FeedSource s = source(srv.url("/list"));

  FetchResult r = FeedFetcher().fetch(s);  // no headers: refused
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("HTTP 401"), std::string::npos) << r.error;

  s.access.headers_file = dir_ + "/headers";
  writeFile(s.access.headers_file,
            "# registry API token, rotated monthly\r\nAuthorization: Bearer s3cret\r\n\n"
            "X-Operator:  isp-42  \n");
  r = FeedFetcher().fetch(s);
  ASSERT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);
  const auto reqs = srv.requests("/list");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].header("x-operator"), "isp-42");

  // The file is read at every fetch: a rotated token is used without a restart.
  writeFile(s.access.headers_file, "Authorization: Bearer expired\n");
  r = FeedFetcher().fetch(s, /*unconditional=*/true);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("HTTP 401"), std::string::npos) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);  // the last good copy stays
}

TEST_F(AccessTest, BadHeadersFileFailsTheFetchWithItsLine) {
  TestHttpServer srv;
  srv.serve("/list", kList);
  FeedSource s = source(srv.url("/list"));
  s.access.headers_file = dir_ + "/headers";
  const std::pair<std::string, std::string> cases[] = {
      {"Authorization Bearer x\n", ":1: expected 'Name: value'"},
      {"# token\nBad Name: x\n", ":2: invalid header name"},
      {"X-Token:\n", ":1: empty value"},
      {std::string("X-Token: a\x01z\n"), ":1: control character in the value"},
      {"If-None-Match: \"x\"\n", ":1: header 'If-None-Match' is set by cordon or libcurl"},
      {"Host: other.example\n", ":1: header 'Host' is set by cordon or libcurl"},
      {std::string(70000, 'a'), ": larger than 64 KiB"},
  };
  for (const auto& [text, want] : cases) {
    writeFile(s.access.headers_file, text);
    const FetchResult r = FeedFetcher().fetch(s);
    EXPECT_EQ(r.status, FetchStatus::kFailed);
    EXPECT_NE(r.error.find("headers_file " + s.access.headers_file + want), std::string::npos)
        << r.error << "\n want " << want;
  }
  fs::remove(s.access.headers_file);
  const FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
  EXPECT_TRUE(srv.requests("/list").empty());  // nothing was sent without the headers
}

// ---- HTTPS with a private CA and mutual TLS ----------------------------------------------

bool run(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA;
// plus a second, unrelated CA.
struct Pki {
  explicit Pki(const std::string& d) : dir(d) {
    const std::string o = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    ok = run(o + "-keyout " + d + "/ca.key -out " + d + "/ca.pem -days 2 -subj /CN=test-ca") &&
         run(o + "-keyout " + d + "/other-ca.key -out " + d +
             "/other-ca.pem -days 2 -subj /CN=other-ca") &&
         leaf("server", "-addext subjectAltName=IP:127.0.0.1") && leaf("client", "");
  }
  bool leaf(const std::string& name, const std::string& ext) {
    const std::string d = dir + "/" + name;
    return run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d +
               ".key -out " + d + ".csr -subj /CN=" + name + " " + ext) &&
           run("openssl x509 -req -in " + d + ".csr -CA " + dir + "/ca.pem -CAkey " + dir +
               "/ca.key -CAcreateserial -days 2 -copy_extensions copy -out " + d + ".pem");
  }
  std::string dir;
  bool ok = false;
};

// `openssl s_server -WWW` serving files from `root`, requiring a client certificate signed
// by the test CA. Killed with its process group on destruction.
class TlsServer {
 public:
  TlsServer(const Pki& pki, const std::string& root) : port_(freePort()) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      if (::chdir(root.c_str()) != 0) _exit(127);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const std::string accept = "127.0.0.1:" + std::to_string(port_);
      const std::string cert = pki.dir + "/server.pem";
      const std::string key = pki.dir + "/server.key";
      const std::string ca = pki.dir + "/ca.pem";
      ::execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert", cert.c_str(),
               "-key", key.c_str(), "-CAfile", ca.c_str(), "-Verify", "1", "-verify_return_error",
               "-WWW", static_cast<char*>(nullptr));
      _exit(127);
    }
    // Ready when it accepts a connection.
    for (int i = 0; i < 100 && !ready_; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port_);
      ready_ = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  std::string url(const std::string& file) const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/" + file;
  }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

TEST_F(AccessTest, HttpsWithPrivateCaAndClientCertificate) {
  Pki pki(dir_);
  ASSERT_TRUE(pki.ok) << "openssl CLI could not make the test certificates";
  fs::create_directories(dir_ + "/www");
  writeFile(dir_ + "/www/registry.list", kList);
  TlsServer srv(pki, dir_ + "/www");
  ASSERT_TRUE(srv.ready()) << "openssl s_server did not start";

  FeedSource s = source(srv.url("registry.list"));
  // The system CA store does not know the test CA.
  FetchResult r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;

  // The wrong CA.
  s.access.ca_file = pki.dir + "/other-ca.pem";
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;

  // The right CA, but no client certificate: the server refuses the handshake.
  s.access.ca_file = pki.dir + "/ca.pem";
  r = FeedFetcher().fetch(s);
  EXPECT_EQ(r.status, FetchStatus::kFailed) << "served without a client certificate";
  EXPECT_FALSE(fs::exists(s.dataPath()));

  // Everything: the list arrives.
  s.access.client_cert = pki.dir + "/client.pem";
  s.access.client_key = pki.dir + "/client.key";
  r = FeedFetcher().fetch(s);
  ASSERT_EQ(r.status, FetchStatus::kUpdated) << r.error;
  EXPECT_EQ(readFile(s.dataPath()), kList);

  // A client certificate the CA did not sign is refused too.
  s.access.client_cert = pki.dir + "/other-ca.pem";
  s.access.client_key = pki.dir + "/other-ca.key";
  r = FeedFetcher().fetch(s, /*unconditional=*/true);
  EXPECT_EQ(r.status, FetchStatus::kFailed);
  EXPECT_EQ(readFile(s.dataPath()), kList);
}

}  // namespace
}  // namespace cordon::feed
