#pragma once
// The one place workers get their rules from: an immutable RuleSet behind one atomic
// pointer, replaced by the control plane and freed after an RCU grace period (DPDK
// lib/rcu, quiescent-state based). Design note:
//
//   control thread                          worker w (each loop iteration)
//   next = compile + one scratch per worker  rs = slot.acquire()        // load-acquire
//   old = exchange(cur, next)  (release)     if rs != mine: switch snapshot + scratch
//   token = qsbr_start()                     processBurst(...) reads only *rs
//   wait until every worker reported         slot.quiescent(w)          // holds no ref
//     quiescent after token                  (idle loops report too)
//   delete old
//
// A burst is judged entirely by the RuleSet loaded at its start: every packet sees the old
// set or the new one, never a mix and never a half-built one. Workers never block.

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rules/snapshot.h"

namespace cordon {

// Everything one rule version needs on the fast path. Immutable once published.
struct RuleSet {
  std::shared_ptr<const rules::Snapshot> snap;
  std::vector<std::unique_ptr<rules::MatchScratch>> scratch;  // [worker]
  uint64_t version = 0;

  // Builds a RuleSet for `workers` workers (control-time: allocates the scratches).
  static std::unique_ptr<RuleSet> make(std::shared_ptr<const rules::Snapshot> snap,
                                       unsigned workers, uint64_t version);
};

class RuleSlot {
 public:
  RuleSlot() = default;
  RuleSlot(const RuleSlot&) = delete;
  RuleSlot& operator=(const RuleSlot&) = delete;
  ~RuleSlot();

  // Prepares the slot for `workers` readers and publishes the first set. False with *err set
  // if the RCU state cannot be allocated.
  bool init(unsigned workers, std::unique_ptr<RuleSet> first, std::string* err);

  // Worker side. Register once on the worker's own thread before the first acquire().
  void online(unsigned worker);
  void offline(unsigned worker);
  // acquire: pairs with the release exchange in publish(), so the RuleSet's contents are
  // visible before the pointer is.
  const RuleSet* acquire() const { return cur_.load(std::memory_order_acquire); }
  // The worker holds no reference into a RuleSet from here until its next acquire().
  void quiescent(unsigned worker) { rte_rcu_qsbr_quiescent(qsv_, worker); }

  // Control side (one thread). Publishes `next`, waits until every online worker has passed
  // a quiescent state, and hands back the previous set, which no worker references any
  // more. The caller frees it once nothing else names its rules (events still queued in
  // worker rings point at them: drain those first). *wait_ns gets the grace-period wait.
  std::unique_ptr<const RuleSet> publish(std::unique_ptr<RuleSet> next, uint64_t* wait_ns);
  const RuleSet* current() const { return acquire(); }

 private:
  rte_rcu_qsbr* qsv_ = nullptr;
  std::atomic<const RuleSet*> cur_{nullptr};
};

}  // namespace cordon
