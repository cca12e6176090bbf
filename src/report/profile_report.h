// profile's result: a report for people, one JSON object per file, and the
// ops, top-level modules and layers as CSV/TSV rows with the file first.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "profile_estimate.h"
#include "protocol.h"
#include "report.h"

namespace ptscope {

void write_profile_text(std::ostream& out, const ProfileReply& r, const std::optional<EstimateBeside>& e);
// The reply as the plugin sent it, with the estimate under "estimate".
nlohmann::ordered_json profile_json(const ProfileReply& r, const std::optional<EstimateBeside>& e);
// file, kind (op, module or layer), name, count, macs, flops, then the
// layer's type, depth, output_shape (1x8x30x30), parameters and
// activation_bytes; each row fills the columns its kind has. No rows for
// --train.
TextTable profile_table(const ProfileReply& r);

struct ProfiledFile {
  ProfileReply reply;
  std::optional<EstimateBeside> estimate;  // the file-alone estimate, where the architecture is known
};

class ProfileReport : public Report {
 public:
  explicit ProfileReport(const std::vector<ProfiledFile>& files) : files_(files) {}
  void write_table(std::ostream& out) const override;
  nlohmann::ordered_json json() const override;
  TextTable rows() const override;

 private:
  const std::vector<ProfiledFile>& files_;
};

}  // namespace ptscope
