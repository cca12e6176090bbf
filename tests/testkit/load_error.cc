#include "load_error.h"

#include <gtest/gtest.h>

#include "ptscope/error.h"
#include "reader.h"

namespace ptscope::test {

std::string load_error(const std::string& bytes, const std::string& name) {
  try {
    read_checkpoint(MemorySource(bytes), name);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

void expect_load_errors(const std::vector<ErrorRow>& rows) {
  for (const ErrorRow& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.expected, load_error(row.input));
  }
}

}  // namespace ptscope::test
