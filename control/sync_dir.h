#pragma once
// fsync() of a directory, so that a rename into it survives a crash (the feed cache and the
// evidence ledger both write temp file, fsync, rename, then this). Header-only: the evidence
// library stays free of the control libraries.

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace cordon {

inline bool syncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace cordon
