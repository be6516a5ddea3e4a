#pragma once
// The one-line JSON summary cordond prints when a replay or a live run ends.

#include <string>

#include "dataplane/parse/counters.h"

namespace cordon {

// {"packets_in":..,"packets_out":..,"dropped":..,"injected":..,"blocked_flows":..,
//  "malformed":..,"events":..,<extra>,"counters":{every non-zero counter}}
std::string formatSummary(const Counters& c, uint64_t events, const std::string& extra_fields);

}  // namespace cordon
