#include "shard_index.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ptscope/error.h"

namespace ptscope {
namespace {

constexpr int kMaxDepth = 8;

bool plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

}  // namespace

ShardIndex parse_shard_index(const std::string& text) {
  if (text.size() > kMaxIndexBytes) throw Error("shard index is larger than 64 MiB");
  // The callback sees every key before nlohmann stores it: refuse depth and
  // repeated keys while parsing, before a deep tree is built.
  std::vector<std::set<std::string>> keys;
  nlohmann::json::parser_callback_t check = [&keys](int depth, nlohmann::json::parse_event_t event,
                                                   nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth > kMaxDepth) throw Error("shard index nests deeper than 8 levels");
    if (event == E::object_start) keys.emplace_back();
    if (event == E::object_end && !keys.empty()) keys.pop_back();
    if (event == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
      throw Error("shard index repeats the key '" + parsed.get<std::string>() + "'");
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("shard index is not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error("shard index has no weight_map object");
  ShardIndex idx;
  if (j.contains("metadata")) {
    const auto& m = j["metadata"];
    if (!m.is_object()) throw Error("shard index metadata is not an object");
    if (m.contains("total_size")) {
      // transformers writes an integer; some writers a float with no fraction.
      const auto& t = m["total_size"];
      if (t.is_number_unsigned()) idx.total_size = t.get<uint64_t>();
      else if (t.is_number_float() && t.get<double>() >= 0 && t.get<double>() < 1.8e19 &&
               t.get<double>() == static_cast<double>(static_cast<uint64_t>(t.get<double>())))
        idx.total_size = static_cast<uint64_t>(t.get<double>());
      else throw Error("shard index metadata.total_size is not a non-negative integer");
    }
  }
  std::set<std::string> seen;
  for (const auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw Error("shard index maps '" + name + "' to something other than a file name");
    std::string f = file.get<std::string>();
    if (!plain_file_name(f)) throw Error("shard index maps '" + name + "' to '" + f + "', not a file beside it");
    if (seen.insert(f).second) idx.shards.push_back(f);
    idx.weight_map.emplace_back(name, std::move(f));
  }
  // Shard names number the shards ("model-00001-of-00003"): their order.
  std::sort(idx.shards.begin(), idx.shards.end());
  return idx;
}

std::vector<std::string> check_shard_index(const ShardIndex& index,
                                           const std::vector<std::string>& shard_files,
                                           const std::vector<const Checkpoint*>& shards,
                                           const std::vector<std::string>& unlisted) {
  std::vector<std::string> problems;
  auto say = [&problems](const std::string& s) { problems.push_back("index: " + s); };
  std::map<std::string, std::vector<std::string>> holders;  // tensor -> files holding it
  std::map<std::string, std::set<std::string>> held;        // file -> tensors
  std::map<std::string, bool> present;
  bool all_present = true;
  uint64_t tensor_bytes = 0;
  for (size_t i = 0; i < shard_files.size(); ++i) {
    present[shard_files[i]] = shards[i] != nullptr;
    if (!shards[i]) {
      all_present = false;
      say(shard_files[i] + " is named by the index but missing");
      continue;
    }
    for (const Tensor& t : shards[i]->tensors) {
      holders[t.name].push_back(shard_files[i]);
      held[shard_files[i]].insert(t.name);
      // A tensor stored twice is one tensor (its duplicate is the finding).
      if (holders[t.name].size() == 1) tensor_bytes += t.nbytes();
    }
  }
  std::set<std::string> mapped;
  for (const auto& [name, file] : index.weight_map) {
    mapped.insert(name);
    if (present[file] && !held[file].count(name)) say(name + " is mapped to " + file + ", which does not hold it");
  }
  for (const auto& [name, files] : holders) {
    if (files.size() > 1) {
      std::string list;
      for (const std::string& f : files) list += (list.empty() ? "" : ", ") + f;
      say(name + " is stored in " + std::to_string(files.size()) + " files: " + list);
    }
    if (!mapped.count(name)) say(name + " in " + files.front() + " is not in the weight_map");
  }
  for (const std::string& f : unlisted) say(f + " is in the folder but the index names none of its tensors");
  // With a shard missing the sum is unknown: its absence is the finding.
  if (index.total_size && all_present && *index.total_size != tensor_bytes)
    say("metadata.total_size is " + std::to_string(*index.total_size) + " but the shards' tensors hold " +
        std::to_string(tensor_bytes) + " bytes");
  return problems;
}

}  // namespace ptscope
