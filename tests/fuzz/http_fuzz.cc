// libFuzzer target for the HTTP/1.x request-head parser (dataplane/inspect/http/
// http_request.h): the input is the start of a client's TCP stream.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/inspect/http/http_request.h"

namespace {

using cordon::ParseStatus;
using cordon::http::HttpRequest;

// Every view must lie inside the input (or be empty / a literal like "/").
void checkView(std::span<const uint8_t> in, std::string_view v) {
  if (v.empty() || v == "/") return;
  const auto* b = reinterpret_cast<const char*>(in.data());
  if (v.data() < b || v.data() + v.size() > b + in.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  (void)cordon::http::looksLikeHttpRequest(in);
  HttpRequest r;
  if (cordon::http::parseHttpRequest(in, &r) != ParseStatus::kOk) return 0;
  if (r.head_len == 0 || r.head_len > size || r.head_len > cordon::http::kMaxRequestHeadBytes) {
    __builtin_trap();
  }
  for (const std::string_view v : {r.method, r.target, r.host, r.path}) checkView(in, v);
  // A head is complete only at its blank line: any shorter prefix must still need more.
  HttpRequest shorter;
  if (cordon::http::parseHttpRequest(in.first(r.head_len - 1), &shorter) !=
      ParseStatus::kNeedMore) {
    __builtin_trap();
  }
  return 0;
}
