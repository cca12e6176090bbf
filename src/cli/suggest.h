// "did you mean ...?" for a mistyped command or option.
#pragma once

#include <string>
#include <vector>

namespace ptscope::cli {

// Levenshtein distance: insertions, deletions and substitutions.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest `typed`, or "" when none is near enough to be what
// was meant (more than a third of the word different).
std::string nearest(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace ptscope::cli
