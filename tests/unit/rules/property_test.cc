// Property test: random domain lists (plain, =exact, *.subdomains, exceptions, in a block
// and a monitor list) against a naive reference matcher written from the precedence rules
// in rules/snapshot.cc, on random names including near misses. They must agree.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace cordon::rules
