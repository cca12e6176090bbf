// inspect --verify's result: a block under the file's text report, and an
// object under its JSON ("verify").
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>

#include "protocol.h"

namespace ptscope {

void write_verify_text(std::ostream& out, const VerifyReply& v);
nlohmann::ordered_json verify_json(const VerifyReply& v);

}  // namespace ptscope
