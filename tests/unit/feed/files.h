#pragma once
// Whole-file read and write for the feed tests.

#include <fstream>
#include <sstream>
#include <string>

namespace cordon::feed::test {

inline std::string readFile(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::string& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

}  // namespace cordon::feed::test
