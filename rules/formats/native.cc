// Format "list": the native rule syntax, one rule per line (rules/list_parser.h).

#include "rules/formats/reader.h"

namespace cordon::rules::fmt {

void readNative(LineReader& r, EntrySink* sink) {
  Entry e;
  std::string reason;
  std::string_view line;
  while (r.next(&line)) {
    e.line = r.lineNo();
    switch (parseRuleLine(line, &e.rule, &reason)) {
      case LineResult::kEmpty:
        break;
      case LineResult::kError:
        sink->error(e.line, reason);
        break;
      case LineResult::kRule:
        sink->entry(e);
        break;
    }
  }
}

}  // namespace cordon::rules::fmt
