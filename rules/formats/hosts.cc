// Format "hosts": "0.0.0.0 name [name...]" lines, as hosts-file blocklists are written.

#include "rules/formats/reader.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace cordon::rules::fmt {
namespace {

// Names every stock /etc/hosts carries; a hosts-format blocklist repeats them at the top.
bool isHostsBoilerplate(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "localhost",     "localhost.localdomain", "local",        "broadcasthost",
      "ip6-localhost", "ip6-loopback",          "ip6-localnet", "ip6-mcastprefix",
      "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts", "0.0.0.0"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// 0.0.0.0, ::, 127/8 and ::1: "this name does not resolve" rather than "resolves there".
bool isNullAddress(const IpAddr& a) {
  static constexpr uint8_t kZero[16] = {};
  if (a.family == 4) return std::memcmp(a.bytes, kZero, 4) == 0 || a.bytes[0] == 127;
  static constexpr uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(a.bytes, kZero, 16) == 0 || std::memcmp(a.bytes, kLoop, 16) == 0;
}

}  // namespace

void readHosts(LineReader& r, EntrySink* sink) {
  Entry e;
  std::string reason;
  std::string_view line;
  while (r.next(&line)) {
    const size_t hash = line.find('#');
    const std::vector<std::string_view> t = tokens(line.substr(0, hash));
    if (t.empty()) continue;
    const uint32_t line_no = r.lineNo();
    IpAddr addr;
    // "fe80::1%lo0": a link-local address with its zone (macOS hosts files carry one).
    const std::string_view ip_text = t[0].substr(0, t[0].find('%'));
    if (!parseIp(std::string(ip_text), &addr)) {
      sink->error(line_no, "hosts line must start with an IP address, not " + quote(t[0]));
      continue;
    }
    if (t.size() == 1) {
      sink->error(line_no, "hosts line without a host name");
      continue;
    }
    for (size_t i = 1; i < t.size(); ++i) {
      if (isHostsBoilerplate(lowerCopy(t[i]))) continue;
      e = Entry();
      e.line = line_no;
      std::string why;
      if (!canonicalHost(t[i], &e.rule.host, &why) || !isRuleDomain(e.rule.host)) {
        sink->error(line_no, "invalid host name " + quote(t[i]) + (why.empty() ? "" : ": " + why));
        continue;
      }
      e.rule.kind = RuleKind::kExact;
      e.rule.text = std::string(t[i]);
      if (!isNullAddress(addr)) {
        e.policy = RuleAction::kSinkhole;
        (addr.family == 4 ? e.sinkhole_a : e.sinkhole_aaaa) = addr;
      }
      sink->entry(e);
    }
  }
}

}  // namespace cordon::rules::fmt
