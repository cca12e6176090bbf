// Helpers shared by the harnesses: a scratch folder per process for the
// entry points that take paths, and every reporter run into a null stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ptscope/checkpoint.h"
#include "ptscope/load.h"
#include "report.h"

namespace ptscope::fuzz {

// A fresh, empty folder for this process (made once, emptied on each call):
// the harnesses run one input at a time.
const std::string& scratch_dir();
void empty_scratch_dir();
// Writes `size` bytes to `path`, creating its parent folder.
void write_file(const std::string& path, const uint8_t* data, size_t size);

// A report as a table, JSON, CSV and TSV, into a stream that discards it.
void write_all_formats(const Report& r);

// inspect's and estimate's pipelines as the CLI runs them (every view,
// default and training estimate options), each report written as a table,
// JSON, CSV and TSV into a stream that discards them. ptscope::Error is an
// answer and is swallowed; anything else propagates, as a finding.
void inspect_and_report(Model model);

}  // namespace ptscope::fuzz
