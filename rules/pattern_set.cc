#include "rules/pattern_set.h"

#include <cstdlib>

namespace cordon::rules {

struct PatternSet::ScanState {
  const PatternSet* set;
  uint32_t block;
  uint32_t exception;
};

PatternSet::~PatternSet() {
  if (db_ != nullptr) hs_free_database(db_);
}

void PatternSet::add(std::string regex, unsigned flags, uint32_t rule, bool exception) {
  regexes_.push_back(std::move(regex));
  flags_.push_back(flags | HS_FLAG_SINGLEMATCH);
  rules_.push_back(rule);
  exception_.push_back(exception ? 1 : 0);
  has_exceptions_ = has_exceptions_ || exception;
}

std::string PatternSet::check(const std::string& regex, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(regex.c_str(), flags | HS_FLAG_SINGLEMATCH, &info, &err) != HS_SUCCESS) {
    std::string msg = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    hs_free_compile_error(err);
    return msg;
  }
  // hs_expression_info accepts some patterns that hs_compile refuses (those that can match
  // the empty buffer); compile the rare zero-width ones alone to get hs_compile's verdict,
  // so every bad line is named at parse time.
  const bool zero_width = info->min_width == 0;
  std::free(info);
  if (zero_width) {
    hs_database_t* db = nullptr;
    if (hs_compile(regex.c_str(), flags | HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, nullptr, &db, &err) !=
        HS_SUCCESS) {
      std::string msg = err != nullptr && err->message != nullptr ? err->message : "unknown error";
      hs_free_compile_error(err);
      return msg;
    }
    hs_free_database(db);
  }
  return "";
}

bool PatternSet::compile(int* bad_index, std::string* message) {
  *bad_index = -1;
  if (regexes_.empty()) return true;
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  exprs.reserve(regexes_.size());
  ids.reserve(regexes_.size());
  for (size_t i = 0; i < regexes_.size(); ++i) {
    exprs.push_back(regexes_[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags_.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db_, &err) != HS_SUCCESS) {
    *message = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    if (err != nullptr) *bad_index = err->expression;
    hs_free_compile_error(err);
    db_ = nullptr;
    return false;
  }
  return true;
}

bool PatternSet::allocScratch(hs_scratch_t** scratch) const {
  if (db_ == nullptr) return true;
  return hs_alloc_scratch(db_, scratch) == HS_SUCCESS;
}

int PatternSet::onMatch(unsigned id, unsigned long long /*from*/, unsigned long long /*to*/,
                        unsigned /*flags*/, void* ctx) {
  auto* st = static_cast<ScanState*>(ctx);
  if (st->set->exception_[id]) {
    st->exception = st->set->rules_[id];
    return 1;  // an exception wins over everything: stop
  }
  if (st->block == kNoRule) {
    st->block = st->set->rules_[id];
    if (!st->set->has_exceptions_) return 1;  // nothing later can change the answer
  }
  return 0;
}

void PatternSet::scan(std::string_view text, hs_scratch_t* scratch, uint32_t* block,
                      uint32_t* exception) const {
  if (db_ == nullptr || scratch == nullptr) return;
  ScanState st{this, kNoRule, kNoRule};
  // Errors other than HS_SCAN_TERMINATED cannot happen with a matching scratch; a scan
  // that fails reports nothing (fail open), as a malformed packet would.
  hs_scan(db_, text.data(), static_cast<unsigned>(text.size()), 0, scratch, onMatch, &st);
  if (st.exception != kNoRule) {
    *exception = st.exception;
  } else if (st.block != kNoRule && *block == kNoRule) {
    *block = st.block;
  }
}

}  // namespace cordon::rules
