// Format "adguard": AdGuard/uBlock basic lines "||name^" and "@@||name^".

#include "rules/formats/reader.h"

namespace cordon::rules::fmt {

void readAdguard(LineReader& r, EntrySink* sink) {
  Entry e;
  std::string_view line;
  while (r.next(&line)) {
    std::string_view s = trim(line);
    if (s.empty() || s.front() == '!' || (s.front() == '#' && !s.starts_with("##")) ||
        (s.front() == '[' && s.back() == ']')) {
      continue;  // comment or "[Adblock Plus 2.0]" header
    }
    const uint32_t line_no = r.lineNo();
    const bool exception = s.starts_with("@@");
    std::string_view body = exception ? s.substr(2) : s;
    std::string_view name;
    if (body.starts_with("||")) {
      name = body.substr(2);
      if (name.ends_with("^|")) {
        name.remove_suffix(2);
      } else if (name.ends_with("^")) {
        name.remove_suffix(1);
      } else {
        name = {};
      }
    }
    if (name.empty() || name.find_first_of("^$*/|:@?=&,~") != std::string_view::npos) {
      sink->warning(line_no, "unsupported AdGuard syntax " + quote(s) +
                                 " (only ||name^ and @@||name^), skipped");
      continue;
    }
    e = Entry();
    e.line = line_no;
    std::string why;
    if (!canonicalHost(name, &e.rule.host, &why) || !isRuleDomain(e.rule.host)) {
      sink->error(line_no, "invalid domain name " + quote(name) + (why.empty() ? "" : ": " + why));
      continue;
    }
    e.rule.kind = RuleKind::kDomain;
    e.rule.exception = exception;
    e.rule.text = std::string(body);
    sink->entry(e);
  }
}

}  // namespace cordon::rules::fmt
