#pragma once
// One Hyperscan block-mode database of regex rules (re: over the host, or url-re: over
// "host/path?query"). Patterns are compiled with HS_FLAG_SINGLEMATCH: a rule is reported
// at most once per scan, and the scan stops as soon as the answer cannot change.

#include <hs/hs.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/domain_table.h"

namespace cordon::rules {

class PatternSet {
 public:
  PatternSet() = default;
  ~PatternSet();
  PatternSet(const PatternSet&) = delete;
  PatternSet& operator=(const PatternSet&) = delete;

  // Build side. `flags` are Hyperscan compile flags (HS_FLAG_SINGLEMATCH is added).
  void add(std::string regex, unsigned flags, uint32_t rule, bool exception);
  // Compiles the database. On failure returns false and sets *bad_index to the add() order
  // index of the offending pattern (-1 when no single pattern is to blame) and *message.
  bool compile(int* bad_index, std::string* message);

  // Fast path. Scans `text`; sets *exception to the first exception reported (and stops),
  // else *block to the first block reported. `scratch` must come from allocScratch().
  void scan(std::string_view text, hs_scratch_t* scratch, uint32_t* block,
            uint32_t* exception) const;

  // Grows *scratch (may be nullptr) to fit this database. Control plane only.
  bool allocScratch(hs_scratch_t** scratch) const;

  bool empty() const { return regexes_.empty(); }
  size_t size() const { return regexes_.size(); }
  bool hasExceptions() const { return has_exceptions_; }

  // Checks one regex alone, as add()+compile() would; "" when Hyperscan accepts it.
  static std::string check(const std::string& regex, unsigned flags);

 private:
  struct ScanState;
  static int onMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                     void* ctx);

  std::vector<std::string> regexes_;
  std::vector<unsigned> flags_;
  std::vector<uint32_t> rules_;
  std::vector<uint8_t> exception_;
  bool has_exceptions_ = false;
  hs_database_t* db_ = nullptr;
};

}  // namespace cordon::rules
