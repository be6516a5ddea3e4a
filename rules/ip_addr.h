#pragma once
// An IPv4 or IPv6 address as the dataplane extracts it and the rule matcher looks it up.

#include <cstdint>
#include <cstring>
#include <string>

namespace cordon {

struct IpAddr {
  uint8_t family = 0;      // 4 or 6; 0 = unset
  uint8_t bytes[16] = {};  // network order; IPv4 uses bytes[0..3], the rest stays zero

  static IpAddr v4(const uint8_t* b) {
    IpAddr a;
    a.family = 4;
    std::memcpy(a.bytes, b, 4);
    return a;
  }
  static IpAddr v6(const uint8_t* b) {
    IpAddr a;
    a.family = 6;
    std::memcpy(a.bytes, b, 16);
    return a;
  }
  size_t length() const { return family == 6 ? 16 : 4; }
  bool operator==(const IpAddr& o) const {
    return family == o.family && std::memcmp(bytes, o.bytes, 16) == 0;
  }
};

// Presentation form ("192.0.2.1", "2001:db8::1"); writes at most 46 bytes incl. NUL.
void formatIp(const IpAddr& a, char* out, size_t cap);
std::string ipToString(const IpAddr& a);
// Parses presentation form; false on anything else.
bool parseIp(const std::string& text, IpAddr* out);

}  // namespace cordon
