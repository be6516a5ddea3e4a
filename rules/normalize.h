#pragma once
// Name and URL normalisation shared by the rule compiler and the fast path, so a rule and
// the traffic it targets compare in one canonical form. The fast-path functions write into
// caller buffers and never allocate.

#include <cstddef>
#include <string_view>

namespace cordon::rules {

// Longest host name cordon normalises (RFC 1035 section 2.3.4: 255 octets on the wire,
// 253 characters in presentation form).
inline constexpr size_t kMaxHostLen = 253;
// Longest normalised URL path?query the fast path matches; longer ones are truncated to
// this many bytes (prefix rules still apply to the kept prefix).
inline constexpr size_t kMaxUrlPathLen = 2048;

// Host as it appears in an SNI, DNS name or HTTP Host header → canonical form:
// ASCII lower case, one trailing dot removed, a ":port" suffix removed ("[v6]:port" → "v6").
// Returns the length written to out (cap >= kMaxHostLen+1), or 0 when the host is empty,
// too long, or contains bytes no host name may contain (space, control, '/', '@', ...).
size_t normalizeHost(std::string_view in, char* out, size_t cap);

// path?query → canonical form: percent-encoded unreserved characters (RFC 3986 section 2.3)
// decoded, dot-segments removed (RFC 3986 section 5.2.4), hex of other escapes upper-cased.
// Returns the length written (truncated to cap), at least "/" for an empty path.
size_t normalizeUrlPath(std::string_view in, char* out, size_t cap);

}  // namespace cordon::rules
