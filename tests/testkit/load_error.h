// The one-line text a hostile file gives through the loader, for tables of
// {input, exact expected error}.
#pragma once

#include <string>
#include <vector>

namespace ptscope::test {

// describe() of the error read_checkpoint throws for `bytes` read as a file
// called `name` ("<name>: <message> at byte <offset>"), or "no error".
std::string load_error(const std::string& bytes, const std::string& name = "x.pt");

// One row of a reader's hostile-input table (ninja's ParserTest.Errors):
// the bytes of a file called x.pt and the exact line loading them gives.
struct ErrorRow {
  const char* name;
  std::string input;
  std::string expected;
};
// Loads every row and checks its line, the row's name in any failure.
void expect_load_errors(const std::vector<ErrorRow>& rows);

}  // namespace ptscope::test
