#pragma once
// The rule snapshot: the one contract between the rule compiler (control plane) and the
// fast path. A Snapshot is immutable once built; workers read it concurrently without locks.
// A reload builds a new Snapshot and publishes it by pointer swap (see control/).
//
// Matching never allocates and never throws. Hyperscan needs one scratch per concurrent
// caller, so each worker owns a MatchScratch created for the snapshot it matches against.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ip_addr.h"

namespace cordon::rules {

// What the list a rule came from asks for (the `action` key of a config `rules:` entry).
enum class ListAction : uint8_t { kBlock, kMonitor };

enum class RuleKind : uint8_t {
  kDomain,      // example.com      : the name and every subdomain (label boundary)
  kExact,       // =example.com     : exactly this name
  kSubdomains,  // *.example.com    : every subdomain, not the name itself
  kUrlPrefix,   // http://host/path : HTTP requests to host whose path starts with /path
  kHostRegex,   // re:REGEX         : Hyperscan regex over the normalised host name
  kUrlRegex,    // url-re:REGEX     : Hyperscan regex over "host/path?query"
  kIp,          // 192.0.2.0/24     : destination IP or CIDR
};

// One compiled rule as events and `cordonctl check` report it. Strings are owned by the
// Snapshot and live as long as it does.
struct Rule {
  std::string_view pattern;  // the rule as written, without "@@" (e.g. "*.example.com")
  std::string_view list;     // name of the list it came from
  std::string_view id;       // rule id; "<list>:<line>" for plain lists
  std::string_view ref;      // reference (court order, case number); may be empty
  std::string_view file;     // source file
  uint32_t line = 0;         // 1-based line in file
  RuleKind kind = RuleKind::kDomain;
  ListAction action = ListAction::kBlock;
  bool exception = false;    // "@@" rule: wins over every block
};

// The deciding rule for one lookup, or none.
struct Match {
  const Rule* rule = nullptr;
  bool matched() const { return rule != nullptr; }
  // True when the traffic must be blocked/redirected (an enforcing, non-exception rule).
  bool enforce() const {
    return rule && !rule->exception && rule->action == ListAction::kBlock;
  }
  // True when the traffic passes but is recorded (a monitor list's rule).
  bool monitor() const {
    return rule && !rule->exception && rule->action == ListAction::kMonitor;
  }
};

class Snapshot;

// Per-worker matching state (Hyperscan scratch). Create one per worker per snapshot.
class MatchScratch {
 public:
  virtual ~MatchScratch() = default;
};

class Snapshot {
 public:
  virtual ~Snapshot() = default;

  // Allocates a scratch for this snapshot (control plane / worker start, not per packet).
  virtual std::unique_ptr<MatchScratch> newScratch() const = 0;

  // `host` must already be normalised (see rules/normalize.h: lower case, no trailing dot,
  // no port). Used for DNS query names, TLS/QUIC SNI. Domain and re: rules apply.
  virtual Match matchHost(std::string_view host, MatchScratch* scratch) const = 0;

  // HTTP request: normalised host plus normalised path?query (starting with '/').
  // Domain, re:, URL prefix and url-re: rules apply; exceptions win.
  virtual Match matchUrl(std::string_view host, std::string_view path_query,
                         MatchScratch* scratch) const = 0;

  // Destination IP rules. Cheap no-op when the snapshot has no IP rules.
  virtual Match matchIp(const IpAddr& addr) const = 0;
  virtual bool hasIpRules() const = 0;

  virtual size_t ruleCount() const = 0;
};

// One rule list to compile: a file, a name for events, and the list's action.
struct ListSource {
  std::string name;
  std::string path;
  ListAction action = ListAction::kBlock;
};

// Compiles lists into a Snapshot. On any invalid line, returns nullptr and appends one
// "file:line: reason" message per problem to *errors (an unreadable file gives "file: reason").
std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors);

}  // namespace cordon::rules
