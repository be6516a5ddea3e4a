#pragma once
// Every counter the fast path keeps, from one X-macro list, so the enum, the names in the
// summary/metrics and the documentation never drift apart. Counters are per worker and
// summed by the control plane.

#include <array>
#include <cstdint>

namespace cordon {

// X(name, help)
#define CORDON_COUNTERS(X)                                                                    \
  X(packets_in, "packets received")                                                           \
  X(packets_out, "packets forwarded unchanged")                                               \
  X(dropped, "packets not forwarded (blocked flows, blocked queries, IP rules)")              \
  X(injected, "packets built and sent by cordon (RST, redirect, DNS answer)")                 \
  X(blocked_flows, "flows or queries blocked or redirected")                                  \
  X(monitored, "matches of monitor lists (passed, recorded)")                                 \
  X(exceptions, "names that matched an exception rule")                                       \
  X(malformed, "packets with a malformed header, passed (sum of malformed_*)")                \
  X(malformed_l2, "truncated Ethernet or VLAN header")                                        \
  X(malformed_vlan_depth, "more VLAN tags than kMaxVlanTags")                                 \
  X(malformed_mpls, "MPLS label stack truncated or deeper than kMaxMplsLabels")               \
  X(malformed_pppoe, "PPPoE session header truncated, bad version/code or length")            \
  X(malformed_ipv4, "IPv4 header truncated, IHL < 5 or bad total length")                     \
  X(malformed_ipv6, "IPv6 header truncated or payload length beyond frame")                   \
  X(malformed_ipv6_ext, "IPv6 extension header truncated or chain too long")                  \
  X(malformed_tcp, "TCP header truncated or data offset out of range")                        \
  X(malformed_udp, "UDP header truncated or length out of range")                             \
  X(non_ip, "non-IP frames (ARP, LLDP, ...), passed")                                         \
  X(ip_fragments, "IP fragments seen (forwarded as they come, see FRAGMENTS.md)")             \
  X(other_l4, "IP packets that are neither TCP nor UDP, passed")                              \
  X(ip_in_ip, "IP-in-IP packets (protocol 4 or 41) inspected inside the tunnel")              \
  X(bad_l4_checksum, "TCP/UDP segments with a wrong checksum, not inspected")                 \
  X(tcp_ack_padding, "pure ACKs whose payload is Ethernet padding, not inspected")            \
  X(dns_queries, "DNS queries inspected")                                                     \
  X(dns_malformed, "DNS messages on port 53 that did not parse, passed")                      \
  X(tls_client_hellos, "TLS ClientHellos inspected")                                          \
  X(tls_no_sni, "ClientHellos without server_name, passed")                                   \
  X(tls_ech, "ClientHellos with encrypted_client_hello (outer SNI matched)")                  \
  X(tls_malformed, "TLS streams that did not parse, passed")                                  \
  X(tls_too_large, "ClientHellos beyond kMaxClientHelloBytes, passed")                        \
  X(http_requests, "HTTP requests inspected")                                                 \
  X(http_malformed, "HTTP request heads that did not parse, passed")                          \
  X(http_too_large, "HTTP request heads beyond kMaxRequestHeadBytes, passed")                 \
  X(http_chunked_stop, "keep-alive inspection stopped at a chunked request body")             \
  X(http_no_host, "HTTP requests without a host, passed")                                     \
  X(quic_initials, "QUIC client Initials decrypted (gQUIC: read)")                            \
  X(quic_client_hellos, "ClientHellos (gQUIC: CHLOs) from QUIC Initials")                     \
  X(quic_no_sni, "QUIC ClientHellos without server_name, passed")                             \
  X(quic_undecryptable, "QUIC Initials that did not decrypt, passed")                         \
  X(quic_malformed, "QUIC Initials or hellos that did not parse, passed")                     \
  X(quic_too_many_initials, "QUIC flows passed after kMaxQuicInitialDatagrams")               \
  X(quic_crypto_window_exceeded, "QUIC CRYPTO data beyond the window, ignored")               \
  X(ech_blocked, "hellos with encrypted_client_hello blocked (ech: block)")                   \
  X(flows_created, "flow entries created")                                                    \
  X(flows_expired, "flow entries removed by idle aging or connection end")                    \
  X(flow_table_full, "new flows not tracked: table full, nothing evictable (dataplane.fail)") \
  X(flow_evicted, "flow entries evicted (sampled LRU) to make room for a new flow")           \
  X(reasm_started, "first flights that needed reassembly")                                    \
  X(reasm_no_buffer, "reassembly buffer pool exhausted (dataplane.fail)")                     \
  X(reasm_timeout, "reassembly abandoned after kReassemblyTimeout (fail-open)")               \
  X(reasm_window_exceeded, "segments beyond the reassembly window, ignored")                  \
  X(frag_reassembled, "fragmented TCP/UDP datagrams reassembled and inspected")               \
  X(frag_blocked, "reassembled datagrams blocked (their completing fragment dropped)")        \
  X(frag_duplicate, "exact duplicate fragments, ignored (RFC 8200 section 4.5)")              \
  X(frag_overlap, "overlapping fragments (IPv6: rest dropped, RFC 5722; IPv4: uninspected)")  \
  X(frag_drop_rest, "fragments of a discarded or blocked datagram, dropped")                  \
  X(frag_no_context, "fragments not reassembled: context pool exhausted (dataplane.fail)")    \
  X(frag_too_large, "datagrams beyond kMaxIpDatagramBytes, not inspected (dataplane.fail)")   \
  X(frag_too_many, "datagrams beyond kMaxFragmentsPerDatagram pieces (dataplane.fail)")       \
  X(frag_give_up_rest, "later fragments of a datagram given up on (dataplane.fail)")          \
  X(frag_timeout, "incomplete datagrams abandoned after kIpReasmTimeoutNs")                   \
  X(frag_malformed, "empty or misaligned fragments, or reassemblies that did not parse")      \
  X(frag_unsupported, "fragments inside an IP-in-IP tunnel, passed uninspected")              \
  X(fail_closed_flow_table, "packets dropped: flow table full and dataplane.fail closed")     \
  X(fail_closed_reasm, "packets dropped: reassembly pool exhausted, dataplane.fail closed")   \
  X(fail_closed_frag, "fragments dropped: not reassemblable, dataplane.fail closed")          \
  X(residual_dropped, "new connections refused by residual blocking (actions.residual)")      \
  X(residual_added, "tuples put under residual blocking")                                     \
  X(residual_evicted, "residual entries evicted early because the table was full")            \
  X(inject_no_mbuf, "injections lost because the mbuf pool was empty")                        \
  X(parent_domain_matches, "odd-byte names judged by their parent domain")                    \
  X(events_dropped, "events lost because the event ring was full")

enum class Counter : uint16_t {
#define CORDON_COUNTER_ENUM(name, help) name,
  CORDON_COUNTERS(CORDON_COUNTER_ENUM)
#undef CORDON_COUNTER_ENUM
      kCount
};

inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);

inline constexpr std::array<const char*, kCounterCount> kCounterNames = {
#define CORDON_COUNTER_NAME(name, help) #name,
    CORDON_COUNTERS(CORDON_COUNTER_NAME)
#undef CORDON_COUNTER_NAME
};

inline constexpr std::array<const char*, kCounterCount> kCounterHelp = {
#define CORDON_COUNTER_HELP(name, help) help,
    CORDON_COUNTERS(CORDON_COUNTER_HELP)
#undef CORDON_COUNTER_HELP
};

struct Counters {
  std::array<uint64_t, kCounterCount> v{};
  void inc(Counter c, uint64_t n = 1) { v[static_cast<size_t>(c)] += n; }
  uint64_t get(Counter c) const { return v[static_cast<size_t>(c)]; }
  void add(const Counters& o) {
    for (size_t i = 0; i < kCounterCount; ++i) v[i] += o.v[i];
  }
};

}  // namespace cordon
