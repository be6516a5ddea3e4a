// bench_lookup: compile time and matchHost() cost of the domain table at 1K and 1M rules.
//
//   build-rules/bin/bench_lookup [--queries N] [--sizes 1000,1000000]
//
// For each size it writes a list of generated domain rules (a mix of plain, =exact and
// *.subdomain rules of 2-3 labels), times compileSnapshot() on it, then times matchHost()
// over a fixed set of random query names of 2-4 labels, about 5% of which are listed (the
// name itself or a subdomain of it) and the rest unlisted (many sharing the TLDs and
// near-missing listed names). Lookups run in batches; the table shows the median and the
// 99th-percentile batch (ns per lookup) and the ratio 1M/1K. Not a test: run it by hand.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "rules/normalize.h"
#include "rules/snapshot.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kTlds[] = {"com", "net", "org", "ru", "de", "uk",  "info", "io",
                                 "xyz", "fr",  "nl",  "br", "it", "top", "co",   "me"};
constexpr size_t kBatch = 1000;  // lookups per timed batch

std::string label(std::mt19937_64& rng) {
  static constexpr char kAlpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const size_t len = 3 + rng() % 10;
  std::string s;
  for (size_t i = 0; i < len; ++i) s.push_back(kAlpha[rng() % 36]);
  return s;
}

std::string name(std::mt19937_64& rng, size_t labels) {
  std::string s;
  for (size_t i = 0; i + 1 < labels; ++i) s += label(rng) + ".";
  return s + kTlds[rng() % std::size(kTlds)];
}

struct Result {
  size_t rules;
  double compile_ms;
  double median_ns;
  double p99_ns;
  size_t blocked;
};

Result runOne(size_t n_rules, size_t n_queries, const std::string& dir) {
  std::mt19937_64 rng(42 + n_rules);
  std::vector<std::string> listed;
  std::unordered_set<std::string> seen;
  listed.reserve(n_rules);
  const std::string path = dir + "/bench-" + std::to_string(n_rules) + ".list";
  {
    std::ofstream out(path);
    while (listed.size() < n_rules) {
      std::string n = name(rng, 2 + rng() % 2);
      if (!seen.insert(n).second) continue;
      const unsigned r = rng() % 10;
      out << (r == 0 ? "=" : r == 1 ? "*." : "") << n << "\n";
      listed.push_back(std::move(n));
    }
  }
  std::vector<std::string> errors;
  const auto t0 = Clock::now();
  auto snap =
      cordon::rules::compileSnapshot({{"bench", path, cordon::rules::ListAction::kBlock}}, &errors);
  const auto t1 = Clock::now();
  if (!snap) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::exit(2);
  }
  auto scratch = snap->newScratch();

  // Query names live back to back in one buffer, as they would in packet buffers that the
  // parser just read (hot in cache), rather than scattered over the heap.
  std::vector<std::string> owned;
  owned.reserve(n_queries);
  auto& queries = owned;
  for (size_t i = 0; i < n_queries; ++i) {
    const unsigned r = rng() % 100;
    if (r < 5) {  // listed: the name or a subdomain of it
      const std::string& l = listed[rng() % listed.size()];
      queries.push_back(rng() % 2 ? l : label(rng) + "." + l);
    } else if (r < 15) {  // near miss: a listed name with a changed first label
      const std::string& l = listed[rng() % listed.size()];
      queries.push_back(label(rng) + l.substr(l.find('.')));
    } else {
      queries.push_back(name(rng, 2 + rng() % 3));
    }
  }
  std::string arena;
  for (const auto& q : owned) arena += q;
  std::vector<std::string_view> views;
  views.reserve(owned.size());
  for (size_t off = 0, i = 0; i < owned.size(); off += owned[i].size(), ++i) {
    views.emplace_back(arena.data() + off, owned[i].size());
  }
  // Warm up, then time batches.
  size_t blocked = 0;
  for (const auto& q : views) blocked += snap->matchHost(q, scratch.get()).enforce();
  std::vector<double> batch_ns;
  size_t sink = 0;
  for (int round = 0; round < 3; ++round) {
    for (size_t b = 0; b + kBatch <= views.size(); b += kBatch) {
      const auto s = Clock::now();
      for (size_t i = b; i < b + kBatch; ++i) {
        sink += snap->matchHost(views[i], scratch.get()).matched();
      }
      const auto e = Clock::now();
      batch_ns.push_back(std::chrono::duration<double, std::nano>(e - s).count() / kBatch);
    }
  }
  if (sink == 1) std::puts("");  // keep the loop
  std::sort(batch_ns.begin(), batch_ns.end());
  ::unlink(path.c_str());
  return {n_rules, std::chrono::duration<double, std::milli>(t1 - t0).count(),
          batch_ns[batch_ns.size() / 2], batch_ns[batch_ns.size() * 99 / 100], blocked};
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_queries = 1000000;
  std::vector<size_t> sizes = {1000, 1000000};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--queries") {
      n_queries = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--sizes") {
      sizes.clear();
      std::string s = argv[i + 1];
      for (size_t p = 0; p < s.size();) {
        const size_t c = std::min(s.find(',', p), s.size());
        sizes.push_back(std::strtoull(s.substr(p, c - p).c_str(), nullptr, 10));
        p = c + 1;
      }
    } else {
      std::fprintf(stderr, "usage: bench_lookup [--queries N] [--sizes N,N...]\n");
      return 2;
    }
  }
  if (n_queries < kBatch) n_queries = kBatch;
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp ? tmp : "/tmp";
  std::vector<Result> results;
  std::printf("%10s %12s %14s %12s %10s\n", "rules", "compile ms", "median ns/op", "p99 ns/op",
              "blocked %");
  for (size_t n : sizes) {
    const Result r = runOne(n, n_queries, dir);
    std::printf("%10zu %12.1f %14.1f %12.1f %10.2f\n", r.rules, r.compile_ms, r.median_ns, r.p99_ns,
                100.0 * static_cast<double>(r.blocked) / static_cast<double>(n_queries));
    std::fflush(stdout);
    results.push_back(r);
  }
  if (results.size() >= 2) {
    std::printf("ratio %zu/%zu: compile %.1fx, median lookup %.2fx\n", results.back().rules,
                results.front().rules, results.back().compile_ms / results.front().compile_ms,
                results.back().median_ns / results.front().median_ns);
  }
  return 0;
}
