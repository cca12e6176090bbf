// libFuzzer harness: scan_file on a file holding the input (scan takes
// paths), with and without every CRC checked, and scan's report in every
// format; then inspect's shared pass over the same file, which must give
// what the scan and the read give apart.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_target.h"
#include "fuzz_util.h"
#include "ptscope/scan.h"
#include "scan_report.h"
#include "shared_pass_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = ptscope::fuzz::scratch_dir() + "/input";
  ptscope::fuzz::write_file(path, data, size);
  std::vector<ptscope::ScanResult> results;
  results.push_back(ptscope::scan_file(path));
  ptscope::ScanOptions crc;
  crc.crc = true;
  results.push_back(ptscope::scan_file(path, crc));
  ptscope::fuzz::write_all_formats(ptscope::ScanReport(results));
  std::string difference = ptscope::fuzz::shared_pass_difference(path);
  if (!difference.empty()) {
    std::fprintf(stderr, "shared pass: %s\n", difference.c_str());
    std::abort();
  }
  return 0;
}
