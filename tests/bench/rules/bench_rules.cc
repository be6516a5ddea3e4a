// bench_rules: the scale goals of rules/ (issue #3) on generated lists.
//
//   bench_rules domains N          compile N domain rules; snapshot file and memory per domain;
//                                  load time of the file; reload reusing the pattern cache
//   bench_rules mixed N U R        N domains + U URL-prefix rules + R regexes (url-re:/re:);
//                                  compile (with the time of each phase), then a reload
//                                  with changed domains only; BENCH_PATTERN_SHARDS=K forces
//                                  K shards per regex set (default: by core share),
//                                  BENCH_PATTERN_SERIAL=1 compiles the two sets in turn
//   bench_rules lookup N,N...      matchHost() median/p99 ns per size (random names, ~5% hit)
//   bench_rules hs-literal N       a Hyperscan literal database (hs_compile_lit_multi) of
//                                  N of the same domains, for comparison
//
// Each mode prints "key value" lines; scripts/bench-rules.sh runs one mode per process so
// that peak RSS (measured there with /usr/bin/time) belongs to one scenario.

#include <hs/hs.h>
#include <sys/stat.h>
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

#include "rules/compiler.h"
#include "rules/pattern_set.h"
#include "rules/snapshot.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace r = cordon::rules;

constexpr const char* kTlds[] = {"com", "net", "org", "ru", "de", "uk",  "info", "io",
                                 "xyz", "fr",  "nl",  "br", "it", "top", "co",   "me"};

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

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

std::string tmpDir() {
  const char* t = std::getenv("TMPDIR");
  return t ? t : "/tmp";
}

// n distinct names of 2-3 labels, 80% plain, 10% =exact, 10% *.subdomains.
std::vector<std::string> genDomains(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  out.reserve(n);
  seen.reserve(n * 2);
  while (out.size() < n) {
    std::string s = name(rng, 2 + rng() % 2);
    if (seen.insert(s).second) out.push_back(std::move(s));
  }
  return out;
}

std::string writeDomains(const std::vector<std::string>& names, const std::string& tag) {
  const std::string path = tmpDir() + "/bench-rules-" + tag + ".list";
  std::ofstream out(path);
  for (size_t i = 0; i < names.size(); ++i) {
    const unsigned k = i % 10;
    out << (k == 0 ? "=" : k == 1 ? "*." : "") << names[i] << "\n";
  }
  return path;
}

long fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

std::shared_ptr<const r::Snapshot> compile(const std::vector<r::ListSource>& lists,
                                           r::CompileStats* stats, r::PatternCache* cache,
                                           double* ms) {
  std::vector<std::string> errors;
  r::CompileOptions o;
  o.cache = cache;
  // BENCH_PATTERN_SHARDS=1 compiles each regex set as one database (the layout before
  // sharding), for a before/after comparison in one run.
  if (const char* k = std::getenv("BENCH_PATTERN_SHARDS")) {
    o.pattern_shards = std::strtoull(k, nullptr, 10);
  }
  // BENCH_PATTERN_SERIAL=1: the re: and url-re: sets one after the other (as before).
  o.serial_patterns = std::getenv("BENCH_PATTERN_SERIAL") != nullptr;
  const auto t0 = Clock::now();
  auto snap = r::compileSnapshot(lists, &errors, stats, o);
  *ms = msSince(t0);
  if (!snap) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::exit(2);
  }
  return snap;
}

int modeDomains(size_t n) {
  const auto names = genDomains(n, 42);
  const std::string list = writeDomains(names, "domains");
  r::CompileStats stats;
  r::PatternCache cache;
  double ms = 0;
  auto snap = compile({{"bench", list, r::ListAction::kBlock}}, &stats, &cache, &ms);
  std::printf("domains %zu\ncompile_ms %.1f\n", n, ms);
  std::printf("phase_parse_ms %.1f\nphase_materialise_ms %.1f\n", stats.parse_ms,
              stats.materialise_ms);
  std::printf("memory_bytes_per_domain %.1f\n",
              static_cast<double>(r::snapshotMemoryBytes(*snap)) / static_cast<double>(n));
  const std::string file = tmpDir() + "/bench-rules-domains.snap";
  std::string err;
  auto t0 = Clock::now();
  if (!r::saveSnapshot(*snap, file, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  std::printf("save_ms %.1f\n", msSince(t0));
  std::printf("file_bytes_per_domain %.1f\n",
              static_cast<double>(fileSize(file)) / static_cast<double>(n));
  std::printf("list_bytes_per_domain %.1f\n",
              static_cast<double>(fileSize(list)) / static_cast<double>(n));
  snap.reset();
  t0 = Clock::now();
  auto loaded = r::loadSnapshot(file, &err);
  std::printf("load_ms %.1f\n", msSince(t0));
  if (!loaded || loaded->ruleCount() != n) {
    std::fprintf(stderr, "load failed: %s\n", err.c_str());
    return 2;
  }
  ::unlink(file.c_str());
  ::unlink(list.c_str());
  return 0;
}

int modeMixed(size_t n, size_t urls, size_t regexes) {
  const auto names = genDomains(n + urls / 4, 43);
  const std::vector<std::string> domains(names.begin(), names.begin() + static_cast<long>(n));
  const std::string dlist = writeDomains(domains, "mixed-domains");
  std::mt19937_64 rng(7);
  const std::string plist = tmpDir() + "/bench-rules-mixed-patterns.list";
  {
    std::ofstream out(plist);
    for (size_t i = 0; i < urls; ++i) {  // ~4 paths per host
      out << "http://" << names[n + i / 4] << "/" << label(rng) << "/" << label(rng) << "\n";
    }
    // Regexes as court registries write them: URL shapes with a numeric id, host shapes with
    // a numbered label. Half url-re:, half re:.
    for (size_t i = 0; i < regexes; ++i) {
      if (i % 2) {
        out << "url-re:^" << label(rng) << "\\." << kTlds[rng() % 16] << "/(video|watch)/[0-9]+/"
            << label(rng) << "\n";
      } else {
        out << "re:^" << label(rng) << "[0-9]+\\." << label(rng) << "\\." << kTlds[rng() % 16]
            << "$\n";
      }
    }
  }
  r::PatternCache cache;
  r::CompileStats stats;
  double ms = 0;
  const std::vector<r::ListSource> lists = {{"domains", dlist, r::ListAction::kBlock},
                                            {"patterns", plist, r::ListAction::kBlock}};
  auto snap = compile(lists, &stats, &cache, &ms);
  std::printf("domains %zu\nurl_rules %zu\nregexes %zu\ncompile_ms %.1f\n", n, urls, regexes, ms);
  std::printf("rules %zu\n", snap->ruleCount());
  std::printf(
      "phase_parse_ms %.1f\nphase_host_re_ms %.1f\nphase_url_re_ms %.1f\n"
      "phase_url_prefix_ms %.1f\nphase_materialise_ms %.1f\n",
      stats.parse_ms, stats.host_re_ms, stats.url_re_ms, stats.url_prefix_ms, stats.materialise_ms);
  {
    // matchHost()/matchUrl() on names that no domain rule decides: the regex sets are
    // scanned (every shard of a set, when nothing matches).
    auto scratch = snap->newScratch();
    std::vector<std::string> qs;
    for (int i = 0; i < 100000; ++i) qs.push_back(name(rng, 2 + rng() % 2));
    size_t hits = 0;
    std::vector<double> host_ns;
    std::vector<double> url_ns;
    for (size_t b = 0; b + 1000 <= qs.size(); b += 1000) {
      auto t0 = Clock::now();
      for (size_t i = b; i < b + 1000; ++i) hits += snap->matchHost(qs[i], scratch.get()).matched();
      host_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / 1000);
      t0 = Clock::now();
      for (size_t i = b; i < b + 1000; ++i) {
        hits += snap->matchUrl(qs[i], "/video/123/abc", scratch.get()).matched();
      }
      url_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / 1000);
    }
    std::sort(host_ns.begin(), host_ns.end());
    std::sort(url_ns.begin(), url_ns.end());
    std::printf("match_host_median_ns %.1f\nmatch_url_median_ns %.1f\nmatch_hits %zu\n",
                host_ns[host_ns.size() / 2], url_ns[url_ns.size() / 2], hits);
  }
  const std::string file = tmpDir() + "/bench-rules-mixed.snap";
  std::string err;
  if (!r::saveSnapshot(*snap, file, &err)) return 2;
  std::printf("file_mb %.1f\n", static_cast<double>(fileSize(file)) / 1e6);
  auto t0 = Clock::now();
  auto loaded = r::loadSnapshot(file, &err);
  std::printf("load_ms %.1f\n", msSince(t0));
  if (!loaded) return 2;
  loaded.reset();
  snap.reset();
  // Reload after a domain-only change: the regex databases come from the cache.
  {
    std::ofstream out(dlist, std::ios::app);
    out << "newly-added.example\n";
  }
  auto again = compile(lists, &stats, &cache, &ms);
  std::printf("reload_domains_changed_ms %.1f\npattern_dbs_reused %zu\n", ms,
              stats.patterns_reused);
  ::unlink(file.c_str());
  ::unlink(dlist.c_str());
  ::unlink(plist.c_str());
  return 0;
}

int modeLookup(const std::vector<size_t>& sizes, size_t n_queries) {
  constexpr size_t kBatch = 1000;
  std::vector<double> medians;
  for (size_t n : sizes) {
    const auto names = genDomains(n, 42 + n);
    const std::string list = writeDomains(names, "lookup");
    r::CompileStats stats;
    double ms = 0;
    auto snap = compile({{"bench", list, r::ListAction::kBlock}}, &stats, nullptr, &ms);
    ::unlink(list.c_str());
    auto scratch = snap->newScratch();
    std::mt19937_64 rng(99);
    std::string arena;
    std::vector<std::pair<size_t, size_t>> spans;
    for (size_t i = 0; i < n_queries; ++i) {
      const unsigned k = rng() % 100;
      std::string q;
      if (k < 5) {
        const std::string& l = names[rng() % names.size()];
        q = rng() % 2 ? l : label(rng) + "." + l;
      } else if (k < 15) {
        const std::string& l = names[rng() % names.size()];
        q = label(rng) + l.substr(l.find('.'));
      } else {
        q = name(rng, 2 + rng() % 3);
      }
      spans.emplace_back(arena.size(), q.size());
      arena += q;
    }
    size_t hits = 0;
    for (auto [off, len] : spans)
      hits += snap->matchHost({arena.data() + off, len}, scratch.get()).matched();
    std::vector<double> batch;
    for (int round = 0; round < 3; ++round) {
      for (size_t b = 0; b + kBatch <= spans.size(); b += kBatch) {
        const auto t0 = Clock::now();
        for (size_t i = b; i < b + kBatch; ++i) {
          hits += snap->matchHost({arena.data() + spans[i].first, spans[i].second}, scratch.get())
                      .matched();
        }
        batch.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
                        kBatch);
      }
    }
    std::sort(batch.begin(), batch.end());
    const double med = batch[batch.size() / 2];
    medians.push_back(med);
    std::printf("lookup_rules %zu median_ns %.1f p99_ns %.1f hits %zu\n", n, med,
                batch[batch.size() * 99 / 100], hits);
  }
  if (medians.size() >= 2) {
    std::printf("lookup_ratio_largest_vs_smallest %.2f\n", medians.back() / medians.front());
  }
  return 0;
}

int modeHsLiteral(size_t n) {
  const auto names = genDomains(n, 42);
  // Pure literals (hs_compile_lit_multi), as ARCHITECTURE.md measured: the cheapest
  // Hyperscan form, and still no label-boundary or end anchoring.
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  std::vector<unsigned> flags(n, HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS);
  std::vector<unsigned> ids(n);
  for (size_t i = 0; i < n; ++i) {
    ptrs.push_back(names[i].c_str());
    lens.push_back(names[i].size());
    ids[i] = static_cast<unsigned>(i);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const auto t0 = Clock::now();
  if (hs_compile_lit_multi(ptrs.data(), flags.data(), ids.data(), lens.data(),
                           static_cast<unsigned>(n), HS_MODE_BLOCK, nullptr, &db,
                           &err) != HS_SUCCESS) {
    std::fprintf(stderr, "hs_compile_multi: %s\n", err ? err->message : "?");
    return 2;
  }
  const double ms = msSince(t0);
  size_t size = 0;
  hs_database_size(db, &size);
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db, &scratch);
  std::mt19937_64 rng(99);
  std::vector<std::string> qs;
  for (int i = 0; i < 100000; ++i) qs.push_back(name(rng, 2 + rng() % 3));
  size_t hits = 0;
  const auto t1 = Clock::now();
  for (const auto& q : qs) {
    hs_scan(
        db, q.data(), static_cast<unsigned>(q.size()), 0, scratch,
        [](unsigned, unsigned long long, unsigned long long, unsigned, void* c) -> int {
          ++*static_cast<size_t*>(c);
          return 1;
        },
        &hits);
  }
  const double lookup_ns = std::chrono::duration<double, std::nano>(Clock::now() - t1).count() /
                           static_cast<double>(qs.size());
  std::printf("hs_literal_domains %zu\nhs_compile_ms %.1f\nhs_db_bytes %zu\nhs_lookup_ns %.1f\n", n,
              ms, size, lookup_ns);
  hs_free_scratch(scratch);
  hs_free_database(db);
  return 0;
}

std::vector<size_t> parseSizes(const char* s) {
  std::vector<size_t> out;
  std::string str = s;
  for (size_t p = 0; p < str.size();) {
    const size_t c = std::min(str.find(',', p), str.size());
    out.push_back(std::strtoull(str.substr(p, c - p).c_str(), nullptr, 10));
    p = c + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto arg = [&](int i, size_t def) {
    return argc > i ? static_cast<size_t>(std::strtoull(argv[i], nullptr, 10)) : def;
  };
  if (mode == "domains") return modeDomains(arg(2, 1000000));
  if (mode == "mixed") return modeMixed(arg(2, 1000000), arg(3, 100000), arg(4, 10000));
  if (mode == "lookup") {
    return modeLookup(parseSizes(argc > 2 ? argv[2] : "1000,1000000"), arg(3, 1000000));
  }
  if (mode == "hs-literal") return modeHsLiteral(arg(2, 50000));
  std::fprintf(stderr,
               "usage: bench_rules domains N | mixed N URLS REGEXES | lookup N,N [QUERIES] | "
               "hs-literal N\n");
  return 2;
}
