#include "diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace ptscope {
namespace {

struct Site {
  const Checkpoint* file;
  const Tensor* tensor;
};

// Every named tensor of a model, first occurrence wins (shards never
// repeat a name; a repeated one is the same entry).
std::vector<std::pair<std::string, Site>> sites(const Model& m) {
  std::vector<std::pair<std::string, Site>> out;
  std::set<std::string> seen;
  for (const Checkpoint& c : m.files)
    for (const Tensor& t : c.tensors)
      if (seen.insert(t.name).second) out.push_back({t.name, {&c, &t}});
  return out;
}

TensorBrief brief(const std::string& name, const Tensor& t) {
  return {name, t.dtype, t.shape, t.numel, t.nbytes()};
}

bool same_layout(const Tensor& a, const Tensor& b) { return a.dtype == b.dtype && a.shape == b.shape; }

// The dotted prefixes of a name, with the rest: "a.b.c" gives ("", "a.b.c"),
// ("a.", "b.c"), ("a.b.", "c").
std::vector<std::pair<std::string, std::string>> splits(const std::string& name) {
  std::vector<std::pair<std::string, std::string>> out{{"", name}};
  for (size_t i = name.find('.'); i != std::string::npos; i = name.find('.', i + 1))
    out.push_back({name.substr(0, i + 1), name.substr(i + 1)});
  return out;
}

std::vector<TotalRow> totals(const Summary& a, const Summary& b, uint64_t fa, uint64_t fb) {
  auto opt = [](const std::optional<Count>& c) { return c ? std::optional<uint64_t>(c->numel) : std::nullopt; };
  std::vector<TotalRow> rows = {
      {"file bytes", fa, fb},
      {"tensors", a.all.tensors, b.all.tensors},
      {"numel", a.all.numel, b.all.numel},
      {"parameters", opt(a.parameters), opt(b.parameters)},
      {"buffers", opt(a.buffers), opt(b.buffers)},
      {"tensor bytes", a.all.bytes, b.all.bytes},
      {"storage bytes", a.storage_bytes, b.storage_bytes},
      {"overhead bytes", static_cast<uint64_t>(std::max<int64_t>(a.overhead_bytes, 0)),
       static_cast<uint64_t>(std::max<int64_t>(b.overhead_bytes, 0))},
  };
  std::set<std::string> dtypes;
  for (const auto& [d, c] : a.dtypes) dtypes.insert(d);
  for (const auto& [d, c] : b.dtypes) dtypes.insert(d);
  for (const std::string& d : dtypes) {
    auto get = [&](const Summary& s) {
      auto it = s.dtypes.find(d);
      return it == s.dtypes.end() ? uint64_t{0} : it->second.bytes;
    };
    rows.push_back({"bytes " + d, get(a), get(b)});
  }
  return rows;
}

}  // namespace

Diff diff_models(const Model& a, const Model& b, ValueOracle* values) {
  Diff d;
  d.a = a.path;
  d.b = b.path;
  d.values_compared = values != nullptr;
  d.ia = inspect(Model(a), InspectViews{});
  d.ib = inspect(Model(b), InspectViews{});
  d.totals = totals(d.ia.summary, d.ib.summary, d.ia.checkpoint.file_bytes, d.ib.checkpoint.file_bytes);

  auto sa = sites(a), sb = sites(b);
  std::map<std::string, size_t> in_b;  // names from the files: no hash a file could flood
  for (size_t i = 0; i < sb.size(); ++i) in_b[sb[i].first] = i;
  std::vector<bool> b_paired(sb.size(), false);
  std::vector<size_t> a_left;  // indices into sa without a same-named tensor in b
  // Pairs to compare: (index in sa, index in sb, renamed).
  std::vector<std::tuple<size_t, size_t, bool>> pairs;
  for (size_t i = 0; i < sa.size(); ++i) {
    auto it = in_b.find(sa[i].first);
    if (it == in_b.end()) {
      a_left.push_back(i);
      continue;
    }
    b_paired[it->second] = true;
    pairs.emplace_back(i, it->second, false);
  }
  std::vector<size_t> b_left;
  for (size_t j = 0; j < sb.size(); ++j)
    if (!b_paired[j]) b_left.push_back(j);

  // Prefix changes: the mapping (old prefix → new prefix) that pairs the
  // most leftover names of equal dtype and shape, applied while it pairs
  // two or more; ties go to the shorter prefixes.
  std::vector<Rename> prefix_renames;
  for (;;) {
    std::map<std::string, std::vector<size_t>> by_rest;  // rest of a B name → b_left positions
    for (size_t k = 0; k < b_left.size(); ++k)
      for (auto& [p, rest] : splits(sb[b_left[k]].first)) by_rest[rest].push_back(k);
    std::map<std::pair<std::string, std::string>, size_t> votes;
    for (size_t i : a_left) {
      std::set<std::pair<std::string, std::string>> voted;
      for (auto& [pa, rest] : splits(sa[i].first)) {
        auto it = by_rest.find(rest);
        if (it == by_rest.end()) continue;
        for (size_t k : it->second) {
          const std::string& nb = sb[b_left[k]].first;
          std::string pb = nb.substr(0, nb.size() - rest.size());
          if (pa == pb || !same_layout(*sa[i].second.tensor, *sb[b_left[k]].second.tensor)) continue;
          if (voted.insert({pa, pb}).second) ++votes[{pa, pb}];
        }
      }
    }
    const std::pair<std::string, std::string>* best = nullptr;
    size_t best_votes = 1;
    for (auto& [m, v] : votes)
      if (v > best_votes || (v == best_votes && best && m.first.size() + m.second.size() <
                                                           best->first.size() + best->second.size()))
        best = &m, best_votes = v;
    if (!best) break;
    auto [pa, pb] = *best;
    std::map<std::string, size_t> b_at;
    for (size_t k = 0; k < b_left.size(); ++k) b_at[sb[b_left[k]].first] = k;
    std::vector<bool> taken(b_left.size(), false);
    std::vector<size_t> a_rest;
    uint64_t n = 0;
    for (size_t i : a_left) {
      const std::string& na = sa[i].first;
      auto it = na.compare(0, pa.size(), pa) == 0 ? b_at.find(pb + na.substr(pa.size())) : b_at.end();
      if (it == b_at.end() || taken[it->second]) {
        a_rest.push_back(i);
        continue;
      }
      taken[it->second] = true;
      pairs.emplace_back(i, b_left[it->second], true);
      ++n;
    }
    std::vector<size_t> b_rest;
    for (size_t k = 0; k < b_left.size(); ++k)
      if (!taken[k]) b_rest.push_back(b_left[k]);
    a_left = std::move(a_rest);
    b_left = std::move(b_rest);
    prefix_renames.push_back({pa, pb, n, true});
  }
  d.renamed = prefix_renames;

  // Single renames: equal data (hash, dtype and shape) under another name.
  if (values) {
    std::map<std::tuple<uint64_t, DType, std::vector<int64_t>>, std::vector<size_t>> by_hash;
    for (size_t j : b_left) {
      const Site& s = sb[j].second;
      if (auto h = values->hash(*s.file, *s.tensor)) by_hash[{*h, s.tensor->dtype, s.tensor->shape}].push_back(j);
    }
    std::set<size_t> b_taken;
    std::vector<size_t> a_rest;
    for (size_t i : a_left) {
      const Site& s = sa[i].second;
      std::optional<uint64_t> h = by_hash.empty() ? std::nullopt : values->hash(*s.file, *s.tensor);
      auto it = h ? by_hash.find({*h, s.tensor->dtype, s.tensor->shape}) : by_hash.end();
      if (it == by_hash.end() || it->second.empty()) {
        a_rest.push_back(i);
        continue;
      }
      size_t j = it->second.front();
      it->second.erase(it->second.begin());
      b_taken.insert(j);
      d.renamed.push_back({sa[i].first, sb[j].first, 1, false});
      d.renamed_equal.push_back({sb[j].first, sa[i].first, brief(sa[i].first, *s.tensor),
                                 brief(sb[j].first, *sb[j].second.tensor), std::nullopt});
    }
    a_left = std::move(a_rest);
    std::vector<size_t> b_rest;
    for (size_t j : b_left)
      if (!b_taken.count(j)) b_rest.push_back(j);
    b_left = std::move(b_rest);
  }
  for (size_t i : a_left) d.removed.push_back(brief(sa[i].first, *sa[i].second.tensor));
  for (size_t j : b_left) d.added.push_back(brief(sb[j].first, *sb[j].second.tensor));

  std::sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) { return std::get<1>(x) < std::get<1>(y); });
  for (const auto& [i, j, renamed] : pairs) {
    const Site &x = sa[i].second, &y = sb[j].second;
    TensorChange c{sb[j].first, renamed ? sa[i].first : "", brief(sa[i].first, *x.tensor),
                   brief(sb[j].first, *y.tensor), std::nullopt};
    if (values) c.values = values->compare(*x.file, *x.tensor, *y.file, *y.tensor);
    bool differs = c.shape_changed() || c.dtype_changed() || (c.values && c.values->compared && !c.values->equal);
    if (!differs && c.values && !c.values->compared) d.not_compared.push_back({c.name, c.values->reason});
    if (differs) d.changed.push_back(std::move(c));
    else if (renamed) d.renamed_equal.push_back(std::move(c));
    else d.unchanged.push_back(c.b);
  }
  return d;
}

}  // namespace ptscope
