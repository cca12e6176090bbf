#include "address_space.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

namespace ptscope::test {

void limit_address_space(uint64_t slack) {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  rlimit r;
  r.rlim_cur = r.rlim_max =
      static_cast<rlim_t>(pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) + slack);
  ::setrlimit(RLIMIT_AS, &r);
}

}  // namespace ptscope::test
