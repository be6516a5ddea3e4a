#include "rules/formats.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

namespace cordon::rules {
namespace {

// Bytes read per refill of a streamed list file.
constexpr size_t kReadChunk = size_t{1} << 20;
// Bytes of a list looked at by detectFormat() and the binary check.
constexpr size_t kHeadBytes = 64 << 10;
// Meaningful lines of the head detectFormat() weighs.
constexpr int kDetectLines = 50;

constexpr bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lowerCopy(a) == b;
}

// Splits on runs of whitespace.
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isSpace(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && !isSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string quote(std::string_view s) {
  constexpr size_t kShown = 80;  // an error names the token, not a whole megabyte of it
  if (s.size() > kShown) return "'" + std::string(s.substr(0, kShown)) + "...'";
  return "'" + std::string(s) + "'";
}

// Lines of a list, from memory or streamed from a file, with the caps of formats.h.
class LineReader {
 public:
  LineReader(std::string_view mem, EntrySink* sink) : mem_(mem), sink_(sink), eof_(true) {}
  LineReader(int fd, EntrySink* sink) : fd_(fd), sink_(sink) {}

  // Up to n bytes from the current position, without consuming them.
  std::string_view peek(size_t n) {
    if (fd_ >= 0) fill(n);
    const std::string_view d = data();
    return d.substr(0, std::min(n, d.size()));
  }

  // The next line without its "\n" or "\r\n". Lines over kMaxLineBytes and lines holding a
  // NUL byte are reported to the sink and skipped.
  bool next(std::string_view* line) {
    for (;;) {
      std::string_view d = data();
      size_t nl = d.find('\n');
      while (nl == std::string_view::npos && !eof_ && d.size() <= kMaxLineBytes) {
        fill(d.size() + kReadChunk);
        d = data();
        nl = d.find('\n');
      }
      if (nl == std::string_view::npos && d.empty()) return false;
      ++line_no_;
      const size_t len = nl == std::string_view::npos ? d.size() : nl;
      if (len > kMaxLineBytes) {
        sink_->error(line_no_, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
        skipRestOfLine();
        continue;
      }
      std::string_view l = d.substr(0, len);
      pos_ += nl == std::string_view::npos ? len : len + 1;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (const void* z = std::memchr(l.data(), 0, l.size())) {
        sink_->error(line_no_, "binary data (NUL byte at column " +
                                   std::to_string(static_cast<const char*>(z) - l.data() + 1) +
                                   ")");
        continue;
      }
      *line = l;
      return true;
    }
  }
  uint32_t lineNo() const { return line_no_; }

 private:
  std::string_view data() const {
    return fd_ >= 0 ? std::string_view(buf_).substr(pos_) : mem_.substr(pos_);
  }

  // Reads until at least `want` unconsumed bytes are buffered or the file ends.
  void fill(size_t want) {
    if (fd_ < 0 || eof_) return;
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    while (buf_.size() < want && !eof_) {
      const size_t old = buf_.size();
      buf_.resize(old + kReadChunk);
      const ssize_t n = ::read(fd_, buf_.data() + old, kReadChunk);
      if (n < 0 && errno == EINTR) {
        buf_.resize(old);
        continue;
      }
      if (n < 0) {
        buf_.resize(old);
        sink_->error(0, std::string("read error: ") + std::strerror(errno));
        eof_ = true;
        break;
      }
      buf_.resize(old + static_cast<size_t>(n));
      if (n == 0) eof_ = true;
    }
  }

  // Drops bytes up to and including the next '\n' (an over-long line), without keeping them.
  void skipRestOfLine() {
    for (;;) {
      const std::string_view d = data();
      const size_t nl = d.find('\n');
      if (nl != std::string_view::npos) {
        pos_ += nl + 1;
        return;
      }
      pos_ += d.size();
      if (eof_) return;
      fill(kReadChunk);
    }
  }

  std::string_view mem_;
  int fd_ = -1;
  EntrySink* sink_;
  bool eof_ = false;
  std::string buf_;
  size_t pos_ = 0;
  uint32_t line_no_ = 0;
};

// ---- native list ---------------------------------------------------------------------------

void readNative(LineReader& r, EntrySink* sink) {
  Entry e;
  std::string reason;
  std::string_view line;
  while (r.next(&line)) {
    e.line = r.lineNo();
    switch (parseRuleLine(line, &e.rule, &reason)) {
      case LineResult::kEmpty:
        break;
      case LineResult::kError:
        sink->error(e.line, reason);
        break;
      case LineResult::kRule:
        sink->entry(e);
        break;
    }
  }
}

// ---- hosts ---------------------------------------------------------------------------------

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

// ---- AdGuard / uBlock basic ----------------------------------------------------------------

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

// ---- RPZ -----------------------------------------------------------------------------------

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

// ---- entry metadata shared by CSV and feeds ------------------------------------------------

// Applies an entry `action` value. False (with *why) when unknown.
bool applyAction(std::string_view value, Entry* e, std::string* why) {
  const std::string v = lowerCopy(trim(value));
  if (v.empty() || v == "block") return true;
  if (v == "monitor") {
    e->monitor = true;
  } else if (v == "allow" || v == "pass" || v == "exception") {
    e->rule.exception = true;
  } else if (v == "drop") {
    e->policy = RuleAction::kDrop;
  } else if (v == "nxdomain") {
    e->policy = RuleAction::kNxdomain;
  } else if (v == "nodata") {
    e->policy = RuleAction::kNodata;
  } else if (v == "sinkhole") {
    e->policy = RuleAction::kSinkhole;
  } else {
    *why = "unknown action " + quote(value) +
           " (block, monitor, allow, drop, nxdomain, nodata, sinkhole)";
    return false;
  }
  return true;
}

bool checkWindow(const Entry& e, std::string* why) {
  if (e.valid_from != kNoTimeBound && e.valid_until != kForever && e.valid_until <= e.valid_from) {
    *why = "valid_until is not after valid_from";
    return false;
  }
  return true;
}

// Parses one pattern in the native syntax into e->rule, keeping entry-level flags.
bool parsePattern(std::string_view text, Entry* e, std::string* why) {
  const bool exception = e->rule.exception;
  switch (parseRuleLine(text, &e->rule, why)) {
    case LineResult::kEmpty:
      *why = "empty pattern";
      return false;
    case LineResult::kError:
      return false;
    case LineResult::kRule:
      e->rule.exception = e->rule.exception || exception;
      return true;
  }
  return false;
}

// ---- CSV -----------------------------------------------------------------------------------

// RFC 4180 record split (quotes, "" escapes) on one line. False on an unterminated quote.
bool splitCsv(std::string_view line, char sep, std::vector<std::string>* out) {
  out->clear();
  std::string cell;
  size_t i = 0;
  for (;;) {
    cell.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell.push_back(line[i++]);
      }
      while (i < line.size() && line[i] != sep) cell.push_back(line[i++]);
    } else {
      while (i < line.size() && line[i] != sep) cell.push_back(line[i++]);
    }
    out->emplace_back(trim(cell));
    if (i >= line.size()) return true;
    ++i;  // separator
  }
}

// Header names per field (lower case), first is the canonical name.
const std::vector<std::pair<std::string, std::vector<std::string>>>& csvFields() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kFields = {
      {"domain", {"domain", "domains", "host", "hostname", "name"}},
      {"url", {"url", "urls"}},
      {"ip", {"ip", "ips", "ip_address", "address", "cidr"}},
      {"id", {"id", "entry_id"}},
      {"ref", {"ref", "reference", "decision", "case", "court_order"}},
      {"rights_holder", {"rights_holder", "rightsholder", "holder", "org"}},
      {"category", {"category"}},
      {"valid_from", {"valid_from", "from", "start"}},
      {"valid_until", {"valid_until", "until", "end", "expires"}},
      {"action", {"action"}},
  };
  return kFields;
}

// Splits a cell holding several values ("1.2.3.4 | 5.6.7.8", "a.com b.com").
std::vector<std::string_view> cellValues(std::string_view cell) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < cell.size()) {
    while (i < cell.size() && (isSpace(cell[i]) || cell[i] == '|')) ++i;
    const size_t start = i;
    while (i < cell.size() && !isSpace(cell[i]) && cell[i] != '|') ++i;
    if (i > start) out.push_back(cell.substr(start, i - start));
  }
  return out;
}

void readCsv(LineReader& r, const CsvOptions& opt, EntrySink* sink) {
  std::map<std::string, unsigned> col;  // field -> 1-based column
  for (const auto& [field, aliases] : csvFields()) {
    (void)aliases;
    const auto it = opt.columns.find(field);
    if (it != opt.columns.end()) col[field] = it->second;
  }
  for (const auto& column : opt.columns) {
    const std::string& field = column.first;
    const auto& f = csvFields();
    if (std::none_of(f.begin(), f.end(), [&](const auto& p) { return p.first == field; })) {
      sink->error(0, "csv: unknown column field " + quote(field));
      return;
    }
  }
  bool need_header = opt.header;
  std::vector<std::string> cells;
  std::string_view line;
  Entry base;
  while (r.next(&line)) {
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const uint32_t line_no = r.lineNo();
    if (!splitCsv(line, opt.separator, &cells)) {
      sink->error(line_no, "unterminated quoted field");
      continue;
    }
    if (need_header) {
      need_header = false;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string h = lowerCopy(cells[c]);
        for (const auto& [field, aliases] : csvFields()) {
          if (col.count(field)) continue;
          if (std::find(aliases.begin(), aliases.end(), h) != aliases.end()) {
            col[field] = static_cast<unsigned>(c + 1);
          }
        }
      }
      if (!col.count("domain") && !col.count("url") && !col.count("ip")) {
        sink->error(line_no, "csv header names no domain, url or ip column (set csv.columns)");
        return;
      }
      continue;
    }
    if (!col.count("domain") && !col.count("url") && !col.count("ip")) {
      sink->error(0, "csv: no domain, url or ip column (set csv.columns)");
      return;
    }
    const auto cell = [&](const char* field) -> std::string_view {
      const auto it = col.find(field);
      if (it == col.end() || it->second == 0 || it->second > cells.size()) return {};
      return cells[it->second - 1];
    };
    base = Entry();
    base.line = line_no;
    base.id = std::string(cell("id"));
    base.ref = std::string(cell("ref"));
    base.rights_holder = std::string(cell("rights_holder"));
    base.category = std::string(cell("category"));
    std::string why;
    if (!applyAction(cell("action"), &base, &why)) {
      sink->error(line_no, why);
      continue;
    }
    bool ok = true;
    for (const char* tf : {"valid_from", "valid_until"}) {
      const std::string_view v = cell(tf);
      if (v.empty()) continue;
      int64_t& dst = tf[6] == 'f' ? base.valid_from : base.valid_until;
      if (!parseTime(v, &dst)) {
        sink->error(line_no, std::string(tf) + ": invalid time " + quote(v));
        ok = false;
      }
    }
    if (!ok) continue;
    if (!checkWindow(base, &why)) {
      sink->error(line_no, why);
      continue;
    }
    size_t patterns = 0;
    for (const char* pf : {"domain", "url", "ip"}) {
      for (std::string_view v : cellValues(cell(pf))) {
        Entry e = base;
        if (!parsePattern(v, &e, &why)) {
          sink->error(line_no, std::string(pf) + " column " + std::to_string(col[pf]) + ": " + why);
        } else {
          sink->entry(e);
        }
        ++patterns;
      }
    }
    if (patterns == 0) sink->error(line_no, "record without a domain, url or ip");
  }
}

// ---- native feed ---------------------------------------------------------------------------

uint32_t markLine(const YAML::Node& n, uint32_t fallback) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? static_cast<uint32_t>(m.line + 1) : fallback;
}

// A feed entry's fields as read from a YAML document or a JSON line; feedEntry() checks both
// the same way. JSON lines are parsed with nlohmann::json, not yaml-cpp: a million-entry feed
// then parses in about a second instead of ~25 s (yaml-cpp builds a node tree per line).
struct FeedValue {
  enum Kind : uint8_t { kScalar, kList, kOther };
  Kind kind = kOther;
  std::string text;                                     // kScalar
  std::vector<std::pair<std::string, uint32_t>> items;  // kList: the items and their lines
  uint32_t bad_item = 0;  // kList: line of the first item that is not a scalar, or 0
  uint32_t line = 0;
};
struct FeedField {
  std::string key;
  uint32_t key_line = 0;
  FeedValue value;
};

// One feed entry. `is_map` false: the entry is not a mapping/object.
void feedEntry(bool is_map, uint32_t line, const std::vector<FeedField>& fields, EntrySink* sink) {
  if (!is_map) {
    sink->error(line, "feed entry must be a mapping");
    return;
  }
  Entry base;
  base.line = line;
  std::vector<std::pair<std::string, uint32_t>> patterns;
  const auto scalar = [&](const FeedValue& v, const std::string& key, std::string* out) {
    if (v.kind != FeedValue::kScalar) {
      sink->error(v.line, key + " must be a string");
      return false;
    }
    *out = v.text;
    return true;
  };
  std::string action;
  std::string a;
  std::string aaaa;
  for (const FeedField& f : fields) {
    const std::string& key = f.key;
    const FeedValue& v = f.value;
    std::string s;
    if (key == "id") {
      if (!scalar(v, key, &base.id)) return;
    } else if (key == "pattern") {
      if (!scalar(v, key, &s)) return;
      patterns.emplace_back(s, v.line);
    } else if (key == "patterns") {
      if (v.kind != FeedValue::kList) {
        sink->error(v.line, "patterns must be a list");
        return;
      }
      if (v.bad_item != 0) {
        sink->error(v.bad_item, "pattern must be a string");
        return;
      }
      patterns.insert(patterns.end(), v.items.begin(), v.items.end());
    } else if (key == "action") {
      if (!scalar(v, key, &action)) return;
    } else if (key == "reference" || key == "ref") {
      if (!scalar(v, key, &base.ref)) return;
    } else if (key == "rights_holder") {
      if (!scalar(v, key, &base.rights_holder)) return;
    } else if (key == "category") {
      if (!scalar(v, key, &base.category)) return;
    } else if (key == "valid_from" || key == "valid_until") {
      if (!scalar(v, key, &s)) return;
      if (!parseTime(s, key == "valid_from" ? &base.valid_from : &base.valid_until)) {
        sink->error(v.line, key + ": invalid time " + quote(s));
        return;
      }
    } else if (key == "a" || key == "aaaa") {
      if (!scalar(v, key, key == "a" ? &a : &aaaa)) return;
    } else {
      sink->error(f.key_line, "unknown key '" + key + "' in feed entry");
      return;
    }
  }
  std::string why;
  if (!applyAction(action, &base, &why) || !checkWindow(base, &why)) {
    sink->error(line, why);
    return;
  }
  for (const auto& [text, family, out] :
       {std::tuple{&a, 4, &base.sinkhole_a}, std::tuple{&aaaa, 6, &base.sinkhole_aaaa}}) {
    if (text->empty()) continue;
    if (!parseIp(*text, out) || out->family != family) {
      sink->error(line, "invalid sinkhole address " + quote(*text));
      return;
    }
  }
  if (base.policy == RuleAction::kSinkhole && !base.sinkhole_a.family &&
      !base.sinkhole_aaaa.family) {
    sink->error(line, "action sinkhole needs 'a' and/or 'aaaa'");
    return;
  }
  if ((base.sinkhole_a.family || base.sinkhole_aaaa.family) &&
      base.policy == RuleAction::kDefault) {
    base.policy = RuleAction::kSinkhole;
  }
  if (patterns.empty()) {
    sink->error(line, "feed entry without 'pattern' or 'patterns'");
    return;
  }
  for (const auto& [text, pline] : patterns) {
    Entry e = base;
    e.line = pline;
    if (!parsePattern(text, &e, &why)) {
      sink->error(pline, why);
      continue;
    }
    sink->entry(e);
  }
}

// A feed entry of a YAML document; lines from yaml-cpp's marks.
void yamlFeedEntry(const YAML::Node& n, EntrySink* sink) {
  const uint32_t line = markLine(n, 0);
  std::vector<FeedField> fields;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      FeedField f;
      f.key = kv.first.as<std::string>();
      f.key_line = markLine(kv.first, line);
      const YAML::Node& v = kv.second;
      f.value.line = markLine(v, line);
      if (v.IsScalar()) {
        f.value.kind = FeedValue::kScalar;
        f.value.text = v.as<std::string>();
      } else if (v.IsSequence()) {
        f.value.kind = FeedValue::kList;
        for (const auto& item : v) {
          const uint32_t item_line = markLine(item, f.value.line);
          if (!item.IsScalar()) {
            if (f.value.bad_item == 0) f.value.bad_item = item_line;
            continue;
          }
          f.value.items.emplace_back(item.as<std::string>(), item_line);
        }
      }
      fields.push_back(std::move(f));
    }
  }
  feedEntry(n.IsMap(), line, fields, sink);
}

// A feed entry of a JSON line: every field reports the line's number. Numbers and booleans
// count as strings (as they do in the YAML form: `id: 17`).
void jsonFeedEntry(std::string_view text, uint32_t line, EntrySink* sink) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& ex) {
    std::string msg = ex.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const size_t at = msg.find("] "); at != std::string::npos) msg.erase(0, at + 2);
    // "parse error at line 1, column 3: ..." -> "column 3: ..." (the line is the file's)
    if (const size_t at = msg.find("column "); at != std::string::npos) msg.erase(0, at);
    sink->error(line, "invalid JSON: " + msg);
    return;
  }
  const auto scalarText = [](const nlohmann::ordered_json& v, std::string* out) {
    if (v.is_string()) {
      *out = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      *out = v.dump();
    } else {
      return false;
    }
    return true;
  };
  std::vector<FeedField> fields;
  if (j.is_object()) {
    for (const auto& [key, v] : j.items()) {
      FeedField f;
      f.key = key;
      f.key_line = f.value.line = line;
      if (scalarText(v, &f.value.text)) {
        f.value.kind = FeedValue::kScalar;
      } else if (v.is_array()) {
        f.value.kind = FeedValue::kList;
        for (const auto& item : v) {
          std::string t;
          if (!scalarText(item, &t)) {
            f.value.bad_item = line;
            break;
          }
          f.value.items.emplace_back(std::move(t), line);
        }
      }
      fields.push_back(std::move(f));
    }
  }
  feedEntry(j.is_object(), line, fields, sink);
}

void readFeed(LineReader& r, EntrySink* sink) {
  std::string_view line;
  // JSON lines when the first meaningful line is an object; a YAML document otherwise.
  std::string doc;
  bool json = false;
  bool decided = false;
  while (r.next(&line)) {
    const std::string_view t = trim(line);
    if (!decided) {
      if (t.empty() || t.front() == '#') {
        doc.append(line).push_back('\n');
        continue;
      }
      decided = true;
      json = t.front() == '{';
    }
    if (json) {
      if (t.empty() || t.front() == '#') continue;
      jsonFeedEntry(t, r.lineNo(), sink);
      continue;
    }
    if (doc.size() + line.size() + 1 > kMaxYamlFeedBytes) {
      sink->error(0, "YAML feed larger than " + std::to_string(kMaxYamlFeedBytes >> 20) +
                         " MiB (use JSON lines)");
      return;
    }
    doc.append(line).push_back('\n');
  }
  if (json || !decided) return;
  YAML::Node root;
  try {
    root = YAML::Load(doc);
  } catch (const YAML::Exception& ex) {
    sink->error(static_cast<uint32_t>(ex.mark.line + 1), ex.msg);
    return;
  }
  try {
    YAML::Node entries = root;
    if (root.IsMap()) {
      for (const auto& kv : root) {
        const std::string key = kv.first.as<std::string>();
        if (key != "entries" && key != "version" && key != "feed" && key != "name" &&
            key != "generated") {
          sink->error(markLine(kv.first, 0), "unknown key '" + key + "' in feed");
          return;
        }
      }
      entries = root["entries"];
    }
    if (!entries || entries.IsNull()) return;
    if (!entries.IsSequence()) {
      sink->error(markLine(entries, 0), "feed entries must be a list");
      return;
    }
    for (const auto& e : entries) yamlFeedEntry(e, sink);
  } catch (const YAML::Exception& ex) {
    sink->error(static_cast<uint32_t>(ex.mark.line + 1), ex.msg);
  }
}

// A first line such as "id,domain,url,ip,reference": separated by ',' or ';', naming at
// least one pattern column.
bool isCsvHeader(std::string_view line) {
  for (const char sep : {',', ';'}) {
    if (line.find(sep) == std::string_view::npos) continue;
    std::vector<std::string> cells;
    if (!splitCsv(line, sep, &cells) || cells.size() < 2) continue;
    for (const std::string& c : cells) {
      const std::string h = lowerCopy(c);
      for (const auto& [field, aliases] : csvFields()) {
        if ((field == "domain" || field == "url" || field == "ip") &&
            std::find(aliases.begin(), aliases.end(), h) != aliases.end()) {
          return true;
        }
      }
    }
  }
  return false;
}

// ---- detection -----------------------------------------------------------------------------

ListFormat parseWith(LineReader& r, ListFormat f, const CsvOptions& csv, EntrySink* sink) {
  // The caller has dropped a UTF-8 byte-order mark.
  const std::string_view head = r.peek(kHeadBytes);
  if (const void* z = std::memchr(head.data(), 0, std::min(head.size(), size_t{4096}))) {
    sink->error(0, "not a text file (NUL byte at offset " +
                       std::to_string(static_cast<const char*>(z) - head.data()) + ")");
    return f;
  }
  CsvOptions guessed;
  const CsvOptions* csv_opts = &csv;
  if (f == ListFormat::kAuto) {
    f = detectFormat(head);
    if (f == ListFormat::kCsv && csv.columns.empty()) {
      // Detected by its header: take the separator the header uses.
      const std::string_view first = head.substr(0, head.find('\n'));
      guessed = csv;
      guessed.header = true;
      if (first.find(',') == std::string_view::npos) guessed.separator = ';';
      csv_opts = &guessed;
    }
  }
  switch (f) {
    case ListFormat::kAuto:
    case ListFormat::kList:
      readNative(r, sink);
      break;
    case ListFormat::kHosts:
      readHosts(r, sink);
      break;
    case ListFormat::kRpz:
      readRpz(r, sink);
      break;
    case ListFormat::kAdguard:
      readAdguard(r, sink);
      break;
    case ListFormat::kCsv:
      readCsv(r, *csv_opts, sink);
      break;
    case ListFormat::kFeed:
      readFeed(r, sink);
      break;
  }
  return f;
}

}  // namespace

std::string_view formatName(ListFormat f) {
  switch (f) {
    case ListFormat::kAuto:
      return "auto";
    case ListFormat::kList:
      return "list";
    case ListFormat::kHosts:
      return "hosts";
    case ListFormat::kRpz:
      return "rpz";
    case ListFormat::kAdguard:
      return "adguard";
    case ListFormat::kCsv:
      return "csv";
    case ListFormat::kFeed:
      return "feed";
  }
  return "?";
}

bool parseFormatName(std::string_view name, ListFormat* out) {
  for (ListFormat f : {ListFormat::kAuto, ListFormat::kList, ListFormat::kHosts, ListFormat::kRpz,
                       ListFormat::kAdguard, ListFormat::kCsv, ListFormat::kFeed}) {
    if (formatName(f) == name) {
      *out = f;
      return true;
    }
  }
  return false;
}

ListFormat detectFormat(std::string_view head) {
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  int lines = 0;
  int hosts = 0;
  int adguard = 0;
  int rpz = 0;
  int other = 0;
  size_t pos = 0;
  bool first = true;
  while (pos < head.size() && lines < kDetectLines) {
    size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view raw = head.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view t = trim(raw);
    if (t.empty()) continue;
    if (t.starts_with("[Adblock") || t.starts_with("[uBlock") || t.front() == '!') {
      ++adguard;
      continue;
    }
    if (t.front() == '#' || t.front() == ';') {
      continue;
    }
    ++lines;
    if (first) {
      first = false;
      // Feeds announce themselves on the first meaningful line.
      if (t.front() == '{' || t == "---" || t.starts_with("entries:") ||
          t.starts_with("version:") || t.starts_with("feed:")) {
        return ListFormat::kFeed;
      }
    }
    if (t.front() == '$') {
      const std::string d = lowerCopy(t.substr(0, t.find_first_of(" \t")));
      if (d == "$origin" || d == "$ttl") ++rpz;
      continue;
    }
    const std::vector<std::string_view> tk = tokens(t.substr(0, t.find(';')));
    bool is_rr = false;
    for (size_t k = 1; k < tk.size() && k < 5; ++k) {
      const std::string ty = lowerCopy(tk[k]);
      if (ty == "soa" || ty == "cname" || ty == "ns") is_rr = true;
    }
    if (is_rr) {
      ++rpz;
      continue;
    }
    if (t.starts_with("||") || t.starts_with("@@||")) {
      ++adguard;
      continue;
    }
    if (lines == 1 && isCsvHeader(t)) return ListFormat::kCsv;
    IpAddr ip;
    if (tk.size() >= 2 && tk[1].front() != '#' && parseIp(std::string(tk[0]), &ip)) {
      ++hosts;
      continue;
    }
    ++other;
  }
  if (rpz > 0 && rpz >= hosts && rpz >= adguard) return ListFormat::kRpz;
  if (adguard > other && adguard >= hosts) return ListFormat::kAdguard;
  if (hosts > other) return ListFormat::kHosts;
  return ListFormat::kList;
}

ListFormat parseList(std::string_view content, ListFormat f, const CsvOptions& csv,
                     EntrySink* sink) {
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  LineReader r(content, sink);
  return parseWith(r, f, csv, sink);
}

ListFormat readList(const std::string& path, ListFormat f, const CsvOptions& csv, EntrySink* sink) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    sink->error(0, std::strerror(errno));
    return f;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    sink->error(0, std::strerror(S_ISDIR(st.st_mode) ? EISDIR : errno));
    ::close(fd);
    return f;
  }
  // A BOM is dropped by peeking it and skipping 3 bytes with a read.
  char bom[3];
  const ssize_t n = ::pread(fd, bom, 3, 0);
  if (n == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0) {
    if (::lseek(fd, 3, SEEK_SET) != 3) {
      sink->error(0, std::strerror(errno));
      ::close(fd);
      return f;
    }
  }
  LineReader r(fd, sink);
  const ListFormat used = parseWith(r, f, csv, sink);
  ::close(fd);
  return used;
}

bool parseTime(std::string_view text, int64_t* out) {
  std::string_view s = trim(text);
  if (s.empty()) return false;
  const auto digits = [](std::string_view d, int* v) {
    if (d.empty()) return false;
    *v = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return false;
      *v = *v * 10 + (c - '0');
    }
    return true;
  };
  // Unix seconds.
  if (s.find_first_not_of("0123456789") == std::string_view::npos ||
      (s.front() == '-' && s.size() > 1 &&
       s.substr(1).find_first_not_of("0123456789") == std::string_view::npos)) {
    if (s.size() > 18) return false;
    *out = std::stoll(std::string(s));
    return true;
  }
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digits(s.substr(0, 4), &y) ||
      !digits(s.substr(5, 2), &mo) || !digits(s.substr(8, 2), &d)) {
    return false;
  }
  int64_t offset = 0;
  if (s.size() > 10) {
    const char sep = s[10];
    if (sep != 'T' && sep != 't' && sep != ' ') return false;
    std::string_view t = s.substr(11);
    if (t.size() < 8 || t[2] != ':' || t[5] != ':' || !digits(t.substr(0, 2), &h) ||
        !digits(t.substr(3, 2), &mi) || !digits(t.substr(6, 2), &sec)) {
      return false;
    }
    t.remove_prefix(8);
    if (!t.empty() && t.front() == '.') {
      size_t k = 1;
      while (k < t.size() && t[k] >= '0' && t[k] <= '9') ++k;
      if (k == 1) return false;
      t.remove_prefix(k);
    }
    if (t == "Z" || t == "z") {
      offset = 0;
    } else if (t.size() == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':') {
      int oh, om;
      if (!digits(t.substr(1, 2), &oh) || !digits(t.substr(4, 2), &om) || oh > 23 || om > 59) {
        return false;
      }
      offset = (oh * 3600 + om * 60) * (t[0] == '-' ? -1 : 1);
    } else {
      return false;  // a time without a zone is ambiguous
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const time_t t = ::timegm(&tm);
  if (tm.tm_mday != d) return false;  // 2026-02-30 normalised into March
  *out = static_cast<int64_t>(t) - offset;
  return true;
}

std::string formatTime(int64_t t) {
  if (t == kNoTimeBound) return "-inf";
  if (t == kForever) return "never";
  const time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cordon::rules
