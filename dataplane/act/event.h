#pragma once
// EventRecord: what a worker tells the control plane about one enforcement decision.
// Fixed size, no pointers into packet memory; `rule` points into the rule snapshot, which
// the control plane keeps alive until every event that names it has been written.

#include <cstdint>

#include "rules/ip_addr.h"
#include "rules/normalize.h"
#include "rules/snapshot.h"

namespace cordon {

enum class EventType : uint8_t { kBlock, kRedirect, kMonitor };
enum class EventAction : uint8_t {
  kDrop,
  kReset,
  kRedirect,
  kNxdomain,
  kSinkhole,
  kRefused,
  kPass,
  kPage,    // HTTP: a 403 notice page (extends the contract's list)
  kNodata,  // DNS: NOERROR without records (RPZ "CNAME *."; extends the contract's list)
};
enum class AppProto : uint8_t { kDns, kTls, kQuic, kHttp, kIp };

// Bytes of the triggering frame an event carries: a full standard Ethernet frame.
inline constexpr size_t kEventFrameBytes = 1518;

struct EventRecord {
  uint64_t ts_ns = 0;  // packet time (capture time in replay), ns since the Unix epoch
  EventType type = EventType::kBlock;
  EventAction action = EventAction::kDrop;
  AppProto app = AppProto::kIp;
  uint8_t ip_proto = 0;  // 6 TCP, 17 UDP
  IpAddr src;            // client side
  IpAddr dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint16_t host_len = 0;
  uint16_t path_len = 0;
  bool ech = false;
  const rules::Rule* rule = nullptr;
  char host[rules::kMaxHostLen + 1] = {};
  char path[rules::kMaxUrlPathLen + 1] = {};  // HTTP only
  // The triggering frame, for the evidence ledger's packet files: its first bytes up to a
  // full standard Ethernet frame (a jumbo trigger is kept truncated; frame_len says so).
  uint16_t frame_len = 0;       // bytes kept
  uint32_t frame_orig_len = 0;  // the frame's length on the wire
  uint8_t frame[kEventFrameBytes];
};

const char* eventTypeName(EventType t);
const char* eventActionName(EventAction a);
const char* appProtoName(AppProto a);

}  // namespace cordon
