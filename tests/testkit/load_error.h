// The one-line text a hostile file gives through the loader, for tables of
// {input, exact expected error}.
#pragma once

#include <string>

namespace ptscope::test {

// describe() of the error read_checkpoint throws for `bytes` read as a file
// called `name` ("<name>: <message> at byte <offset>"), or "no error".
std::string load_error(const std::string& bytes, const std::string& name = "x.pt");

}  // namespace ptscope::test
