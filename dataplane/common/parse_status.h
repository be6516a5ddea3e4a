#pragma once
// Why a parser stopped. "Need more data" is not "malformed": a ClientHello whose first
// segment arrived is kNeedMore until the rest is reassembled.

#include <cstdint>

namespace cordon {

enum class ParseStatus : uint8_t {
  kOk,           // parsed; the out-struct is filled
  kNeedMore,     // a valid prefix; more bytes of the stream are needed
  kMalformed,    // violates the protocol; do not inspect further
  kUnsupported,  // valid but not something cordon inspects (e.g. a DNS response, SSLv2)
};

constexpr const char* parseStatusName(ParseStatus s) {
  switch (s) {
    case ParseStatus::kOk:
      return "ok";
    case ParseStatus::kNeedMore:
      return "need_more";
    case ParseStatus::kMalformed:
      return "malformed";
    case ParseStatus::kUnsupported:
      return "unsupported";
  }
  return "?";
}

}  // namespace cordon
