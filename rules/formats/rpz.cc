// Format "rpz": DNS Response Policy Zone files (draft-vixie-dnsop-dns-rpz-00, QNAME
// triggers).

#include "rules/formats/reader.h"

#include <map>

namespace cordon::rules::fmt {
namespace {

// One resource record of a zone file (RFC 1035 section 5.1), parentheses joined.
struct ZoneRecord {
  uint32_t line = 0;
  bool owner_omitted = false;  // the line started with whitespace: previous owner
  std::vector<std::string> fields;
};

// Tokenises zone-file lines into records: ';' comments, "quoted strings", ( ) continuation.
class ZoneTokenizer {
 public:
  explicit ZoneTokenizer(LineReader& r, EntrySink* sink) : r_(r), sink_(sink) {}

  bool next(ZoneRecord* rec) {
    *rec = ZoneRecord();
    int depth = 0;
    std::string_view line;
    while (r_.next(&line)) {
      if (depth == 0) {
        rec->line = r_.lineNo();
        rec->owner_omitted = !line.empty() && isSpace(line.front());
      }
      size_t i = 0;
      while (i < line.size()) {
        const char c = line[i];
        if (isSpace(c)) {
          ++i;
        } else if (c == ';') {
          break;
        } else if (c == '(') {
          ++depth;
          ++i;
        } else if (c == ')') {
          if (depth == 0) {
            sink_->error(r_.lineNo(), "unbalanced ')'");
            return next(rec);
          }
          --depth;
          ++i;
        } else if (c == '"') {
          const size_t end = line.find('"', i + 1);
          if (end == std::string_view::npos) {
            sink_->error(r_.lineNo(), "unterminated quoted string");
            break;
          }
          rec->fields.emplace_back(line.substr(i + 1, end - i - 1));
          i = end + 1;
        } else {
          const size_t start = i;
          while (i < line.size() && !isSpace(line[i]) && line[i] != ';' && line[i] != '(' &&
                 line[i] != ')') {
            ++i;
          }
          rec->fields.emplace_back(line.substr(start, i - start));
        }
      }
      if (depth == 0 && !rec->fields.empty()) return true;
      if (depth == 0) rec->owner_omitted = false;
    }
    if (depth != 0) sink_->error(rec->line, "unbalanced '(' at end of file");
    return false;
  }

 private:
  LineReader& r_;
  EntrySink* sink_;
};

bool isTtl(std::string_view s) {
  // RFC 2308 / BIND style: digits, optionally with w/d/h/m/s units.
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  for (char c : s) {
    const char l = static_cast<char>(c | 0x20);
    if (!((c >= '0' && c <= '9') || l == 'w' || l == 'd' || l == 'h' || l == 'm' || l == 's')) {
      return false;
    }
  }
  return true;
}

bool isClass(std::string_view s) {
  return equalsNoCase(s, "in") || equalsNoCase(s, "ch") || equalsNoCase(s, "hs") ||
         equalsNoCase(s, "cs");
}

// Policy of one RPZ trigger, gathered over its records.
struct RpzTrigger {
  uint32_t line = 0;
  std::string qname;  // without the zone origin, may start with "*."
  bool has_cname = false;
  std::string cname_target;
  uint32_t cname_line = 0;
  IpAddr a;
  IpAddr aaaa;
  uint32_t data_line = 0;
};

// RPZ triggers cordon does not enforce: they name response data, not the query name
// (draft-vixie-dnsop-dns-rpz-00 sections 4.2-4.5).
bool isNonQnameTrigger(std::string_view qname) {
  for (std::string_view t : {"rpz-ip", "rpz-nsdname", "rpz-nsip", "rpz-client-ip"}) {
    if (qname == t || (qname.size() > t.size() && qname.ends_with(t) &&
                       qname[qname.size() - t.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

}  // namespace

void readRpz(LineReader& r, EntrySink* sink) {
  ZoneTokenizer tok(r, sink);
  ZoneRecord rec;
  std::string origin;  // absolute, lower case, without the final dot; "" = none yet
  std::string owner;   // previous owner, absolute form or relative
  std::vector<RpzTrigger> triggers;
  std::map<std::string, size_t> index;  // qname -> triggers[]
  bool have_soa = false;

  // Owner name as written -> trigger name relative to the zone, or false.
  const auto relative = [&](const std::string& name, std::string* out, std::string* why) {
    std::string n = lowerCopy(name);
    if (n == "@") {
      *out = "";
      return true;
    }
    if (n.ends_with(".")) {
      n.pop_back();
      if (origin.empty()) {
        *why = "absolute owner name " + quote(name) + " without $ORIGIN or SOA";
        return false;
      }
      if (n == origin) {
        *out = "";
        return true;
      }
      if (!n.ends_with("." + origin)) {
        *why = "owner name " + quote(name) + " is outside the zone '" + origin + "'";
        return false;
      }
      n.resize(n.size() - origin.size() - 1);
    }
    *out = n;
    return true;
  };

  while (tok.next(&rec)) {
    std::vector<std::string>& f = rec.fields;
    if (f[0].front() == '$') {
      const std::string d = lowerCopy(f[0]);
      if (d == "$origin") {
        if (f.size() != 2) {
          sink->error(rec.line, "$ORIGIN needs one name");
          continue;
        }
        std::string o = lowerCopy(f[1]);
        if (!o.ends_with(".")) {
          o = origin.empty() ? o : o + "." + origin;
        } else {
          o.pop_back();
        }
        origin = o;
      } else if (d == "$ttl") {
        if (f.size() != 2 || !isTtl(f[1])) sink->error(rec.line, "$TTL needs one TTL value");
      } else {
        sink->error(rec.line, "unsupported directive " + quote(f[0]));
      }
      continue;
    }
    size_t i = 0;
    std::string this_owner;
    if (rec.owner_omitted) {
      if (owner.empty()) {
        sink->error(rec.line, "record without an owner name");
        continue;
      }
      this_owner = owner;
    } else {
      this_owner = f[i++];
    }
    // [TTL] [class] or [class] [TTL]
    for (int k = 0; k < 2 && i < f.size(); ++k) {
      if (isTtl(f[i]) || isClass(f[i])) ++i;
    }
    if (i >= f.size()) {
      sink->error(rec.line, "record without a type");
      continue;
    }
    const std::string type = lowerCopy(f[i++]);
    const std::vector<std::string> rdata(f.begin() + static_cast<long>(i), f.end());
    owner = this_owner;
    if (type == "soa") {
      if (!have_soa && origin.empty() && this_owner.ends_with(".") && this_owner != ".") {
        origin = lowerCopy(this_owner.substr(0, this_owner.size() - 1));
      }
      have_soa = true;
      continue;
    }
    std::string qname;
    std::string why;
    if (!relative(this_owner, &qname, &why)) {
      sink->error(rec.line, why);
      continue;
    }
    if (qname.empty()) {
      if (type == "ns" || type == "txt") continue;  // zone apex data
      sink->warning(rec.line, "record at the zone apex is not a trigger, skipped");
      continue;
    }
    if (isNonQnameTrigger(qname)) {
      sink->warning(rec.line, "trigger " + quote(qname) +
                                  " is not a QNAME trigger (only QNAME triggers are enforced), "
                                  "skipped");
      continue;
    }
    if (type == "txt") continue;  // annotations some feeds attach to triggers
    if (type != "cname" && type != "a" && type != "aaaa") {
      sink->warning(rec.line, "local data of type " + quote(f[i - 1]) +
                                  " is not supported (CNAME, A, AAAA only), skipped");
      continue;
    }
    if (rdata.size() != 1) {
      sink->error(rec.line, quote(f[i - 1]) + " record needs exactly one value");
      continue;
    }
    auto [it, fresh] = index.try_emplace(qname, triggers.size());
    if (fresh) {
      triggers.push_back(RpzTrigger());
      triggers.back().line = rec.line;
      triggers.back().qname = qname;
    }
    RpzTrigger& t = triggers[it->second];
    if (type == "cname") {
      if (t.has_cname) {
        sink->error(rec.line, "second CNAME for " + quote(qname) + " (first at line " +
                                  std::to_string(t.cname_line) + ")");
        continue;
      }
      t.has_cname = true;
      t.cname_line = rec.line;
      t.cname_target = lowerCopy(rdata[0]);
      continue;
    }
    IpAddr addr;
    if (!parseIp(rdata[0], &addr) || addr.family != (type == "a" ? 4 : 6)) {
      sink->error(rec.line, "invalid " + quote(f[i - 1]) + " address " + quote(rdata[0]));
      continue;
    }
    // Several addresses of one family: the first is the answer (one address per answer).
    IpAddr& slot = type == "a" ? t.a : t.aaaa;
    if (slot.family == 0) slot = addr;
    if (t.data_line == 0) t.data_line = rec.line;
  }

  Entry e;
  for (const RpzTrigger& t : triggers) {
    e = Entry();
    e.line = t.line;
    if (t.has_cname && t.data_line != 0) {
      sink->error(t.data_line, "trigger " + quote(t.qname) + " has both a CNAME policy (line " +
                                   std::to_string(t.cname_line) + ") and local data");
      continue;
    }
    if (t.has_cname) {
      const std::string& c = t.cname_target;
      if (c == ".") {
        e.policy = RuleAction::kNxdomain;
      } else if (c == "*.") {
        e.policy = RuleAction::kNodata;
      } else if (c == "rpz-passthru." || c == "rpz-passthru") {
        e.rule.exception = true;
      } else if (c == "rpz-drop." || c == "rpz-drop") {
        e.policy = RuleAction::kDrop;
      } else if (c == "rpz-tcp-only." || c == "rpz-tcp-only") {
        sink->warning(t.cname_line, "policy rpz-tcp-only is not supported, skipped");
        continue;
      } else {
        sink->warning(t.cname_line, "CNAME rewrite to " + quote(c) +
                                        " is not supported (walled garden), skipped");
        continue;
      }
    } else {
      e.policy = RuleAction::kSinkhole;
      e.sinkhole_a = t.a;
      e.sinkhole_aaaa = t.aaaa;
    }
    std::string_view name = t.qname;
    e.rule.kind = RuleKind::kExact;
    if (name.starts_with("*.")) {
      name.remove_prefix(2);
      e.rule.kind = RuleKind::kSubdomains;
    }
    std::string why;
    if (!canonicalHost(name, &e.rule.host, &why) || !isRuleDomain(e.rule.host)) {
      sink->error(t.line,
                  "invalid trigger name " + quote(t.qname) + (why.empty() ? "" : ": " + why));
      continue;
    }
    e.rule.text = (e.rule.kind == RuleKind::kExact ? "=" : "*.") + e.rule.host;
    sink->entry(e);
  }
}

}  // namespace cordon::rules::fmt
