#include "rules/list_parser.h"

#include <hs/hs.h>
#include <idn2.h>

#include <cstdlib>

#include "rules/normalize.h"
#include "rules/pattern_set.h"

namespace cordon::rules {
namespace {

constexpr bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

bool hasSpace(std::string_view s) {
  for (char c : s) {
    if (isSpace(c)) return true;
  }
  return false;
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool allDigitsOrDots(std::string_view s) {
  for (char c : s) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return !s.empty();
}

// Hyperscan flags per pattern kind. Host names are case-insensitive (and already lower
// case), so re: is caseless; url-re: keeps the path's case. DOTALL so '.' also matches a
// stray control byte in a URL instead of silently not matching across it.
constexpr unsigned kHostRegexFlags = HS_FLAG_CASELESS | HS_FLAG_DOTALL;
constexpr unsigned kUrlRegexFlags = HS_FLAG_DOTALL;

LineResult fail(std::string* reason, std::string msg) {
  *reason = std::move(msg);
  return LineResult::kError;
}

LineResult parseRegex(std::string_view body, RuleKind kind, ParsedRule* out, std::string* reason) {
  if (body.empty()) return fail(reason, "empty regex");
  out->kind = kind;
  out->regex = std::string(body);
  const std::string err = PatternSet::check(
      out->regex, kind == RuleKind::kHostRegex ? kHostRegexFlags : kUrlRegexFlags);
  if (!err.empty()) return fail(reason, "Hyperscan rejected regex: " + err);
  return LineResult::kRule;
}

LineResult parseUrl(std::string_view url, ParsedRule* out, std::string* reason) {
  const size_t scheme_end = url.find("://");
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t auth_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, auth_end);
  std::string_view target = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (authority.empty()) return fail(reason, "URL rule without a host " + quoted(url));
  if (authority.find('@') != std::string_view::npos) {
    return fail(reason, "URL rule with user info " + quoted(url));
  }
  if (target.find('#') != std::string_view::npos) {
    return fail(reason, "URL rule with a fragment (never sent in a request) " + quoted(url));
  }
  std::string why;
  if (!canonicalHost(authority, &out->host, &why)) {
    return fail(reason, "invalid host in URL " + quoted(url) + (why.empty() ? "" : ": " + why));
  }
  IpAddr ip;
  if (!isRuleDomain(out->host) && !parseIp(out->host, &ip)) {
    return fail(reason, "invalid host in URL " + quoted(url));
  }
  if (target.size() > kMaxUrlPathLen) {
    return fail(reason, "URL rule path longer than " + std::to_string(kMaxUrlPathLen) + " bytes");
  }
  char buf[kMaxUrlPathLen + 1];
  const size_t n = normalizeUrlPath(target, buf, sizeof buf);
  out->path.assign(buf, n);
  out->kind = RuleKind::kUrlPrefix;
  return LineResult::kRule;
}

LineResult parseIpRule(std::string_view text, ParsedRule* out, std::string* reason) {
  const size_t slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  if (!parseIp(addr, &out->addr)) return fail(reason, "invalid IP address " + quoted(addr));
  const unsigned max_len = out->addr.family == 4 ? 32 : 128;
  out->prefix_len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || !allDigitsOrDots(len) ||
        len.find('.') != std::string_view::npos) {
      return fail(reason, "invalid CIDR prefix length");
    }
    const unsigned v = static_cast<unsigned>(std::atoi(std::string(len).c_str()));
    if (v > max_len) return fail(reason, "invalid CIDR prefix length");
    out->prefix_len = v;
  }
  out->kind = RuleKind::kIp;
  return LineResult::kRule;
}

LineResult parseDomain(std::string_view text, ParsedRule* out, std::string* reason) {
  std::string_view name = text;
  out->kind = RuleKind::kDomain;
  if (name.front() == '=') {
    out->kind = RuleKind::kExact;
    name.remove_prefix(1);
  } else if (name.starts_with("*.")) {
    out->kind = RuleKind::kSubdomains;
    name.remove_prefix(2);
  }
  if (name.find('*') != std::string_view::npos) {
    return fail(reason, "invalid domain name " + quoted(name) +
                            ": '*' only as a leading \"*.\" (use re: for patterns)");
  }
  if (name.find(':') != std::string_view::npos) {
    return fail(reason, "invalid domain name " + quoted(name));
  }
  std::string why;
  if (!canonicalHost(name, &out->host, &why) || !isRuleDomain(out->host)) {
    return fail(reason, "invalid domain name " + quoted(name) + (why.empty() ? "" : ": " + why));
  }
  return LineResult::kRule;
}

}  // namespace

bool canonicalHost(std::string_view in, std::string* out, std::string* reason) {
  std::string ascii(in);
  bool non_ascii = false;
  for (char c : in) non_ascii = non_ascii || static_cast<unsigned char>(c) >= 0x80;
  if (non_ascii) {
    // idn2 wants no trailing dot and no port; the name part only.
    char* converted = nullptr;
    const int rc =
        idn2_to_ascii_8z(ascii.c_str(), &converted, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
      *reason = idn2_strerror(rc);
      return false;
    }
    ascii = converted;
    idn2_free(converted);
  }
  char buf[kMaxHostLen + 1];
  const size_t n = normalizeHost(ascii, buf, sizeof buf);
  if (n == 0) {
    reason->clear();
    return false;
  }
  out->assign(buf, n);
  return true;
}

bool isRuleDomain(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostLen) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  if (label == 0) return false;
  // "203.0.113.300" is a mistyped address, not a name: no TLD is all digits.
  const size_t last_dot = name.rfind('.');
  const std::string_view tld =
      last_dot == std::string_view::npos ? name : name.substr(last_dot + 1);
  return !allDigitsOrDots(tld);
}

LineResult parseRuleLine(std::string_view line, ParsedRule* out, std::string* reason) {
  // Reset field by field: the strings keep their capacity from line to line (a 1M-line
  // list would otherwise allocate and free four strings per line).
  out->kind = RuleKind::kDomain;
  out->exception = false;
  out->text.clear();
  out->host.clear();
  out->path.clear();
  out->regex.clear();
  out->addr = IpAddr();
  out->prefix_len = 0;
  std::string_view s = trim(line);
  if (s.empty() || s.front() == '#') return LineResult::kEmpty;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '#' && isSpace(s[i - 1])) {
      s = trim(s.substr(0, i));
      break;
    }
  }
  if (s.starts_with("@@")) {
    out->exception = true;
    s = trim(s.substr(2));
    if (s.empty()) return fail(reason, "empty exception rule");
  }
  out->text = std::string(s);
  if (s.starts_with("re:")) return parseRegex(s.substr(3), RuleKind::kHostRegex, out, reason);
  if (s.starts_with("url-re:")) return parseRegex(s.substr(7), RuleKind::kUrlRegex, out, reason);
  if (hasSpace(s)) return fail(reason, "unexpected whitespace in rule " + quoted(s));
  if (startsWithNoCase(s, "http://") || startsWithNoCase(s, "https://")) {
    return parseUrl(s, out, reason);
  }
  const size_t scheme = s.find("://");
  if (scheme != std::string_view::npos) {
    return fail(reason, "unsupported URL scheme " + quoted(s.substr(0, scheme)) +
                            " (http:// or https:// only)");
  }
  if (s.front() != '=' && !s.starts_with("*.")) {
    const size_t slash = s.find('/');
    const std::string_view before = s.substr(0, slash);
    IpAddr ip;
    if (before.find(':') != std::string_view::npos || allDigitsOrDots(before) ||
        parseIp(std::string(before), &ip)) {
      return parseIpRule(s, out, reason);
    }
    if (slash != std::string_view::npos) {
      std::string host;
      std::string why;
      if (canonicalHost(before, &host, &why) && isRuleDomain(host)) {
        return fail(reason, "URL rule without a scheme " + quoted(s) + " (write http://" +
                                std::string(s) + ")");
      }
      return fail(reason, "invalid domain name " + quoted(s));
    }
  }
  return parseDomain(s, out, reason);
}

}  // namespace cordon::rules
