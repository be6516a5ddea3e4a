#pragma once
// Enforcement policy the fast path applies on a match (ARCHITECTURE.md "Default actions").
// Filled from the config by the control plane; read-only for workers.

#include <cstdint>
#include <string>

#include "rules/ip_addr.h"

namespace cordon {

enum class Mode : uint8_t { kInline, kMirror };
enum class TlsAction : uint8_t { kReset, kDrop };
enum class HttpAction : uint8_t { kRedirect, kReset, kPage, kDrop };
enum class DnsAction : uint8_t { kNxdomain, kSinkhole, kRefused, kDrop };
enum class IpAction : uint8_t { kDrop, kReset };
// ClientHellos carrying encrypted_client_hello: kPass matches the outer SNI like any other
// hello; kBlock blocks every such hello (browsers also send GREASE ECH, RFC draft-ietf-tls-esni
// section 6.2, which is indistinguishable on the wire, so kBlock blocks those clients too).
enum class EchPolicy : uint8_t { kPass, kBlock };
// What happens to a packet cordon cannot inspect because a bounded resource is spent (flow
// table full, reassembly buffers or IP fragment contexts exhausted, a fragmented datagram
// beyond the reassembly limits): kOpen forwards it uninspected, kClosed drops it. Both count
// it per reason. ARCHITECTURE.md "Bad input and faults": fail-open by default.
enum class FailMode : uint8_t { kOpen, kClosed };

// Mirror mode sends each injected packet up to this many times: cordon races the real
// server's answer, and a copy that arrives just after a lost or late first one still wins.
// More copies than this only add load on the inject port.
inline constexpr uint8_t kMaxInjectCopies = 4;

struct ActionsConfig {
  TlsAction tls = TlsAction::kReset;
  // HTTP default: redirect when a location is configured, else reset.
  HttpAction http = HttpAction::kReset;
  std::string http_location;
  DnsAction dns = DnsAction::kNxdomain;
  IpAddr sinkhole_a;  // family 0 when not configured
  IpAddr sinkhole_aaaa;
  uint32_t dns_ttl = 60;  // TTL of sinkhole answers
  IpAction ip = IpAction::kDrop;
  EchPolicy ech = EchPolicy::kPass;
  // actions.residual.seconds: after a TLS/HTTP/QUIC block, new connections from that client
  // to that server IP and port are refused for this long (dataplane/flow/residual.h). 0: off.
  uint32_t residual_s = 0;
  // dataplane.fail (kept here so it reaches every worker with the rest of the policy).
  FailMode fail = FailMode::kOpen;
  // dataplane.inject_copies (1..kMaxInjectCopies): mirror mode emits each injected packet
  // this many times. Inline mode ignores it (the trigger is dropped, there is no race).
  uint8_t inject_copies = 1;
};

}  // namespace cordon
