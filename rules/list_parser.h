#pragma once
// The native rule-list line syntax (ARCHITECTURE.md "Rule lists") and the control-plane
// host canonicalisation it shares with cordonctl. Control plane only: these allocate.

#include <cstdint>
#include <string>
#include <string_view>

#include "rules/ip_addr.h"
#include "rules/snapshot.h"

namespace cordon::rules {

// One parsed, normalised rule line.
struct ParsedRule {
  RuleKind kind = RuleKind::kDomain;
  bool exception = false;   // "@@" prefix
  std::string text;         // the rule as written, without "@@" (Rule::pattern)
  std::string host;         // kDomain/kExact/kSubdomains: the name; kUrlPrefix: the host
  std::string path;         // kUrlPrefix: normalised path?query prefix, starts with '/'
  std::string regex;        // kHostRegex/kUrlRegex
  IpAddr addr;              // kIp: network (host bits cleared by the IP table)
  unsigned prefix_len = 0;  // kIp
};

enum class LineResult { kEmpty, kRule, kError };

// Parses one line (without its '\n'). Blank lines and comments give kEmpty; a valid rule
// gives kRule and fills *out; anything else gives kError with *reason set (no file:line).
// A '#' starts a comment at the start of a line or after whitespace. Regexes are checked
// for Hyperscan syntax here so every bad line is reported at once.
LineResult parseRuleLine(std::string_view line, ParsedRule* out, std::string* reason);

// Host name → canonical form for matching: IDN U-labels converted to punycode A-labels
// (libidn2, UTS #46 non-transitional), then normalizeHost(). False (with *reason) when
// the name cannot be a host.
bool canonicalHost(std::string_view in, std::string* out, std::string* reason);

// True when `name` (canonical) is acceptable as a domain rule: labels of [a-z0-9_-],
// 1-63 bytes each, 253 bytes in all, and not an all-numeric dotted quad.
bool isRuleDomain(std::string_view name);

}  // namespace cordon::rules
