#pragma once
// Rule-list formats: detection and one reader per format, each turning a list into Entry
// records (a native rule plus the metadata some formats carry). Control plane only.
//
//   list     the native syntax (ARCHITECTURE.md "Rule lists"; rules/list_parser.h)
//   hosts    "0.0.0.0 name [name...]"; each name is an exact-name rule. The null and
//            loopback addresses block with the configured action; any other address is a
//            DNS sinkhole answer with that address.
//   rpz      DNS Response Policy Zone files (draft-vixie-dnsop-dns-rpz-00 section 4: QNAME
//            triggers only). "name CNAME ." NXDOMAIN, "CNAME *." NODATA, "CNAME
//            rpz-passthru." exception, "CNAME rpz-drop." drop, A/AAAA local data sinkhole.
//            "name" is exact, "*.name" every subdomain (RPZ wildcard owners).
//   adguard  AdGuard/uBlock basic lines "||name^" (name and subdomains) and "@@||name^";
//            every other syntax is reported as a warning and skipped.
//   csv      registry dumps: one record per line, columns per CsvOptions; a record may carry
//            a domain, URLs and IPs together (several values in a cell separated by '|' or
//            whitespace), each written in the native syntax.
//   feed     the native feed: a YAML document, or JSON lines, of entries with id,
//            pattern/patterns (native syntax), action, reference, rights_holder, category,
//            valid_from, valid_until (rules/PRECEDENCE.md "Formats").

#include <cstdint>
#include <string>
#include <string_view>

#include "rules/list_parser.h"
#include "rules/snapshot.h"

namespace cordon::rules {

// Longest line any reader accepts. A longer line is an error for that line (the rest of it
// is skipped without being buffered), so a multi-gigabyte line cannot exhaust memory. The
// longest legitimate line is a URL rule (kMaxUrlPathLen + host) or a feed JSON line with a
// few hundred patterns.
inline constexpr size_t kMaxLineBytes = 1 << 20;
// Largest YAML feed document read whole (JSON-lines feeds are read line by line).
inline constexpr size_t kMaxYamlFeedBytes = size_t{256} << 20;

// One rule read from a list, with provenance and metadata.
struct Entry {
  ParsedRule rule;
  uint32_t line = 0;          // 1-based line where the entry starts
  std::string id;             // "" = "<list>:<line>"
  std::string ref;            // court order / case number
  std::string rights_holder;  // feed
  std::string category;       // feed
  RuleAction policy = RuleAction::kDefault;
  IpAddr sinkhole_a;
  IpAddr sinkhole_aaaa;
  bool monitor = false;  // the entry's own action is "monitor" (overrides a block list)
  int64_t valid_from = kNoTimeBound;
  int64_t valid_until = kForever;

  // True when the entry needs an out-of-line RuleMeta.
  bool hasMeta() const {
    return !rights_holder.empty() || !category.empty() || valid_from != kNoTimeBound ||
           valid_until != kForever || sinkhole_a.family != 0 || sinkhole_aaaa.family != 0;
  }
};

// Receives what a reader finds. error(): an invalid entry (the list is rejected in strict
// mode, the entry skipped otherwise); warning(): syntax the format allows but cordon does not
// enforce (skipped in every mode). `line` is 0 for problems of the whole file.
class EntrySink {
 public:
  virtual ~EntrySink() = default;
  virtual void entry(const Entry& e) = 0;
  virtual void error(uint32_t line, const std::string& reason) = 0;
  virtual void warning(uint32_t line, const std::string& reason) = 0;
};

// "auto", "list", "hosts", "rpz", "adguard", "csv", "feed".
std::string_view formatName(ListFormat f);
bool parseFormatName(std::string_view name, ListFormat* out);

// Guesses the format from the start of a list (a few KiB is enough); kList when nothing
// else fits (signals: rules/PRECEDENCE.md "Formats").
ListFormat detectFormat(std::string_view head);

// Reads the list at `path` in format `f` (kAuto: detected) and reports to *sink. An
// unreadable file, binary content and over-long lines are reported through sink->error().
// Returns the format used.
ListFormat readList(const std::string& path, ListFormat f, const CsvOptions& csv, EntrySink* sink);

// Same, from memory (tests, fuzzing).
ListFormat parseList(std::string_view content, ListFormat f, const CsvOptions& csv,
                     EntrySink* sink);

// A time as feeds write it: RFC 3339 ("2026-11-23T20:00:00Z", "...+01:00", fractions
// ignored), a date ("2026-11-23", midnight UTC) or Unix seconds. False on anything else.
bool parseTime(std::string_view text, int64_t* out);
// RFC 3339 UTC form of a Unix time ("2026-11-23T20:00:00Z").
std::string formatTime(int64_t t);

}  // namespace cordon::rules
