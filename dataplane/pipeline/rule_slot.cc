#include "dataplane/pipeline/rule_slot.h"

#include <rte_common.h>
#include <rte_cycles.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace cordon {

std::unique_ptr<RuleSet> RuleSet::make(std::shared_ptr<const rules::Snapshot> snap,
                                       unsigned workers, uint64_t version) {
  auto rs = std::make_unique<RuleSet>();
  rs->version = version;
  for (unsigned i = 0; i < workers; ++i) rs->scratch.push_back(snap->newScratch());
  rs->snap = std::move(snap);
  return rs;
}

RuleSlot::~RuleSlot() {
  delete cur_.exchange(nullptr, std::memory_order_acq_rel);
  std::free(qsv_);
}

bool RuleSlot::init(unsigned workers, std::unique_ptr<RuleSet> first, std::string* err) {
  const size_t size = rte_rcu_qsbr_get_memsize(workers);
  // Plain aligned heap memory, not rte_malloc: the slot may outlive rte_eal_cleanup().
  const size_t rounded =
      (size + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
  qsv_ = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, rounded));
  if (qsv_) std::memset(qsv_, 0, rounded);
  if (!qsv_ || rte_rcu_qsbr_init(qsv_, workers) != 0) {
    *err = "cannot allocate the RCU state for " + std::to_string(workers) + " workers";
    return false;
  }
  for (unsigned w = 0; w < workers; ++w) rte_rcu_qsbr_thread_register(qsv_, w);
  cur_.store(first.release(), std::memory_order_release);
  return true;
}

void RuleSlot::online(unsigned worker) {
  rte_rcu_qsbr_thread_online(qsv_, worker);
}

void RuleSlot::offline(unsigned worker) {
  rte_rcu_qsbr_thread_offline(qsv_, worker);
}

std::unique_ptr<const RuleSet> RuleSlot::publish(std::unique_ptr<RuleSet> next, uint64_t* wait_ns) {
  const auto t0 = std::chrono::steady_clock::now();
  // release: a worker that loads the new pointer sees the fully built RuleSet.
  const RuleSet* old = cur_.exchange(next.release(), std::memory_order_acq_rel);
  // Wait for every online worker to report a quiescent state after the exchange; offline
  // workers (not started, or stopped) hold no references and are not waited for.
  rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
  *wait_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  return std::unique_ptr<const RuleSet>(old);
}

}  // namespace cordon
