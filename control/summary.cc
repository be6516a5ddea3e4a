#include "control/summary.h"

namespace cordon {

std::string formatSummary(const Counters& c, uint64_t events, const std::string& extra_fields) {
  auto kv = [](const char* k, uint64_t v) {
    return std::string("\"") + k + "\":" + std::to_string(v);
  };
  std::string s = "{";
  s += kv("packets_in", c.get(Counter::packets_in)) + ",";
  s += kv("packets_out", c.get(Counter::packets_out)) + ",";
  s += kv("dropped", c.get(Counter::dropped)) + ",";
  s += kv("injected", c.get(Counter::injected)) + ",";
  s += kv("blocked_flows", c.get(Counter::blocked_flows)) + ",";
  s += kv("malformed", c.get(Counter::malformed)) + ",";
  s += kv("events", events);
  if (!extra_fields.empty()) s += "," + extra_fields;
  s += ",\"counters\":{";
  bool first = true;
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (!c.v[i]) continue;
    if (!first) s += ",";
    first = false;
    s += kv(kCounterNames[i], c.v[i]);
  }
  s += "}}";
  return s;
}

}  // namespace cordon
