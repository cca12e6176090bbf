// An option that takes one of a few names. CLI11's CheckedTransformer over
// an enum shows `{csv->2,json->1,...} OR {2,1,...}` in help and accepts the
// enum's numbers; this shows `{table,json,csv,tsv}` and accepts names only.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptscope::cli {

// `names` are what help lists; `lookup` gets the value, lower-cased, and may
// know more spellings than it lists (dtype aliases).
template <typename E>
CLI::Option* add_choice(CLI::App& app, const std::string& flags, E& target, const std::vector<std::string>& names,
                        std::function<std::optional<E>(const std::string&)> lookup, const std::string& help) {
  std::string braces, listed;
  for (const std::string& n : names) {
    braces += (braces.empty() ? "{" : ",") + n;
    listed += (listed.empty() ? "" : ", ") + n;
  }
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  CLI::Validator known(
      [lookup, listed, lower](std::string& v) {
        return lookup(lower(v)) ? std::string() : "'" + v + "' is not one of " + listed;
      },
      "", "choice");
  return app
      .add_option_function<std::string>(flags, [&target, lookup, lower](const std::string& v) {
        target = *lookup(lower(v));
      }, help)
      ->check(known)
      ->type_name(braces + "}");
}

template <typename E>
CLI::Option* add_choice(CLI::App& app, const std::string& flags, E& target,
                        const std::vector<std::pair<std::string, E>>& choices, const std::string& help) {
  std::vector<std::string> names;
  for (const auto& c : choices) names.push_back(c.first);
  return add_choice<E>(app, flags, target, names,
                       [choices](const std::string& v) -> std::optional<E> {
                         for (const auto& c : choices)
                           if (c.first == v) return c.second;
                         return std::nullopt;
                       },
                       help);
}

}  // namespace ptscope::cli
