// Property test: random domain lists (plain, =exact, *.subdomains, exceptions, in a block
// and a monitor list) against a naive reference matcher written from the precedence rules
// in rules/snapshot.cc, on random names including near misses. They must agree.

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "rules/list_parser.h"
#include "rules/snapshot.h"
#include "tests/unit/rules/test_lists.h"

namespace cordon::rules {
namespace {

using testing::TempDir;

struct RefRule {
  std::string name;  // normalised
  int flavour;       // 0 exact, 1 subdomains, 2 domain
  bool exception;
  bool block_list;
  std::string id;
};

bool endsWithLabel(const std::string& q, const std::string& n) {
  return q.size() > n.size() && q.compare(q.size() - n.size(), n.size(), n) == 0 &&
         q[q.size() - n.size() - 1] == '.';
}

bool matches(const RefRule& r, const std::string& q) {
  switch (r.flavour) {
    case 0:
      return q == r.name;
    case 1:
      return endsWithLabel(q, r.name);
    default:
      return q == r.name || endsWithLabel(q, r.name);
  }
}

// The reference: scan every rule; exceptions first, then rank (longer name; for one name
// exact > subdomains > domain); for the same name and flavour a block list's rule beats a
// monitor list's, else the first listed.
const RefRule* reference(const std::vector<RefRule>& rules, const std::string& q) {
  const auto rank = [](const RefRule& r) {
    return r.name.size() * 4 + (r.flavour == 0 ? 2 : r.flavour == 1 ? 1 : 0);
  };
  for (const bool exceptions : {true, false}) {
    const RefRule* best = nullptr;
    for (const RefRule& r : rules) {
      if (r.exception != exceptions || !matches(r, q)) continue;
      if (best == nullptr || rank(r) > rank(*best)) {
        best = &r;
      } else if (rank(r) == rank(*best) && !exceptions && r.block_list && !best->block_list) {
        best = &r;
      }
    }
    if (best != nullptr) return best;
  }
  return nullptr;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::string label() {
    static const char* kLabels[] = {"a", "b", "ex", "www", "mail", "cdn", "x-y", "b1"};
    return kLabels[rng_() % std::size(kLabels)];
  }
  std::string name(size_t min_labels, size_t max_labels) {
    static const char* kTlds[] = {"com", "net", "ru"};
    const size_t n = min_labels + rng_() % (max_labels - min_labels + 1);
    std::string s = kTlds[rng_() % std::size(kTlds)];
    for (size_t i = 1; i < n; ++i) s = label() + "." + s;
    return s;
  }
  // A query: a random name, or a near miss of a listed one (glued label, extra or missing
  // label, other TLD), in random case with an optional trailing dot.
  std::string query(const std::vector<RefRule>& rules) {
    std::string q;
    const unsigned kind = rng_() % 6;
    if (rules.empty() || kind == 0) {
      q = name(1, 5);
    } else {
      const std::string& n = rules[rng_() % rules.size()].name;
      switch (kind) {
        case 1:
          q = n;
          break;
        case 2:
          q = label() + "." + n;
          break;
        case 3:
          q = label() + n;  // "wwwex.com": no label boundary
          break;
        case 4:
          q = n.find('.') == std::string::npos ? n : n.substr(n.find('.') + 1);
          break;
        default:
          q = label() + "." + label() + "." + n;
          break;
      }
    }
    return q;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

TEST(Property, DomainTableAgreesWithReference) {
  TempDir dir;
  size_t decided = 0;
  size_t exceptions = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Generator gen(seed);
    std::vector<RefRule> rules;
    std::vector<std::string> lines[2];  // 0 block, 1 monitor
    const size_t n_rules = 1 + gen.rng()() % 40;
    for (size_t i = 0; i < n_rules; ++i) {
      RefRule r;
      r.name = gen.name(1, 3);
      r.flavour = static_cast<int>(gen.rng()() % 3);
      r.exception = gen.rng()() % 5 == 0;
      r.block_list = gen.rng()() % 3 != 0;
      std::string text = (r.flavour == 0 ? "=" : r.flavour == 1 ? "*." : "") + r.name;
      if (gen.rng()() % 4 == 0) {  // the rule side is normalised too
        for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        text += ".";
      }
      if (r.exception) text = "@@" + text;
      std::vector<std::string>& list = lines[r.block_list ? 0 : 1];
      list.push_back(text);
      r.id = std::string(r.block_list ? "block" : "watch") + ":" + std::to_string(list.size());
      rules.push_back(r);
    }
    const std::vector<ListSource> sources = {
        {"watch", dir.write("watch.list", lines[1]), ListAction::kMonitor},
        {"block", dir.write("block.list", lines[0]), ListAction::kBlock},
    };
    // The reference's "first listed" is list order: watch before block.
    std::stable_sort(rules.begin(), rules.end(), [](const RefRule& a, const RefRule& b) {
      return !a.block_list && b.block_list;
    });
    std::vector<std::string> errors;
    const auto snap = compileSnapshot(sources, &errors);
    ASSERT_NE(snap, nullptr) << (errors.empty() ? "" : errors.front());
    const auto scratch = snap->newScratch();
    for (int i = 0; i < 400; ++i) {
      const std::string q = gen.query(rules);
      const RefRule* want = reference(rules, q);
      const Match got = snap->matchHost(q, scratch.get());
      ASSERT_EQ(got.matched(), want != nullptr) << "seed " << seed << " query " << q;
      if (want == nullptr) continue;
      ++decided;
      exceptions += want->exception;
      EXPECT_EQ(got.rule->id, want->id) << "seed " << seed << " query " << q;
      EXPECT_EQ(got.rule->exception, want->exception) << "seed " << seed << " query " << q;
      EXPECT_EQ(got.enforce(), !want->exception && want->block_list) << q;
    }
  }
  // The generator must exercise both outcomes, and exceptions.
  EXPECT_GT(decided, 2000u);
  EXPECT_GT(exceptions, 200u);
}

// HTTP requests against random lists of URL prefixes and domain rules (with exceptions,
// *.wildcards and IDN names written as U-labels), versus a reference written from
// rules/PRECEDENCE.md: the longest matching URL exception, else the best domain exception,
// else the longest URL prefix, else the best domain rule.
TEST(Property, UrlsAndIdnsAgreeWithReference) {
  TempDir dir;
  static const char* kHosts[] = {"a.com", "b.a.com", "m\xc3\xbcnchen.de", "www.m\xc3\xbcnchen.de",
                                 "x.ru"};
  static const char* kSegs[] = {"", "/", "/v", "/v/1", "/v/12", "/w", "/v/1?x=1"};
  size_t decided = 0;
  size_t url_decided = 0;
  size_t exceptions = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    struct R {
      bool url;
      std::string host;  // canonical
      std::string path;  // URL rules
      int flavour;       // domain rules: 0 exact, 1 subdomains, 2 domain
      bool exception;
      std::string id;
    };
    std::vector<R> rules;
    std::vector<std::string> lines;
    std::set<std::string> seen;
    const size_t n = 1 + rng() % 25;
    for (size_t i = 0; i < n; ++i) {
      R r;
      r.url = rng() % 2;
      const std::string written = kHosts[rng() % std::size(kHosts)];
      std::string why;
      ASSERT_TRUE(canonicalHost(written, &r.host, &why));
      r.exception = rng() % 4 == 0;
      std::string text;
      if (r.url) {
        r.path = kSegs[1 + rng() % (std::size(kSegs) - 1)];
        text = "http://" + written + r.path;
      } else {
        r.flavour = static_cast<int>(rng() % 3);
        text = (r.flavour == 0 ? "=" : r.flavour == 1 ? "*." : "") + written;
      }
      if (r.exception) text = "@@" + text;
      if (!seen.insert(text).second) continue;  // the same rule twice: first decides
      lines.push_back(text);
      r.id = "l:" + std::to_string(lines.size());
      rules.push_back(r);
    }
    std::vector<std::string> errors;
    const auto snap =
        compileSnapshot({{"l", dir.write("l.list", lines), ListAction::kBlock}}, &errors);
    ASSERT_NE(snap, nullptr) << (errors.empty() ? "" : errors[0]);
    const auto scratch = snap->newScratch();
    for (int q = 0; q < 300; ++q) {
      std::string host;
      std::string why;
      const std::string sub = rng() % 3 == 0 ? "z." : "";
      ASSERT_TRUE(canonicalHost(sub + kHosts[rng() % std::size(kHosts)], &host, &why));
      std::string path = kSegs[rng() % std::size(kSegs)];
      if (path.empty()) path = "/";
      if (rng() % 2) path += "x";
      const auto domainRank = [&](const R& r) -> int {
        const bool whole = host == r.host;
        const bool under = host.size() > r.host.size() && host.ends_with("." + r.host);
        if (r.flavour == 0 && !whole) return -1;
        if (r.flavour == 1 && !under) return -1;
        if (r.flavour == 2 && !whole && !under) return -1;
        return static_cast<int>(r.host.size()) * 4 + (r.flavour == 0 ? 2 : r.flavour == 1 ? 1 : 0);
      };
      const R* want = nullptr;
      for (const bool ex : {true, false}) {
        const R* best_url = nullptr;
        const R* best_dom = nullptr;
        int best_rank = -1;
        for (const R& r : rules) {
          if (r.exception != ex) continue;
          if (r.url) {
            if (r.host == host && path.starts_with(r.path) &&
                (best_url == nullptr || r.path.size() > best_url->path.size())) {
              best_url = &r;
            }
          } else if (const int rank = domainRank(r); rank > best_rank) {
            best_rank = rank;
            best_dom = &r;
          }
        }
        want = best_url ? best_url : best_dom;
        if (want != nullptr) break;
      }
      const Match got = snap->matchUrl(host, path, scratch.get());
      ASSERT_EQ(got.matched(), want != nullptr) << "seed " << seed << " " << host << path;
      if (want == nullptr) continue;
      ++decided;
      url_decided += want->url;
      exceptions += want->exception;
      EXPECT_EQ(got.rule->id, want->id) << "seed " << seed << " " << host << path;
    }
  }
  EXPECT_GT(decided, 3000u);
  EXPECT_GT(url_decided, 500u);
  EXPECT_GT(exceptions, 300u);
}

}  // namespace
}  // namespace cordon::rules
