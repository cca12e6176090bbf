// The tables behind inspect's views and its one-row-per-file summary.
// Cells are raw: integers without separators, so CSV stays machine-readable
// and the table writer formats them for people.
#pragma once

#include <vector>

#include "inspect_report.h"
#include "table.h"

namespace ptscope {

TextTable summary_table(const std::vector<const Inspection*>& files);
TextTable tensors_table(const Inspection& in);
TextTable tree_table(const Inspection& in);
TextTable bytes_table(const Inspection& in);
TextTable byte_map_table(const Inspection& in);
TextTable parts_table(const Inspection& in);  // a folder's files, one row each
std::string base_name(const std::string& path);  // a shard's name in its folder

}  // namespace ptscope
