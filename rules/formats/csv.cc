// Format "csv": registry dumps, one record per line (RFC 4180 quoting), columns per
// CsvOptions.

#include "rules/formats/reader.h"

#include <algorithm>
#include <map>

namespace cordon::rules::fmt {
namespace {

// RFC 4180 record split (quotes, "" escapes) on one line. False on an unterminated quote.
bool splitCsv(std::string_view line, char sep, std::vector<std::string>* out) {
  out->clear();
  std::string cell;
  size_t i = 0;
  for (;;) {
    cell.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell.push_back(line[i++]);
      }
      while (i < line.size() && line[i] != sep) cell.push_back(line[i++]);
    } else {
      while (i < line.size() && line[i] != sep) cell.push_back(line[i++]);
    }
    out->emplace_back(trim(cell));
    if (i >= line.size()) return true;
    ++i;  // separator
  }
}

// Header names per field (lower case), first is the canonical name.
const std::vector<std::pair<std::string, std::vector<std::string>>>& csvFields() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kFields = {
      {"domain", {"domain", "domains", "host", "hostname", "name"}},
      {"url", {"url", "urls"}},
      {"ip", {"ip", "ips", "ip_address", "address", "cidr"}},
      {"id", {"id", "entry_id"}},
      {"ref", {"ref", "reference", "decision", "case", "court_order"}},
      {"rights_holder", {"rights_holder", "rightsholder", "holder", "org"}},
      {"category", {"category"}},
      {"valid_from", {"valid_from", "from", "start"}},
      {"valid_until", {"valid_until", "until", "end", "expires"}},
      {"action", {"action"}},
  };
  return kFields;
}

// Splits a cell holding several values ("1.2.3.4 | 5.6.7.8", "a.com b.com").
std::vector<std::string_view> cellValues(std::string_view cell) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < cell.size()) {
    while (i < cell.size() && (isSpace(cell[i]) || cell[i] == '|')) ++i;
    const size_t start = i;
    while (i < cell.size() && !isSpace(cell[i]) && cell[i] != '|') ++i;
    if (i > start) out.push_back(cell.substr(start, i - start));
  }
  return out;
}

}  // namespace

void readCsv(LineReader& r, const CsvOptions& opt, EntrySink* sink) {
  std::map<std::string, unsigned> col;  // field -> 1-based column
  for (const auto& [field, aliases] : csvFields()) {
    (void)aliases;
    const auto it = opt.columns.find(field);
    if (it != opt.columns.end()) col[field] = it->second;
  }
  for (const auto& column : opt.columns) {
    const std::string& field = column.first;
    const auto& f = csvFields();
    if (std::none_of(f.begin(), f.end(), [&](const auto& p) { return p.first == field; })) {
      sink->error(0, "csv: unknown column field " + quote(field));
      return;
    }
  }
  bool need_header = opt.header;
  std::vector<std::string> cells;
  std::string_view line;
  Entry base;
  while (r.next(&line)) {
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const uint32_t line_no = r.lineNo();
    if (!splitCsv(line, opt.separator, &cells)) {
      sink->error(line_no, "unterminated quoted field");
      continue;
    }
    if (need_header) {
      need_header = false;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string h = lowerCopy(cells[c]);
        for (const auto& [field, aliases] : csvFields()) {
          if (col.count(field)) continue;
          if (std::find(aliases.begin(), aliases.end(), h) != aliases.end()) {
            col[field] = static_cast<unsigned>(c + 1);
          }
        }
      }
      if (!col.count("domain") && !col.count("url") && !col.count("ip")) {
        sink->error(line_no, "csv header names no domain, url or ip column (set csv.columns)");
        return;
      }
      continue;
    }
    if (!col.count("domain") && !col.count("url") && !col.count("ip")) {
      sink->error(0, "csv: no domain, url or ip column (set csv.columns)");
      return;
    }
    const auto cell = [&](const char* field) -> std::string_view {
      const auto it = col.find(field);
      if (it == col.end() || it->second == 0 || it->second > cells.size()) return {};
      return cells[it->second - 1];
    };
    base = Entry();
    base.line = line_no;
    base.id = std::string(cell("id"));
    base.ref = std::string(cell("ref"));
    base.rights_holder = std::string(cell("rights_holder"));
    base.category = std::string(cell("category"));
    std::string why;
    if (!applyAction(cell("action"), &base, &why)) {
      sink->error(line_no, why);
      continue;
    }
    bool ok = true;
    for (const char* tf : {"valid_from", "valid_until"}) {
      const std::string_view v = cell(tf);
      if (v.empty()) continue;
      int64_t& dst = tf[6] == 'f' ? base.valid_from : base.valid_until;
      if (!parseTime(v, &dst)) {
        sink->error(line_no, std::string(tf) + ": invalid time " + quote(v));
        ok = false;
      }
    }
    if (!ok) continue;
    if (!checkWindow(base, &why)) {
      sink->error(line_no, why);
      continue;
    }
    size_t patterns = 0;
    for (const char* pf : {"domain", "url", "ip"}) {
      for (std::string_view v : cellValues(cell(pf))) {
        Entry e = base;
        if (!parsePattern(v, &e, &why)) {
          sink->error(line_no, std::string(pf) + " column " + std::to_string(col[pf]) + ": " + why);
        } else {
          sink->entry(e);
        }
        ++patterns;
      }
    }
    if (patterns == 0) sink->error(line_no, "record without a domain, url or ip");
  }
}

// A first line such as "id,domain,url,ip,reference": separated by ',' or ';', naming at
// least one pattern column.
bool isCsvHeader(std::string_view line) {
  for (const char sep : {',', ';'}) {
    if (line.find(sep) == std::string_view::npos) continue;
    std::vector<std::string> cells;
    if (!splitCsv(line, sep, &cells) || cells.size() < 2) continue;
    for (const std::string& c : cells) {
      const std::string h = lowerCopy(c);
      for (const auto& [field, aliases] : csvFields()) {
        if ((field == "domain" || field == "url" || field == "ip") &&
            std::find(aliases.begin(), aliases.end(), h) != aliases.end()) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace cordon::rules::fmt
