#include "dataplane/io/mbuf_time.h"

namespace cordon {

int g_mbuf_time_offset = -1;

bool registerMbufTimeField() {
  if (g_mbuf_time_offset >= 0) return true;
  static const rte_mbuf_dynfield kDesc = {"cordon_rx_time_ns", sizeof(uint64_t), alignof(uint64_t),
                                          0};
  g_mbuf_time_offset = rte_mbuf_dynfield_register(&kDesc);
  return g_mbuf_time_offset >= 0;
}

}  // namespace cordon
