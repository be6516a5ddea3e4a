// HTTP/1.x request-head parsing (RFC 9112 sections 2-3 and 5-6, RFC 9110 sections 7.2 and
// 8.6). See http_request.h.
//
// HTTP is text: the head is scanned as a std::string_view over the packet bytes with
// find()/compare(), which are bounds-checked, so no ByteReader is needed here.

#include "dataplane/inspect/http/http_request.h"

#include <algorithm>
#include <array>

namespace cordon::http {
namespace {

// RFC 9110 section 9 (and RFC 5789 PATCH): the methods cordon recognises at the start of a
// stream; plus WebDAV's (RFC 4918 section 9), which carry a Host like any request and would
// otherwise be a way past enforcement (seen in nDPI's webdav.pcap).
constexpr std::array<std::string_view, 16> kMethods = {
    "GET",   "HEAD",     "POST",      "PUT",   "DELETE", "CONNECT", "OPTIONS", "TRACE",
    "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY",   "MOVE",    "LOCK",    "UNLOCK"};

// Content-Length digits accepted: 18 decimal digits cannot overflow uint64_t and exceed any
// body cordon could skip (the worker stops at 2 GiB anyway).
constexpr size_t kMaxContentLengthDigits = 18;

constexpr bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
constexpr bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool isWs(char c) {
  return c == ' ' || c == '\t';
}  // RFC 9110 section 5.6.3 OWS

// RFC 9110 section 5.6.2 tchar.
constexpr bool isTchar(char c) {
  if (isDigit(c) || isAlpha(c)) return true;
  constexpr std::string_view kSpecial = "!#$%&'*+-.^_`|~";
  return kSpecial.find(c) != std::string_view::npos;
}
constexpr bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!isTchar(c)) return false;
  }
  return true;
}

constexpr char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trimWs(std::string_view s) {
  while (!s.empty() && isWs(s.front())) s.remove_prefix(1);
  while (!s.empty() && isWs(s.back())) s.remove_suffix(1);
  return s;
}

// Next line of `head` from *pos, without its LF and an optional CR before it (RFC 9112
// section 2.2 lets a recipient accept a bare LF). False when no complete line remains.
bool nextLine(std::string_view head, size_t* pos, std::string_view* line) {
  const size_t lf = head.find('\n', *pos);
  if (lf == std::string_view::npos) return false;
  *line = head.substr(*pos, lf - *pos);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  *pos = lf + 1;
  return true;
}

// Reduces an authority (RFC 3986 section 3.2) to its host: drops "userinfo@" and ":port";
// an IP-literal keeps its brackets. False when what is left is not a plausible host.
bool authorityHost(std::string_view authority, std::string_view* host) {
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    authority = authority.substr(0, close + 1);
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) authority = authority.substr(0, colon);
  }
  for (const char c : authority) {
    // RFC 3986 reg-name/IP-literal characters never include whitespace, controls or DEL.
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  *host = authority;
  return true;
}

// RFC 9110 section 8.6: Content-Length = 1*DIGIT; a list of identical values is tolerated.
bool parseContentLength(std::string_view value, bool* seen, uint64_t* out) {
  for (;;) {
    const size_t comma = value.find(',');
    const std::string_view item = trimWs(value.substr(0, comma));
    if (item.empty() || item.size() > kMaxContentLengthDigits) return false;
    uint64_t v = 0;
    for (const char c : item) {
      if (!isDigit(c)) return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (*seen && v != *out) return false;
    *seen = true;
    *out = v;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

// RFC 9112 section 3: request-line = method SP request-target SP HTTP-version. Runs of SP or
// HTAB between the parts are tolerated (section 3 allows whitespace-delimited parsing), so a
// request a lenient server accepts is not waved through as malformed.
ParseStatus parseRequestLine(std::string_view line, HttpRequest* out) {
  const size_t sp1 = line.find_first_of(" \t");
  if (sp1 == std::string_view::npos) return ParseStatus::kMalformed;
  out->method = line.substr(0, sp1);
  if (!isToken(out->method)) return ParseStatus::kMalformed;
  line.remove_prefix(sp1);
  line = trimWs(line);
  // The version is the last word. Whatever lies between the method and it is the target,
  // raw spaces included: invalid per section 3, but lenient servers (Python's http.server,
  // several embedded ones) accept "GET /a b HTTP/1.1", so treating it as malformed would let
  // such a request through uninspected.
  const size_t sp2 = line.find_last_of(" \t");
  // HTTP/0.9 ("GET /") has no version and no Host: nothing to inspect.
  if (sp2 == std::string_view::npos) return ParseStatus::kUnsupported;
  out->target = trimWs(line.substr(0, sp2));
  const std::string_view version = line.substr(sp2 + 1);
  for (const char c : out->target) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) return ParseStatus::kMalformed;
  }
  // RFC 9112 section 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
  constexpr std::string_view kHttpSlash = "HTTP/";
  if (version.size() != kHttpSlash.size() + 3 || version.substr(0, 5) != kHttpSlash ||
      !isDigit(version[5]) || version[6] != '.' || !isDigit(version[7])) {
    return ParseStatus::kMalformed;
  }
  if (version[5] != '1') return ParseStatus::kUnsupported;  // only HTTP/1.x is parsed here
  out->version_minor = static_cast<uint8_t>(version[7] - '0');
  return ParseStatus::kOk;
}

// RFC 9112 section 3.2: the four forms of request-target. Sets path, and the host for the
// absolute and authority forms (which override any Host header, section 3.2.2).
ParseStatus parseTarget(HttpRequest* out, bool* host_from_target) {
  const std::string_view t = out->target;
  *host_from_target = false;
  if (t.front() == '/') {  // origin-form
    out->path = t;
    return ParseStatus::kOk;
  }
  if (t == "*") {  // asterisk-form (OPTIONS)
    out->path = t;
    return ParseStatus::kOk;
  }
  // absolute-form: scheme "://" authority path-abempty [ "?" query ] (RFC 3986 section 3).
  const size_t scheme_end = t.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0 && isAlpha(t.front())) {
    bool scheme_ok = true;
    for (const char c : t.substr(0, scheme_end)) {
      if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') scheme_ok = false;
    }
    if (scheme_ok) {
      const std::string_view rest = t.substr(scheme_end + 3);
      const size_t path_start = rest.find_first_of("/?#");
      const std::string_view authority = rest.substr(0, path_start);
      if (!authorityHost(authority, &out->host) || out->host.empty()) {
        return ParseStatus::kMalformed;
      }
      // "/" for an absolute-form target without a path. A target like "http://h?q" keeps its
      // "?q" as is: the views cannot insert the missing "/".
      out->path =
          path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
      *host_from_target = true;
      return ParseStatus::kOk;
    }
  }
  // authority-form (CONNECT only): host ":" port.
  if (out->method == "CONNECT") {
    if (!authorityHost(t, &out->host) || out->host.empty()) return ParseStatus::kMalformed;
    out->path = {};
    *host_from_target = true;
    return ParseStatus::kOk;
  }
  return ParseStatus::kMalformed;
}

// Header fields cordon needs, with obs-fold continuation state.
enum class Field : uint8_t { kOther, kHost, kContentLength, kTransferEncoding };

struct HeadState {
  bool host_from_target = false;
  bool host_seen = false;
  std::string_view host_value;  // raw (trimmed) Host value, possibly empty
  bool content_length_seen = false;
  Field last = Field::kOther;    // field a following obs-fold line continues
  bool last_value_empty = true;  // whether that field's value so far is empty
  bool any_field = false;
};

ParseStatus applyField(Field field, std::string_view value, HeadState* s, HttpRequest* out) {
  switch (field) {
    case Field::kHost:
      // RFC 9112 section 3.2: more than one Host line gets a 400; identical copies are
      // harmless, differing ones are malformed.
      if (s->host_seen && s->host_value != value) return ParseStatus::kMalformed;
      s->host_seen = true;
      s->host_value = value;
      return ParseStatus::kOk;
    case Field::kContentLength:
      if (!parseContentLength(value, &s->content_length_seen, &out->content_length)) {
        return ParseStatus::kMalformed;
      }
      return ParseStatus::kOk;
    case Field::kTransferEncoding:
      // RFC 9112 section 6.1: any transfer coding overrides Content-Length; with chunked
      // last the body is chunked, otherwise its length is unknown too. Either way the body
      // length cannot be taken from the head.
      out->chunked = true;
      return ParseStatus::kOk;
    case Field::kOther:
      return ParseStatus::kOk;
  }
  return ParseStatus::kOk;
}

// One header line (RFC 9112 section 5): field-name ":" OWS field-value OWS, or an obs-fold
// continuation of the previous line (section 5.2).
ParseStatus parseHeaderLine(std::string_view line, HeadState* s, HttpRequest* out) {
  if (isWs(line.front())) {
    const std::string_view more = trimWs(line);
    // RFC 9112 section 2.2: whitespace-led lines before the first field are ignored.
    if (!s->any_field || more.empty() || s->last == Field::kOther) return ParseStatus::kOk;
    // Section 5.2: obs-fold is replaced by SP. For the fields cordon reads, a value split
    // across lines is only usable when the first line was empty ("Host:\r\n example.com").
    if (!s->last_value_empty) return ParseStatus::kMalformed;
    if (s->last == Field::kHost) s->host_seen = false;  // replace the empty value
    s->last_value_empty = false;
    return applyField(s->last, more, s, out);
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ParseStatus::kMalformed;
  const std::string_view name = line.substr(0, colon);
  // Section 5.1: no whitespace between field name and colon (a server must reject it).
  if (!isToken(name)) return ParseStatus::kMalformed;
  const std::string_view value = trimWs(line.substr(colon + 1));
  Field field = Field::kOther;
  if (equalsNoCase(name, "host")) {
    field = Field::kHost;
  } else if (equalsNoCase(name, "content-length")) {
    field = Field::kContentLength;
  } else if (equalsNoCase(name, "transfer-encoding")) {
    field = Field::kTransferEncoding;
  }
  s->any_field = true;
  s->last = field;
  s->last_value_empty = value.empty();
  return applyField(field, value, s, out);
}

}  // namespace

bool looksLikeHttpRequest(std::span<const uint8_t> stream) {
  if (stream.empty()) return false;
  const std::string_view s(reinterpret_cast<const char*>(stream.data()), stream.size());
  for (const std::string_view m : kMethods) {
    const size_t n = std::min(s.size(), m.size());
    if (s.compare(0, n, m, 0, n) != 0) continue;
    if (s.size() <= m.size() || s[m.size()] == ' ') return true;
  }
  return false;
}

ParseStatus parseHttpRequest(std::span<const uint8_t> data, HttpRequest* out) {
  *out = HttpRequest{};
  const std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  // Only the first kMaxRequestHeadBytes are ever looked at.
  const std::string_view head = all.substr(0, kMaxRequestHeadBytes);
  const auto incomplete = [&] {
    return all.size() >= kMaxRequestHeadBytes ? ParseStatus::kUnsupported : ParseStatus::kNeedMore;
  };
  size_t pos = 0;
  std::string_view line;
  // RFC 9112 section 2.2: ignore empty lines before the request-line (a CRLF some clients
  // send after a body).
  do {
    if (!nextLine(head, &pos, &line)) return incomplete();
  } while (line.empty());
  ParseStatus st = parseRequestLine(line, out);
  if (st != ParseStatus::kOk) return st;
  HeadState s;
  st = parseTarget(out, &s.host_from_target);
  if (st != ParseStatus::kOk) return st;
  for (;;) {
    if (!nextLine(head, &pos, &line)) return incomplete();
    if (line.empty()) break;
    st = parseHeaderLine(line, &s, out);
    if (st != ParseStatus::kOk) return st;
  }
  out->head_len = pos;
  if (!s.host_from_target && s.host_seen && !s.host_value.empty()) {
    if (!authorityHost(s.host_value, &out->host)) return ParseStatus::kMalformed;
  }
  return ParseStatus::kOk;
}

}  // namespace cordon::http
