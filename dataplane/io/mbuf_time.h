#pragma once
// The time a packet was received (capture time in replay), kept in an mbuf dynamic field so
// it travels with the packet through the pipeline and onto injected packets.

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

namespace cordon {

// Registers the dynamic field once per process (after EAL init). False on failure.
bool registerMbufTimeField();
extern int g_mbuf_time_offset;

inline uint64_t mbufTimeNs(const rte_mbuf* m) {
  return *RTE_MBUF_DYNFIELD(m, g_mbuf_time_offset, const uint64_t*);
}
inline void setMbufTimeNs(rte_mbuf* m, uint64_t ns) {
  *RTE_MBUF_DYNFIELD(m, g_mbuf_time_offset, uint64_t*) = ns;
}

}  // namespace cordon
