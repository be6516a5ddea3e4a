// libFuzzer target for the DNS query parser (dataplane/inspect/dns/dns_query.h): the input is
// a UDP payload, and also a TCP stream of length-framed messages (RFC 1035 section 4.2.2).

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/inspect/dns/dns_query.h"

namespace {

using cordon::ParseStatus;
using cordon::dns::DnsQuery;

// Checks what a kOk result promises; a violation aborts so libFuzzer reports it.
void checkQuery(std::span<const uint8_t> msg, const DnsQuery& q) {
  if (q.name_len > cordon::dns::kMaxNameText || q.name[q.name_len] != '\0') __builtin_trap();
  if (q.question_end > msg.size() || q.question_end < 12 + 1 + 4) __builtin_trap();
  for (size_t i = 0; i < q.name_len; ++i) {
    const char c = q.name[i];
    const bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                       c == '*' || c == '.' || c == '\\';
    if (!plain) __builtin_trap();  // upper case and other bytes must have been escaped
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  DnsQuery q;
  if (cordon::dns::parseDnsQuery(in, &q) == ParseStatus::kOk) checkQuery(in, q);

  std::span<const uint8_t> stream = in;
  for (;;) {
    size_t len = 0;
    if (cordon::dns::dnsTcpFrame(stream, &len) != ParseStatus::kOk) break;
    if (len == 0 || 2 + len > stream.size()) __builtin_trap();
    const std::span<const uint8_t> msg = stream.subspan(2, len);
    if (cordon::dns::parseDnsQuery(msg, &q) == ParseStatus::kOk) checkQuery(msg, q);
    stream = stream.subspan(2 + len);
  }
  return 0;
}
