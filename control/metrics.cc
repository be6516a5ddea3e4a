#include "control/metrics.h"

#include <cstdio>

#include "control/event_log.h"

namespace cordon {
namespace {

std::string q(std::string_view s) {
  std::string out = "\"";
  appendJsonEscaped(s, &out);
  out += "\"";
  return out;
}

// Prometheus label value escaping: backslash, double quote and newline.
std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

Counters total(const TelemetryInput& in) {
  Counters t;
  for (const auto& w : in.workers) t.add(w);
  return t;
}

std::string isoTime(std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  return formatTimestamp(static_cast<uint64_t>(ns.count()));
}

}  // namespace

Counters loadCounters(const Counters& c) {
  Counters out;
  for (size_t i = 0; i < kCounterCount; ++i) out.v[i] = __atomic_load_n(&c.v[i], __ATOMIC_RELAXED);
  return out;
}

double Telemetry::uptime() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Telemetry::record(const EventRecord& e) {
  const std::string list = e.rule ? std::string(e.rule->list()) : "";
  ++blocks_[{appProtoName(e.app), eventTypeName(e.type), list}];
  if (e.rule) ++rule_hits_[{list, std::string(e.rule->pattern)}];
}

std::string Telemetry::statusJson(const TelemetryInput& in) const {
  const ReloadResult& r = in.reload;
  std::string s = "{\"uptime_s\":" + num(uptime()) + ",\"mode\":" + q(in.mode) +
                  ",\"workers\":" + std::to_string(in.workers.size()) +
                  ",\"snapshot\":{\"version\":" + std::to_string(r.version) +
                  ",\"rules\":" + std::to_string(r.rules) + "},\"lists\":[";
  for (size_t i = 0; i < in.lists.size(); ++i) {
    if (i) s += ",";
    s += "{\"name\":" + q(in.lists[i].first) + ",\"source\":" + q(in.lists[i].second) + "}";
  }
  s += "],\"last_reload\":{\"attempts\":" + std::to_string(r.attempts) +
       ",\"failures\":" + std::to_string(r.failures) + ",\"ok\":" + (r.last_ok ? "true" : "false") +
       ",\"time\":" + q(isoTime(r.last_time)) + ",\"compile_s\":" + num(r.last_compile_s) +
       ",\"publish_s\":" + num(r.last_publish_s);
  if (!r.last_ok) s += ",\"error\":" + q(r.last_error);
  s += "},\"feeds\":" + in.feeds_json + "}";
  return s;
}

std::string Telemetry::statsJson(const TelemetryInput& in) const {
  auto counters = [](const Counters& c) {
    std::string s = "{";
    bool first = true;
    for (size_t i = 0; i < kCounterCount; ++i) {
      if (!c.v[i]) continue;
      if (!first) s += ",";
      first = false;
      s += std::string("\"") + kCounterNames[i] + "\":" + std::to_string(c.v[i]);
    }
    return s + "}";
  };
  std::string s = "{\"uptime_s\":" + num(uptime()) +
                  ",\"max_loop_gap_us\":" + num(static_cast<double>(in.max_loop_gap_ns) / 1e3) +
                  ",\"total\":" + counters(total(in)) + ",\"workers\":[";
  for (size_t i = 0; i < in.workers.size(); ++i) {
    if (i) s += ",";
    s += "{\"worker\":" + std::to_string(i) +
         ",\"flows\":" + std::to_string(i < in.flows.size() ? in.flows[i] : 0) +
         ",\"busy_ratio\":" + num(i < in.busy_ratio.size() ? in.busy_ratio[i] : 0) +
         ",\"counters\":" + counters(in.workers[i]) + "}";
  }
  s += "],\"ports\":[";
  for (size_t i = 0; i < in.ports.size(); ++i) {
    const PortReport& p = in.ports[i];
    if (i) s += ",";
    s += "{\"name\":" + q(p.name) + ",\"rss\":" + (p.rss ? "true" : "false") +
         ",\"rx_queues\":" + std::to_string(p.rx_queues) +
         ",\"tx_queues\":" + std::to_string(p.tx_queues) +
         ",\"rx_packets\":" + std::to_string(p.ipackets) +
         ",\"tx_packets\":" + std::to_string(p.opackets) +
         ",\"rx_bytes\":" + std::to_string(p.ibytes) + ",\"tx_bytes\":" + std::to_string(p.obytes) +
         ",\"rx_missed\":" + std::to_string(p.imissed) +
         ",\"rx_errors\":" + std::to_string(p.ierrors) +
         ",\"tx_errors\":" + std::to_string(p.oerrors) + "}";
  }
  s += "],\"events\":{\"written\":" + std::to_string(in.events_written) +
       ",\"lost\":" + std::to_string(in.events_lost) + "}}";
  return s;
}

std::string Telemetry::hitsJson() const {
  std::string s = "{\"by_list\":[";
  bool first = true;
  for (const auto& [k, n] : blocks_) {
    if (!first) s += ",";
    first = false;
    s += "{\"app_proto\":" + q(std::get<0>(k)) + ",\"event_type\":" + q(std::get<1>(k)) +
         ",\"list\":" + q(std::get<2>(k)) + ",\"events\":" + std::to_string(n) + "}";
  }
  s += "],\"by_rule\":[";
  first = true;
  for (const auto& [k, n] : rule_hits_) {
    if (!first) s += ",";
    first = false;
    s += "{\"list\":" + q(k.first) + ",\"pattern\":" + q(k.second) +
         ",\"events\":" + std::to_string(n) + "}";
  }
  return s + "]}";
}

std::string Telemetry::prometheus(const TelemetryInput& in) const {
  std::string s;
  auto head = [&](const char* name, const char* type, const std::string& help) {
    s += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  // Every fast-path counter, per worker, from the one X-macro list.
  for (size_t i = 0; i < kCounterCount; ++i) {
    const std::string name = std::string("cordon_") + kCounterNames[i] + "_total";
    head(name.c_str(), "counter", kCounterHelp[i]);
    for (size_t w = 0; w < in.workers.size(); ++w) {
      s += name + "{worker=\"" + std::to_string(w) + "\"} " + std::to_string(in.workers[w].v[i]) +
           "\n";
    }
  }
  head("cordon_port_packets_total", "counter", "Packets received/transmitted by a port.");
  for (const auto& p : in.ports) {
    s += "cordon_port_packets_total{port=\"" + label(p.name) + "\",dir=\"rx\"} " +
         std::to_string(p.ipackets) + "\n";
    s += "cordon_port_packets_total{port=\"" + label(p.name) + "\",dir=\"tx\"} " +
         std::to_string(p.opackets) + "\n";
  }
  head("cordon_port_bytes_total", "counter", "Bytes received/transmitted by a port.");
  for (const auto& p : in.ports) {
    s += "cordon_port_bytes_total{port=\"" + label(p.name) + "\",dir=\"rx\"} " +
         std::to_string(p.ibytes) + "\n";
    s += "cordon_port_bytes_total{port=\"" + label(p.name) + "\",dir=\"tx\"} " +
         std::to_string(p.obytes) + "\n";
  }
  head("cordon_port_rx_missed_total", "counter", "Packets the NIC dropped: no free descriptor.");
  for (const auto& p : in.ports) {
    s += "cordon_port_rx_missed_total{port=\"" + label(p.name) + "\"} " +
         std::to_string(p.imissed) + "\n";
  }
  head("cordon_enforcements_total", "counter",
       "Enforcement events by application protocol, event type and list.");
  for (const auto& [k, n] : blocks_) {
    s += "cordon_enforcements_total{app_proto=\"" + label(std::get<0>(k)) + "\",event_type=\"" +
         label(std::get<1>(k)) + "\",list=\"" + label(std::get<2>(k)) + "\"} " + std::to_string(n) +
         "\n";
  }
  head("cordon_events_lost_total", "counter", "Events dropped because a ring was full.");
  s += "cordon_events_lost_total " + std::to_string(in.events_lost) + "\n";
  head("cordon_flows_active", "gauge", "Flows in a worker's table.");
  for (size_t w = 0; w < in.flows.size(); ++w) {
    s += "cordon_flows_active{worker=\"" + std::to_string(w) + "\"} " +
         std::to_string(in.flows[w]) + "\n";
  }
  head("cordon_flow_table_capacity", "gauge", "Flow table size per worker.");
  s += "cordon_flow_table_capacity " + std::to_string(in.flow_capacity) + "\n";
  head("cordon_worker_busy_ratio", "gauge", "Share of time a worker spent on packets.");
  for (size_t w = 0; w < in.busy_ratio.size(); ++w) {
    s += "cordon_worker_busy_ratio{worker=\"" + std::to_string(w) + "\"} " + num(in.busy_ratio[w]) +
         "\n";
  }
  head("cordon_worker_busy_seconds_total", "counter",
       "Seconds a worker spent on packets; rate() gives its current busy ratio.");
  for (size_t w = 0; w < in.busy_seconds.size(); ++w) {
    s += "cordon_worker_busy_seconds_total{worker=\"" + std::to_string(w) + "\"} " +
         num(in.busy_seconds[w]) + "\n";
  }
  const ReloadResult& r = in.reload;
  head("cordon_snapshot_version", "gauge", "Version of the rule snapshot in force.");
  s += "cordon_snapshot_version " + std::to_string(r.version) + "\n";
  head("cordon_snapshot_rules", "gauge", "Rules in the snapshot in force.");
  s += "cordon_snapshot_rules " + std::to_string(r.rules) + "\n";
  head("cordon_reloads_total", "counter", "Rule reloads by result.");
  s += "cordon_reloads_total{result=\"ok\"} " + std::to_string(r.attempts - r.failures) + "\n";
  s += "cordon_reloads_total{result=\"rejected\"} " + std::to_string(r.failures) + "\n";
  head("cordon_reload_last_ok", "gauge", "1 when the last reload succeeded.");
  s += std::string("cordon_reload_last_ok ") + (r.last_ok ? "1" : "0") + "\n";
  head("cordon_reload_last_seconds", "gauge", "Compile and publish time of the last reload.");
  s += "cordon_reload_last_seconds{phase=\"compile\"} " + num(r.last_compile_s) + "\n";
  s += "cordon_reload_last_seconds{phase=\"publish\"} " + num(r.last_publish_s) + "\n";
  head("cordon_uptime_seconds", "gauge", "Seconds since cordond started.");
  s += "cordon_uptime_seconds " + num(uptime()) + "\n";
  head("cordon_evidence_records_total", "counter", "Events appended to the evidence ledger.");
  s += "cordon_evidence_records_total " + std::to_string(in.evidence_records) + "\n";
  head("cordon_evidence_failures_total", "counter",
       "Events that could not be appended to the evidence ledger.");
  s += "cordon_evidence_failures_total " + std::to_string(in.evidence_failures) + "\n";
  head("cordon_follower_lines_lost_total", "counter",
       "Event lines lost by 'events --follow' clients too slow to read them.");
  s += "cordon_follower_lines_lost_total " + std::to_string(in.follower_lines_lost) + "\n";
  s += in.feeds_prometheus;
  return s;
}

}  // namespace cordon
