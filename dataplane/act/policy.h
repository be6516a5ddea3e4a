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
};

}  // namespace cordon
