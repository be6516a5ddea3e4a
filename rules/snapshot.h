#pragma once
// The rule snapshot: the one contract between the rule compiler (control plane) and the
// fast path. A Snapshot is immutable once built; workers read it concurrently without locks.
// A reload builds a new Snapshot and publishes it by pointer swap (see control/).
//
// Matching never allocates and never throws. Hyperscan needs one scratch per concurrent
// caller, so each worker owns a MatchScratch created for the snapshot it matches against.

#include <cstdint>
#include <limits>
#include <map>
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

// What a rule asks for beyond "block" (ARCHITECTURE.md "Default actions"). kDefault leaves the
// choice to the config's `actions:` for the protocol; the others come from RPZ policies,
// hosts-file addresses and feed entries. The dataplane applies the DNS-specific ones to DNS
// answers and treats them as kDefault for TLS/QUIC/HTTP, except kDrop, which drops for
// every protocol.
enum class RuleAction : uint8_t {
  kDefault,   // the configured action for the protocol
  kDrop,      // drop silently, no answer, no reset (RPZ "CNAME rpz-drop.", feed "drop")
  kNxdomain,  // DNS: NXDOMAIN (RPZ "CNAME .", feed "nxdomain")
  kNodata,    // DNS: NOERROR, empty answer (RPZ "CNAME *.", feed "nodata")
  kSinkhole,  // DNS: answer with RuleMeta::sinkhole_a / sinkhole_aaaa (RPZ local data, hosts)
};

// Validity window bounds, Unix seconds (UTC). A rule is active for valid_from <= t < valid_until.
inline constexpr int64_t kNoTimeBound = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

// Metadata most rules do not carry (feed entries, RPZ local data), kept out of line so the
// common plain-list rule stays small. Owned by the Snapshot.
struct RuleMeta {
  std::string_view rights_holder;
  std::string_view category;
  int64_t valid_from = kNoTimeBound;
  int64_t valid_until = kForever;
  IpAddr sinkhole_a;     // family 4 when set (RuleAction::kSinkhole)
  IpAddr sinkhole_aaaa;  // family 6 when set
};

// The list rules come from (one per list of a snapshot, shared by its rules).
struct RuleList {
  std::string_view name;  // name of the list
  std::string_view file;  // its source file
};

// One compiled rule as events and `cordonctl check` report it. Strings are owned by the
// Snapshot and live as long as it does. 72 bytes: a snapshot holds one per rule.
struct Rule {
  std::string_view pattern;          // the rule as written, without "@@" (e.g. "*.example.com")
  std::string_view id;               // rule id; "<list>:<line>" for plain lists
  std::string_view ref;              // reference (court order, case number); may be empty
  const RuleList* source = nullptr;  // the list it came from
  uint32_t line = 0;                 // 1-based line in the list's file
  RuleKind kind = RuleKind::kDomain;
  ListAction action = ListAction::kBlock;
  bool exception = false;                    // "@@" rule: wins over every block
  RuleAction policy = RuleAction::kDefault;  // per-rule action override (RPZ, feeds)
  const RuleMeta* meta = nullptr;            // nullptr: no window, no sinkhole, no extra fields

  std::string_view list() const { return source ? source->name : std::string_view(); }
  std::string_view file() const { return source ? source->file : std::string_view(); }

  // Sinkhole addresses of a kSinkhole rule, or nullptr.
  const IpAddr* sinkholeA() const {
    return meta && meta->sinkhole_a.family == 4 ? &meta->sinkhole_a : nullptr;
  }
  const IpAddr* sinkholeAaaa() const {
    return meta && meta->sinkhole_aaaa.family == 6 ? &meta->sinkhole_aaaa : nullptr;
  }
};

// The deciding rule for one lookup, or none.
struct Match {
  const Rule* rule = nullptr;
  bool matched() const { return rule != nullptr; }
  // True when the traffic must be blocked/redirected (an enforcing, non-exception rule).
  bool enforce() const { return rule && !rule->exception && rule->action == ListAction::kBlock; }
  // True when the traffic passes but is recorded (a monitor list's rule).
  bool monitor() const { return rule && !rule->exception && rule->action == ListAction::kMonitor; }
  // For events (`rule.id`, `rule.ref`) and the dataplane's choice of action; "" / kDefault
  // when nothing matched.
  std::string_view id() const { return rule ? rule->id : std::string_view(); }
  std::string_view ref() const { return rule ? rule->ref : std::string_view(); }
  RuleAction policy() const { return rule ? rule->policy : RuleAction::kDefault; }
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

  // Validity windows (rules/PRECEDENCE.md): the snapshot holds the rules active at asOf();
  // at nextBoundary() some rule's window opens or closes and the control plane must publish
  // a snapshot compiled for that time. kForever when no window bounds lie ahead.
  virtual int64_t asOf() const { return 0; }
  virtual int64_t nextBoundary() const { return kForever; }
};

// How a list's content is read (config `format:`); kAuto detects it from the content
// (rules/formats.h).
enum class ListFormat : uint8_t { kAuto, kList, kHosts, kRpz, kAdguard, kCsv, kFeed };

// Registry CSV dumps (format csv): a separator and which column holds what. Columns are
// 1-based; 0 = absent. With `header`, the first record names the columns, and fields left
// at 0 are found by header name (domain/host, url, ip, id, ref/reference, rights_holder,
// category, valid_from, valid_until, action).
struct CsvOptions {
  char separator = ',';
  bool header = true;
  std::map<std::string, unsigned> columns;  // field name -> 1-based column
};

// One rule list to compile: a file, a name for events, and the list's action.
struct ListSource {
  std::string name;
  std::string path;
  ListAction action = ListAction::kBlock;
  ListFormat format = ListFormat::kAuto;
  // true: any invalid entry rejects the whole compile (the running snapshot stays);
  // false: invalid entries are reported as warnings and skipped.
  bool strict = true;
  CsvOptions csv = {};
};

// Compiles lists into a Snapshot. On any invalid line, returns nullptr and appends one
// "file:line: reason" message per problem to *errors (an unreadable file gives "file: reason").
std::shared_ptr<const Snapshot> compileSnapshot(const std::vector<ListSource>& lists,
                                                std::vector<std::string>* errors);

// Loads a snapshot written by `cordonctl compile -o` (rules::saveSnapshot) without compiling
// anything: Hyperscan databases are deserialised. Returns nullptr with *error ("path:
// reason") for an unreadable, truncated, corrupted (checksum), foreign-version or malformed
// file. The caller should check nextBoundary() against the clock: a snapshot is compiled for
// one instant (asOf()) and goes stale at its next validity boundary.
std::shared_ptr<const Snapshot> loadSnapshot(const std::string& path, std::string* error);

}  // namespace cordon::rules
