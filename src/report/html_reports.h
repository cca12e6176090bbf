// The HTML page of each command that has one (--html FILE), built on
// html_page.h: one writer per command, each in its own source file.
#pragma once

#include <string>

#include "diff.h"
#include "estimate_report.h"
#include "inspection.h"

namespace ptscope {

std::string inspect_html(const Inspection& in);                                   // html_inspect.cc
std::string diff_html(const Diff& d);                                             // html_diff.cc
std::string estimate_html(const EstimatedFile& f, const EstimateOptions& options);  // html_estimate.cc

// Shared by the writers: the tensor table, the byte map and dtype sections.
nlohmann::ordered_json html_tensor_table(const Checkpoint& c);
nlohmann::ordered_json html_bytemap(const std::vector<ByteMapRow>& rows);
nlohmann::ordered_json html_dtypes(const Summary& s);
// The treemap's items: the parameters (tied ones once, quantized ones at
// their logical size), or every tensor where the file does not say.
nlohmann::ordered_json html_parameter_treemap(const Checkpoint& c);

}  // namespace ptscope
