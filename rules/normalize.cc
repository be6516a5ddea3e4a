#include "rules/normalize.h"

#include <cstdint>

namespace cordon::rules {
namespace {

// RFC 1035 section 2.3.4: labels are at most 63 octets.
constexpr size_t kMaxLabelLen = 63;

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Bytes a host name may carry after the port is split off. Letters, digits, '-', '_' and
// '.' cover every real name; the other RFC 3986 sub-delims are kept so that odd DNS
// names still reach re: rules. Rejected: controls, space, DEL, non-ASCII (SNI and Host
// carry A-labels, RFC 6066 section 3), and URI delimiters ("/?#[]@%\\" and quotes).
constexpr bool hostByte(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '/':
    case '?':
    case '#':
    case '[':
    case ']':
    case '@':
    case '%':
    case '\\':
    case '"':
    case '<':
    case '>':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
    case ':':
      return false;
    default:
      return true;
  }
}

constexpr bool hexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

constexpr char upperHex(char c) {
  return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 32) : c;
}

// RFC 3986 section 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
constexpr bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

constexpr bool allDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// An IPv6 literal without brackets (inside "[...]" or bare in a DNS/SNI name).
size_t copyV6Literal(std::string_view in, char* out, size_t cap) {
  if (in.empty() || in.size() >= cap || in.size() > kMaxHostLen) return 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = lower(in[i]);
    if (!hexDigit(c) && c != ':' && c != '.') return 0;
    out[i] = c;
  }
  out[in.size()] = '\0';
  return in.size();
}

// Bounded output for normalizeUrlPath: writes stop at cap, the caller sees full().
struct Out {
  char* buf;
  size_t cap;
  size_t len = 0;
  bool full() const { return len >= cap; }
  void put(char c) {
    if (len < cap) buf[len++] = c;
  }
};

// Decodes one percent-escape at in[i] into *out (or copies it with upper-case hex).
// Returns the number of input bytes consumed.
size_t copyEscaped(std::string_view in, size_t i, Out* out) {
  const char c = in[i];
  if (c != '%' || i + 2 >= in.size() || !hexDigit(in[i + 1]) || !hexDigit(in[i + 2])) {
    out->put(c);  // a plain byte, or a stray '%' kept as is
    return 1;
  }
  const auto v = static_cast<unsigned char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2]));
  if (unreserved(v)) {
    out->put(static_cast<char>(v));
  } else {
    out->put('%');
    out->put(upperHex(in[i + 1]));
    out->put(upperHex(in[i + 2]));
  }
  return 3;
}

}  // namespace

size_t normalizeHost(std::string_view in, char* out, size_t cap) {
  if (in.empty() || cap == 0) return 0;
  if (in.front() == '[') {
    // "[v6]" or "[v6]:port" (RFC 3986 section 3.2.2).
    const size_t close = in.find(']');
    if (close == std::string_view::npos) return 0;
    const std::string_view rest = in.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !allDigits(rest.substr(1)))) return 0;
    return copyV6Literal(in.substr(1, close - 1), out, cap);
  }
  const size_t colon = in.find(':');
  if (colon != std::string_view::npos) {
    if (in.find(':', colon + 1) != std::string_view::npos) {
      return copyV6Literal(in, out, cap);  // bare IPv6 literal: no port to strip
    }
    if (!allDigits(in.substr(colon + 1))) return 0;
    in = in.substr(0, colon);
  }
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > kMaxHostLen || in.size() >= cap) return 0;
  size_t label = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '.') {
      if (label == 0) return 0;  // empty label: leading dot or ".."
      label = 0;
    } else {
      if (!hostByte(static_cast<unsigned char>(c)) || ++label > kMaxLabelLen) return 0;
    }
    out[i] = lower(c);
  }
  if (label == 0) return 0;  // a second trailing dot
  out[in.size()] = '\0';
  return in.size();
}

size_t normalizeUrlPath(std::string_view in, char* out_buf, size_t cap) {
  if (cap == 0) return 0;
  Out out{out_buf, cap};
  // A fragment never belongs to a request target; drop it if a client sent one anyway.
  const size_t hash = in.find('#');
  if (hash != std::string_view::npos) in = in.substr(0, hash);
  const size_t qmark = in.find('?');
  std::string_view path = in.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : in.substr(qmark + 1);

  // RFC 3986 section 5.2.4, one segment at a time, on the decoded segment text so that
  // "%2e%2e" is resolved like "..". The output always reads "/seg/seg...".
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t pos = 0;
  for (;;) {
    size_t end = path.find('/', pos);
    const bool last = end == std::string_view::npos;
    if (last) end = path.size();
    const size_t seg_start = out.len;
    out.put('/');
    for (size_t i = pos; i < end && !out.full();) i += copyEscaped(path.substr(0, end), i, &out);
    if (out.full()) return out.len;
    const std::string_view seg(out.buf + seg_start + 1, out.len - seg_start - 1);
    if (seg == "." || seg == "..") {
      out.len = seg_start;
      if (seg == "..") {
        while (out.len > 0 && out.buf[out.len - 1] != '/') --out.len;
        if (out.len > 0) --out.len;  // drop the popped segment's '/'
      }
      if (last) out.put('/');
    }
    if (last) break;
    pos = end + 1;
  }
  if (out.len == 0) out.put('/');
  if (qmark != std::string_view::npos) {
    out.put('?');
    for (size_t i = 0; i < query.size() && !out.full();) i += copyEscaped(query, i, &out);
  }
  if (out.len < cap) out.buf[out.len] = '\0';
  return out.len;
}

}  // namespace cordon::rules
