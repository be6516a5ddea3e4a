#pragma once
// Helpers for rule tests: rule lists written to a private temporary directory.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rules/snapshot.h"

namespace cordon::rules::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rules_test.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `lines` (each followed by '\n') to <dir>/<name> and returns the path.
  std::string write(const std::string& name, const std::vector<std::string>& lines) const {
    const std::string p = path_ + "/" + name;
    std::ofstream out(p, std::ios::binary);
    for (const std::string& l : lines) out << l << "\n";
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cordon::rules::testing
