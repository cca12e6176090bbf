// inspect's result, formatted: per file the summary block or the views
// asked for (--tensors, --tree, --bytes), the byte map, and --verify's
// findings; as JSON one object per file; as CSV/TSV one table. One source
// per format: inspect_text.cc, inspect_json.cc, inspect_rows.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inspection.h"
#include "protocol.h"
#include "ptscope/scan.h"
#include "report.h"

namespace ptscope {

struct InspectedFile {
  std::string path;
  std::optional<Inspection> inspection;  // nullopt: unreadable
  std::string error;                     // one line, file named
  std::optional<VerifyReply> verify;     // LibTorch's reading, with --verify
  std::optional<ScanResult> safety;      // scan's answer; a folder's least safe file
};

class InspectReport : public Report {
 public:
  InspectReport(const std::vector<InspectedFile>& files, const InspectViews& views)
      : files_(files), views_(views) {}
  void write_table(std::ostream& out) const override;
  nlohmann::ordered_json json() const override;
  TextTable rows() const override;

 private:
  const std::vector<InspectedFile>& files_;
  InspectViews views_;
};

}  // namespace ptscope
