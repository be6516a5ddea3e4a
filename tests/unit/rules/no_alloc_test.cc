// The match path must not allocate (ARCHITECTURE.md: no heap allocation per packet). This
// test replaces the global operator new with a counting one and matches every rule kind.

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "rules/normalize.h"
#include "rules/snapshot.h"
#include "tests/unit/rules/test_lists.h"

namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

// Under AddressSanitizer, memory from before this replacement took effect may be freed here.
extern "C" const char* __asan_default_options() {
  return "alloc_dealloc_mismatch=0";
}

void* operator new(size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace cordon::rules {
namespace {

std::string* g_sink = nullptr;

TEST(NoAllocation, CounterSeesAllocations) {
  g_allocations = 0;
  g_counting = true;
  g_sink = new std::string(100, 'x');
  g_counting = false;
  EXPECT_GE(g_allocations, 1u);
  delete g_sink;
}

TEST(NoAllocation, MatchPathDoesNotAllocate) {
  testing::TempDir dir;
  const std::string list =
      dir.write("all.list", {"example.com", "=exact.org", "*.sub.net", "@@ok.example.com",
                             "http://example.com/path", "@@http://example.com/path/ok",
                             "re:^ads[0-9]+\\.", "@@re:^safe\\.", "url-re:/evil\\.php",
                             "203.0.113.0/24", "2001:db8::/32", "@@203.0.113.7"});
  std::vector<std::string> errors;
  const auto snap = compileSnapshot({{"all", list, ListAction::kBlock}}, &errors);
  ASSERT_NE(snap, nullptr);
  const auto scratch = snap->newScratch();
  IpAddr v4;
  IpAddr v6;
  ASSERT_TRUE(parseIp("203.0.113.9", &v4));
  ASSERT_TRUE(parseIp("2001:db8::1", &v6));
  const char* hosts[] = {"www.example.com", "ok.example.com", "exact.org",   "a.sub.net",
                         "ads1.foo.com",    "safe.x.org",     "nothing.test"};
  const char* paths[] = {"/", "/path/x", "/path/ok", "/a/evil.php?x=1"};

  g_allocations = 0;
  g_counting = true;
  size_t matched = 0;
  for (int round = 0; round < 10; ++round) {
    for (const char* h : hosts) {
      char host[kMaxHostLen + 1];
      const size_t hn = normalizeHost(h, host, sizeof host);
      matched += snap->matchHost({host, hn}, scratch.get()).matched();
      for (const char* p : paths) {
        char path[kMaxUrlPathLen + 1];
        const size_t pn = normalizeUrlPath(p, path, sizeof path);
        matched += snap->matchUrl({host, hn}, {path, pn}, scratch.get()).matched();
      }
    }
    matched += snap->matchIp(v4).matched() + snap->matchIp(v6).matched();
  }
  g_counting = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_GT(matched, 0u);
}

}  // namespace
}  // namespace cordon::rules
