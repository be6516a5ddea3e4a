#include "rules/ip_addr.h"

#include <arpa/inet.h>

#include <algorithm>

namespace cordon {

void formatIp(const IpAddr& a, char* out, size_t cap) {
  if (cap == 0) return;
  char buf[INET6_ADDRSTRLEN] = {};
  const char* r = nullptr;
  if (a.family == 4) {
    r = inet_ntop(AF_INET, a.bytes, buf, sizeof buf);
  } else if (a.family == 6) {
    r = inet_ntop(AF_INET6, a.bytes, buf, sizeof buf);
  }
  if (r == nullptr) buf[0] = '\0';
  const size_t n = std::min(std::strlen(buf), cap - 1);
  std::memcpy(out, buf, n);
  out[n] = '\0';
}

std::string ipToString(const IpAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  formatIp(a, buf, sizeof buf);
  return buf;
}

bool parseIp(const std::string& text, IpAddr* out) {
  IpAddr a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes) == 1) {
    a.family = 4;
  } else if (inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) {
    a.family = 6;
  } else {
    return false;
  }
  *out = a;
  return true;
}

}  // namespace cordon
