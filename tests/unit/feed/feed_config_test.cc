// rules[] entries with `url` (feeds) and the top-level `feeds:` section of the config.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "control/config.h"
#include "control/feed/scheduler.h"

namespace cordon {
namespace {

namespace fs = std::filesystem;

class FeedConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cordon-feed-config.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Config load(const std::string& yaml) {
    const std::string p = dir_ + "/cordon.yaml";
    std::ofstream(p) << yaml;
    return loadConfig(p);
  }
  // The ConfigError text of loading `yaml` ("" when it loads).
  std::string error(const std::string& yaml) {
    try {
      load(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(FeedConfigTest, FeedEntryWithDefaults) {
  const Config c = load(
      "rules:\n"
      "  - {name: court, path: court.list}\n"
      "  - {url: \"https://feed.example/registry.jsonl\", format: feed}\n");
  ASSERT_EQ(c.rules.size(), 2u);
  ASSERT_EQ(c.feeds.size(), 1u);
  EXPECT_EQ(c.feeds_cache_dir, "/var/lib/cordon/feeds");
  EXPECT_EQ(c.rules[1].name, "registry");
  EXPECT_EQ(c.rules[1].path, "/var/lib/cordon/feeds/registry.data");
  EXPECT_EQ(c.rules[1].format, rules::ListFormat::kFeed);
  const FeedConfig& f = c.feeds[0];
  EXPECT_EQ(f.list, "registry");
  EXPECT_EQ(f.url, "https://feed.example/registry.jsonl");
  EXPECT_EQ(f.refresh_s, 300u);
  EXPECT_EQ(f.timeout_s, 60u);
  EXPECT_EQ(f.max_bytes, uint64_t{256} << 20);
  EXPECT_EQ(f.pubkey, "");
  EXPECT_EQ(f.signature, "");
}

TEST_F(FeedConfigTest, FeedEntryWithEveryKey) {
  const Config c = load(
      "feeds: {cache_dir: cache}\n"
      "rules:\n"
      "  - {name: registry, url: \"https://feed.example/r.jsonl\", format: feed, refresh: 5m,\n"
      "     pubkey: keys/feed.pub, signature: \"https://sig.example/r.sig\", max_bytes: 64M,\n"
      "     timeout: 1h, action: monitor}\n");
  const FeedConfig& f = c.feeds.at(0);
  EXPECT_EQ(c.feeds_cache_dir, dir_ + "/cache");
  EXPECT_EQ(c.rules[0].path, dir_ + "/cache/registry.data");
  EXPECT_EQ(c.rules[0].action, rules::ListAction::kMonitor);
  EXPECT_EQ(f.refresh_s, 300u);
  EXPECT_EQ(f.timeout_s, 3600u);
  EXPECT_EQ(f.max_bytes, uint64_t{64} << 20);
  EXPECT_EQ(f.pubkey, dir_ + "/keys/feed.pub");
  EXPECT_EQ(f.signature, "https://sig.example/r.sig");

  const auto sources = feed::feedSourcesFromConfig(c);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].dataPath(), c.rules[0].path);
  EXPECT_EQ(sources[0].signatureUrl(), "https://sig.example/r.sig");
  EXPECT_TRUE(static_cast<bool>(sources[0].validate));
}

// ca_file, client_cert, client_key and headers_file: paths relative to the config, checked
// readable at load, handed to the fetcher.
TEST_F(FeedConfigTest, HttpAccessKeys) {
  fs::create_directories(dir_ + "/tls");
  for (const char* f : {"/tls/ca.pem", "/tls/client.pem", "/tls/client.key", "/token"}) {
    std::ofstream(dir_ + f) << "x\n";
  }
  const Config c = load(
      "rules:\n"
      "  - {name: r, url: \"https://feed.example/r.jsonl\", ca_file: tls/ca.pem,\n"
      "     client_cert: tls/client.pem, client_key: tls/client.key, headers_file: token}\n");
  const FeedConfig& f = c.feeds.at(0);
  EXPECT_EQ(f.ca_file, dir_ + "/tls/ca.pem");
  EXPECT_EQ(f.client_cert, dir_ + "/tls/client.pem");
  EXPECT_EQ(f.client_key, dir_ + "/tls/client.key");
  EXPECT_EQ(f.headers_file, dir_ + "/token");
  const auto sources = feed::feedSourcesFromConfig(c);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].access.ca_file, f.ca_file);
  EXPECT_EQ(sources[0].access.client_cert, f.client_cert);
  EXPECT_EQ(sources[0].access.client_key, f.client_key);
  EXPECT_EQ(sources[0].access.headers_file, f.headers_file);

  EXPECT_NE(error("rules:\n  - {name: r, url: \"https://x/r\", ca_file: nope.pem}\n")
                .find("cordon.yaml:2: rules[].ca_file: cannot read " + dir_ +
                      "/nope.pem: No such file or directory"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - {name: r, url: \"https://x/r\", client_key: tls/client.key}\n")
                .find("cordon.yaml:2: rules[].client_key needs rules[].client_cert"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - {name: r, url: \"file:///srv/r\", headers_file: token}\n")
                .find("rules[].headers_file applies only to an http:// or https:// feed"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - {name: r, path: r.list, ca_file: tls/ca.pem}\n")
                .find("rules[].ca_file applies only to a feed ('url')"),
            std::string::npos);
}

TEST_F(FeedConfigTest, SignatureDefaultsToUrlDotSig) {
  const Config c = load(
      "rules:\n  - {name: r, url: \"file:///srv/r.list\", pubkey: /etc/cordon/feed.pub, "
      "refresh: 1h}\n");
  EXPECT_EQ(c.feeds.at(0).signature, "file:///srv/r.list.sig");
  EXPECT_EQ(c.feeds.at(0).refresh_s, 3600u);
}

TEST_F(FeedConfigTest, Errors) {
  struct Case {
    std::string yaml, want;
  };
  const Case cases[] = {
      {"rules:\n  - {name: a, path: a.list, url: \"http://x/a\"}\n",
       "cordon.yaml:2: a rule list needs exactly one of 'path' or 'url'"},
      {"rules:\n  - {name: a}\n", "cordon.yaml:2: a rule list needs 'path' (a file) or 'url'"},
      {"rules:\n  - {name: a, url: \"ftp://x/a\"}\n",
       "cordon.yaml:2: rules[].url must be a file:///, http:// or https:// URL, not 'ftp://x/a'"},
      {"rules:\n  - {name: a, url: \"http://x/a\", refresh: soon}\n",
       "cordon.yaml:2: rules[].refresh must be a duration like 300s"},
      {"rules:\n  - {name: a, url: \"http://x/a\", refresh: 0s}\n",
       "rules[].refresh must be a duration"},
      {"rules:\n  - {name: a, url: \"http://x/a\", timeout: 2h}\n",
       "rules[].timeout must be a duration like 300s, 5m, 1h or 1d, between 1 and 3600 seconds"},
      {"rules:\n  - {name: a, url: \"http://x/a\", max_bytes: lots}\n",
       "cordon.yaml:2: rules[].max_bytes must be a byte count"},
      {"rules:\n  - {name: a, url: \"http://x/a\", signature: \"http://x/a.sig\"}\n",
       "cordon.yaml:2: rules[].signature needs rules[].pubkey"},
      {"rules:\n  - {name: a, path: a.list, refresh: 5m}\n",
       "cordon.yaml:2: rules[].refresh applies only to a feed ('url')"},
      {"rules:\n  - {name: \"../etc\", url: \"http://x/a\"}\n",
       "cordon.yaml:2: feed name '../etc' must be 1-128 letters"},
      {"rules:\n  - {url: \"http://x/\"}\n", "feed name '' must be"},
      {"rules:\n  - {name: a, url: \"http://x/a\", mirror: yes}\n",
       "cordon.yaml:2: unknown key 'rules[].mirror'"},
      {"feeds: {cache: /tmp}\n", "cordon.yaml:1: unknown key 'feeds.cache'"},
      {"rules:\n  - {name: a, url: \"http://x/a\"}\n  - {name: a, url: \"http://x/b\"}\n",
       "duplicate list name 'a'"},
  };
  for (const Case& c : cases) {
    const std::string e = error(c.yaml);
    EXPECT_NE(e.find(c.want), std::string::npos) << c.yaml << " gave: " << e;
  }
}

}  // namespace
}  // namespace cordon
