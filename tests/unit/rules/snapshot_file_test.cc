// Snapshot files (saveSnapshot/loadSnapshot): a loaded snapshot decides exactly like the one
// that was saved; truncated, corrupted, foreign and non-snapshot files are rejected with a
// clear error; the pattern cache spares a reload that changes only domains its regex compile.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "rules/compiler.h"
#include "rules/pattern_set.h"
#include "rules/snapshot.h"
#include "tests/unit/rules/test_lists.h"

namespace cordon::rules {
namespace {

using testing::TempDir;

const std::vector<std::string> kList = {"example.com",
                                        "=exact.org",
                                        "*.sub.net",
                                        "@@ok.example.com",
                                        "B\xc3\xbc"
                                        "cher.de",
                                        "http://example.com/path",
                                        "@@http://example.com/path/ok",
                                        "re:^ads[0-9]+\\.",
                                        "@@re:^safe\\.",
                                        "url-re:/evil\\.php",
                                        "203.0.113.0/24",
                                        "2001:db8::/32",
                                        "@@203.0.113.7",
                                        "dup.example",
                                        "dup.example"};

std::string readAll(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void writeAll(const std::string& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string describe(const Match& m) {
  if (!m.matched()) return "-";
  return std::string(m.rule->id) + " " + std::string(m.rule->pattern) + " " +
         std::string(m.rule->list()) + " " + std::string(m.rule->file()) + ":" +
         std::to_string(m.rule->line) + (m.enforce() ? " block" : " pass");
}

TEST(SnapshotFile, RoundTripDecidesTheSame) {
  TempDir dir;
  const std::string list = dir.write("all.list", kList);
  const std::string feed = dir.write(
      "feed.jsonl",
      {R"({"id": "r-1", "pattern": "film.test", "reference": "Order 1", "action": "nxdomain", "valid_until": "2030-01-01"})",
       R"({"id": "r-2", "pattern": "sink.test", "a": "192.0.2.1", "rights_holder": "Studio"})",
       R"({"id": "r-3", "pattern": "later.test", "valid_from": "2031-01-01"})"});
  std::vector<std::string> errors;
  CompileOptions o;
  o.now = 1795392000;
  const auto snap =
      compileSnapshot({{"all", list, ListAction::kBlock}, {"feed", feed, ListAction::kMonitor}},
                      &errors, nullptr, o);
  ASSERT_NE(snap, nullptr) << errors[0];
  const std::string file = dir.path() + "/s.snap";
  std::string error;
  ASSERT_TRUE(saveSnapshot(*snap, file, &error)) << error;
  const auto loaded = loadSnapshot(file, &error);
  ASSERT_NE(loaded, nullptr) << error;
  EXPECT_EQ(loaded->ruleCount(), snap->ruleCount());
  EXPECT_EQ(loaded->asOf(), snap->asOf());
  EXPECT_EQ(loaded->nextBoundary(), snap->nextBoundary());
  EXPECT_EQ(loaded->hasIpRules(), snap->hasIpRules());
  const auto s1 = snap->newScratch();
  const auto s2 = loaded->newScratch();
  for (const char* h : {"www.example.com", "ok.example.com", "exact.org", "a.exact.org",
                        "a.sub.net", "sub.net", "ads1.foo.com", "safe.ads1.com", "xn--bcher-kva.de",
                        "nothing.test", "film.test", "sink.test", "later.test", "dup.example"}) {
    EXPECT_EQ(describe(loaded->matchHost(h, s2.get())), describe(snap->matchHost(h, s1.get())))
        << h;
    for (const char* p : {"/", "/path/x", "/path/ok", "/a/evil.php?x=1"}) {
      EXPECT_EQ(describe(loaded->matchUrl(h, p, s2.get())),
                describe(snap->matchUrl(h, p, s1.get())))
          << h << p;
    }
  }
  for (const char* a : {"203.0.113.9", "203.0.113.7", "2001:db8::1", "198.51.100.1"}) {
    IpAddr ip;
    ASSERT_TRUE(parseIp(a, &ip));
    EXPECT_EQ(describe(loaded->matchIp(ip)), describe(snap->matchIp(ip))) << a;
  }
  const Match f = loaded->matchHost("film.test", s2.get());
  EXPECT_EQ(f.ref(), "Order 1");
  EXPECT_EQ(f.policy(), RuleAction::kNxdomain);
  const Match k = loaded->matchHost("sink.test", s2.get());
  ASSERT_NE(k.rule->sinkholeA(), nullptr);
  EXPECT_EQ(ipToString(*k.rule->sinkholeA()), "192.0.2.1");
  EXPECT_EQ(k.rule->meta->rights_holder, "Studio");
  // explain works on a loaded snapshot too (duplicates and inactive rules kept).
  const Explanation ex = explainHost(*loaded, "later.test");
  ASSERT_EQ(ex.candidates.size(), 1u);
  EXPECT_TRUE(ex.candidates[0].lost_because.starts_with("inactive: valid from 2031"));
  const Explanation dup = explainHost(*loaded, "dup.example");
  ASSERT_EQ(dup.candidates.size(), 2u);
  EXPECT_EQ(dup.candidates[1].lost_because, "duplicate of line 14 of the same list");
}

class BrokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> errors;
    const auto snap =
        compileSnapshot({{"all", dir_.write("all.list", kList), ListAction::kBlock}}, &errors);
    ASSERT_NE(snap, nullptr);
    file_ = dir_.path() + "/s.snap";
    std::string error;
    ASSERT_TRUE(saveSnapshot(*snap, file_, &error));
    data_ = readAll(file_);
  }
  std::string loadError(const std::string& data) {
    writeAll(file_, data);
    std::string error;
    EXPECT_EQ(loadSnapshot(file_, &error), nullptr);
    return error;
  }
  TempDir dir_;
  std::string file_;
  std::string data_;
};

TEST_F(BrokenFile, Truncated) {
  EXPECT_EQ(loadError(data_.substr(0, 20)),
            file_ + ": truncated snapshot (20 bytes, shorter than the header)");
  const std::string e = loadError(data_.substr(0, data_.size() - 1));
  EXPECT_TRUE(e.starts_with(file_ + ": truncated snapshot (header says")) << e;
  EXPECT_TRUE(loadError("").starts_with(file_ + ": truncated snapshot"));
}

TEST_F(BrokenFile, EveryFlippedByteIsCaught) {
  // Header bytes give their own errors; every payload byte is covered by the checksum.
  const size_t step = std::max<size_t>(1, data_.size() / 400);
  for (size_t i = 0; i < data_.size(); i += i < 64 ? 1 : step) {
    std::string d = data_;
    d[i] = static_cast<char>(d[i] ^ 0x5a);
    const std::string e = loadError(d);
    EXPECT_FALSE(e.empty()) << "byte " << i;
  }
  std::string d = data_;
  d[d.size() - 3] ^= 1;
  EXPECT_EQ(loadError(d), file_ + ": checksum mismatch (the file is corrupted)");
}

TEST_F(BrokenFile, ForeignFiles) {
  EXPECT_EQ(loadError("example.com\n" + std::string(100, 'x')),
            file_ + ": not a cordon snapshot (bad magic)");
  std::string d = data_;
  d[8] = 99;
  EXPECT_EQ(loadError(d),
            file_ + ": snapshot format version 99, this build reads version 2 (recompile it)");
  d[8] = 1;  // the layout before pattern sets were sharded
  EXPECT_EQ(loadError(d),
            file_ + ": snapshot format version 1, this build reads version 2 (recompile it)");
  std::string error;
  EXPECT_EQ(loadSnapshot(dir_.path() + "/missing.snap", &error), nullptr);
  EXPECT_EQ(error, dir_.path() + "/missing.snap: No such file or directory");
}

// A sharded pattern set decides by the lowest add() index, whatever the shard count, and
// survives write/read with its shards.
TEST(PatternSet, ShardsKeepPrecedenceAndRoundTrip) {
  // add() index: 0 block "b[0-9]", 1 block "a", 2 exception "safe", 3 block "^xa",
  // 4 exception "xsafe", 5 block "ab".
  const auto build = [](PatternSet* p, size_t shards) {
    p->add("b[0-9]", HS_FLAG_DOTALL, 10, false);
    p->add("a", HS_FLAG_DOTALL, 11, false);
    p->add("safe", HS_FLAG_DOTALL, 12, true);
    p->add("^xa", HS_FLAG_DOTALL, 13, false);
    p->add("xsafe", HS_FLAG_DOTALL, 14, true);
    p->add("ab", HS_FLAG_DOTALL, 15, false);
    p->setShardCount(shards);
    int bad = 0;
    std::string msg;
    ASSERT_TRUE(p->compile(&bad, &msg)) << msg;
  };
  const auto decide = [](const PatternSet& p, std::string_view text) {
    hs_scratch_t* s = nullptr;
    EXPECT_TRUE(p.allocScratch(&s));
    uint32_t block = kNoRule;
    uint32_t exception = kNoRule;
    p.scan(text, s, &block, &exception);
    hs_free_scratch(s);
    return std::make_pair(block, exception);
  };
  const std::vector<std::pair<std::string, std::pair<uint32_t, uint32_t>>> cases = {
      {"zzz", {kNoRule, kNoRule}}, {"ab", {11, kNoRule}},  {"xab", {11, kNoRule}},
      {"ab b1", {10, kNoRule}},    {"xa", {11, kNoRule}},  {"a xsafe", {kNoRule, 12}},
      {"xsafe", {kNoRule, 12}},    {"b1ab", {10, kNoRule}}};
  for (size_t shards : {1, 2, 3, 6}) {
    PatternSet p;
    build(&p, shards);
    EXPECT_EQ(p.shards(), shards);
    for (const auto& [text, want] : cases)
      EXPECT_EQ(decide(p, text), want) << text << " " << shards;
    ByteWriter w;
    std::string error;
    ASSERT_TRUE(p.write(&w, &error)) << error;
    PatternSet q;
    ByteReader r(w.data());
    ASSERT_TRUE(q.read(&r, 16, &error)) << error;
    EXPECT_EQ(q.shards(), shards);
    for (const auto& [text, want] : cases)
      EXPECT_EQ(decide(q, text), want) << text << " " << shards;
    hs_scratch_t* s = nullptr;
    ASSERT_TRUE(q.allocScratch(&s));
    EXPECT_EQ(q.scanAll("b1ab safe", s), (std::vector<uint32_t>{10, 11, 12, 15}));
    hs_free_scratch(s);
  }
  EXPECT_EQ(PatternSet::shardCount(10000, 2), 2u);
  EXPECT_EQ(PatternSet::shardCount(10000, 64), 2u);
  EXPECT_EQ(PatternSet::shardCount(100000, 64), PatternSet::kMaxShards);
  EXPECT_EQ(PatternSet::shardCount(600, 64), 1u);
  EXPECT_EQ(PatternSet::shardCount(10000, 0), 1u);
}

TEST(PatternCache, DomainOnlyReloadReusesRegexDatabases) {
  TempDir dir;
  const std::string pats = dir.write("p.list", {"re:^ads[0-9]+\\.", "url-re:/evil\\.php"});
  std::string dom = dir.write("d.list", {"a.test"});
  PatternCache cache;
  CompileOptions o;
  o.cache = &cache;
  std::vector<std::string> errors;
  CompileStats stats;
  const std::vector<ListSource> lists = {{"d", dom, ListAction::kBlock},
                                         {"p", pats, ListAction::kBlock}};
  ASSERT_NE(compileSnapshot(lists, &errors, &stats, o), nullptr);
  EXPECT_EQ(stats.patterns_reused, 0u);
  dir.write("d.list", {"a.test", "b.test", "c.test"});  // rule indices of the regexes shift
  const auto snap = compileSnapshot(lists, &errors, &stats, o);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(stats.patterns_reused, 2u);
  const auto s = snap->newScratch();
  EXPECT_EQ(snap->matchHost("ads7.x.org", s.get()).rule->pattern, "re:^ads[0-9]+\\.");
  EXPECT_EQ(snap->matchUrl("x.org", "/a/evil.php", s.get()).rule->id, "p:2");
  dir.write("p.list", {"re:^ads[0-9]+\\.", "url-re:/other\\.php"});
  ASSERT_NE(compileSnapshot(lists, &errors, &stats, o), nullptr);
  EXPECT_EQ(stats.patterns_reused, 1u);  // re: unchanged, url-re: recompiled
}

}  // namespace
}  // namespace cordon::rules
