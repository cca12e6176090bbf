// scan_file over bytes already open, for a caller that reads the same bytes
// next (`inspect`): one open file, so the scan and the read see one content.
#pragma once

#include <string>

#include "byte_source.h"
#include "pickle_tap.h"
#include "ptscope/scan.h"

namespace ptscope {

// As scan_file(path, options) once the file is open. `tap`, when set, is
// handed the archive and shares the pass over the object pickle that
// torch.load would unpickle (pickle_tap.h); the result is the same.
ScanResult scan_source(const ByteSource& src, const std::string& path, const ScanOptions& options,
                       PickleTap* tap = nullptr);

}  // namespace ptscope
