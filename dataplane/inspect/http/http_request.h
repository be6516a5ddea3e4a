#pragma once
// HTTP/1.x request-head parsing (RFC 9112 sections 2-3, 5; RFC 9110 section 7.2 Host).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/common/parse_status.h"

namespace cordon::http {

// Largest request head (request line + headers) cordon buffers. Servers commonly refuse
// heads over 8-16 KiB (nginx large_client_header_buffers 4x8k), so a longer one is not
// inspected (fail open, counted).
inline constexpr size_t kMaxRequestHeadBytes = 16384;

struct HttpRequest {
  std::string_view method;  // "GET"
  std::string_view target;  // request-target as sent
  // Effective host: the authority of an absolute-form target ("http://h:p/x") if present,
  // else the Host header value; surrounding whitespace and the ":port" removed (for "[v6]:p"
  // the brackets stay). Empty when neither is present.
  std::string_view host;
  // path?query of the target ("/" for absolute-form without path, "*" for OPTIONS *).
  std::string_view path;
  uint8_t version_minor = 1;    // HTTP/1.<minor>
  size_t head_len = 0;          // bytes up to and including the blank line
  uint64_t content_length = 0;  // body bytes that follow the head
  bool chunked = false;         // Transfer-Encoding: chunked (body length unknown here)
};

// Cheap content test: the stream starts with a known method token and a space (or a prefix
// of one when fewer bytes are present).
bool looksLikeHttpRequest(std::span<const uint8_t> stream);

// Parses one request head from the start of `data`. Views in *out point into `data`.
// kNeedMore until the blank line arrives (and while under kMaxRequestHeadBytes);
// kMalformed for a bad request line or conflicting Content-Length; kUnsupported past the cap.
ParseStatus parseHttpRequest(std::span<const uint8_t> data, HttpRequest* out);

}  // namespace cordon::http
