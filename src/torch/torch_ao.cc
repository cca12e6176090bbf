#include "torch_ao.h"

#include "affixes.h"

#include <cstring>
#include <map>
#include <set>

namespace ptscope {
namespace {

bool is_qint(DType d) {
  return d == DType::QInt8 || d == DType::QUInt8 || d == DType::QInt32 ||
         d == DType::QUInt4x2 || d == DType::QUInt2x4;
}

bool model_side(const Tensor& t) { return t.role != Role::Optimizer && t.role != Role::Other; }


std::string leaf(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

const char* kPacked = "._packed_params._packed_params.";

LogicalTensor logical_of(const Tensor& stored, const std::string& name, std::string scheme,
                         double bits) {
  LogicalTensor l;
  l.tensor.name = name;
  l.tensor.group = stored.group;
  l.tensor.dtype = DType::Float32;  // what torch.ao dequantizes to
  l.tensor.shape = stored.shape;
  l.tensor.stride = stored.stride;
  l.tensor.numel = stored.numel;
  l.tensor.role = Role::Parameter;
  l.tensor.rule = "torch.ao quantized weight";
  l.tensor.pickle_offset = stored.pickle_offset;
  l.scheme = std::move(scheme);
  l.bits = bits;
  return l;
}

// One cell of a dynamic quantized LSTM/GRU: the stored tensors state_walk.cc
// names PREFIX._all_weight_values.N.param.{packed_ih.0, packed_hh.0,
// bias_ih, bias_hh, packed_ih.1, packed_hh.1}; -1 where absent.
struct Cell {
  int w_ih = -1, w_hh = -1, b_ih = -1, b_hh = -1, pb_ih = -1, pb_hh = -1;
  std::string suffix;  // "l0", "l1_reverse": the float LSTM's names
};

const char* kCells = "._all_weight_values.";
const char* kAmbiguous =
    "torch.ao cell params: 2 cells of input_size == hidden_size, read as 2 layers "
    "(1 bidirectional layer fits the shapes too)";

// PREFIX -> N -> cell.
std::map<std::string, std::map<int, Cell>> find_cells(const Checkpoint& c) {
  std::map<std::string, std::map<int, Cell>> out;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const std::string& name = c.tensors[i].name;
    // A forward search first: rfind compares at every position, and
    // almost no name holds the marker.
    if (name.find(kCells) == std::string::npos) continue;
    size_t at = name.rfind(kCells);
    if (at == std::string::npos || !model_side(c.tensors[i])) continue;
    size_t num = at + std::strlen(kCells), dot = name.find('.', num);
    if (dot == std::string::npos || dot == num || dot - num > 6 ||
        name.find_first_not_of("0123456789", num) != dot ||
        name.compare(dot, 7, ".param.") != 0)
      continue;
    std::string part = name.substr(dot + 7);
    Cell& cell = out[c.tensors[i].group + '\n' + name.substr(0, at)][std::stoi(name.substr(num, dot - num))];
    int* slot = part == "packed_ih.0" ? &cell.w_ih : part == "packed_hh.0" ? &cell.w_hh
              : part == "bias_ih"     ? &cell.b_ih : part == "bias_hh"     ? &cell.b_hh
              : part == "packed_ih.1" ? &cell.pb_ih : part == "packed_hh.1" ? &cell.pb_hh
                                      : nullptr;
    if (slot) *slot = static_cast<int>(i);
  }
  return out;
}
int width(const Checkpoint& c, int i) {
  if (i < 0) return -1;
  const auto& shape = c.tensors[static_cast<size_t>(i)].shape;
  return shape.size() == 2 ? static_cast<int>(shape[1]) : -1;
}

// Names each cell as the float LSTM/GRU does: cell N is layer N / D,
// direction N % D, D the number of directions. The state_dict does not keep
// `bidirectional`; the shapes tell it: layer 1's weight_ih reads D * hidden
// inputs, layer 0's reverse cell reads input_size. Two cells with
// input_size == hidden_size fit both 1 bidirectional layer and 2 layers;
// they are read as 2 layers (`ambiguous`).
void name_cells(const Checkpoint& c, std::map<int, Cell>& cells, bool& ambiguous) {
  size_t k = cells.size();
  bool contiguous = !cells.empty() && cells.rbegin()->first == static_cast<int>(k) - 1;
  int hidden = contiguous ? width(c, cells.begin()->second.w_hh) : -1;
  int dirs = 1;
  ambiguous = false;
  if (contiguous && hidden > 0 && k % 2 == 0) {
    if (k >= 4) {
      dirs = width(c, cells[2].w_ih) == 2 * hidden ? 2 : 1;
    } else if (width(c, cells[1].w_ih) != hidden) {
      dirs = 2;
    } else {
      ambiguous = width(c, cells[0].w_ih) == hidden;
    }
  }
  for (auto& [n, cell] : cells)
    cell.suffix = "l" + std::to_string(n / dirs) + (n % dirs ? "_reverse" : "");
}

}  // namespace

void group_torch_ao(Checkpoint& c) {
  bool any = false;
  for (const Tensor& t : c.tensors) any = any || (is_qint(t.dtype) && model_side(t));
  auto cells = find_cells(c);
  if (!any && cells.empty()) return;
  // Only now: a model without torch.ao state keeps no index of its names.
  std::map<std::string, int> by_name;
  for (size_t i = 0; i < c.tensors.size(); ++i)
    by_name.emplace(c.tensors[i].group + '\n' + c.tensors[i].name, static_cast<int>(i));
  // The float names of the cells' weights: stored index -> (name, ambiguous).
  std::map<int, std::pair<std::string, bool>> cell_weight;
  std::set<std::string> ambiguous_cells;
  for (auto& [key, list] : cells) {
    bool ambiguous = false;
    name_cells(c, list, ambiguous);
    if (ambiguous) ambiguous_cells.insert(key);
    std::string prefix = key.substr(key.find('\n') + 1);
    for (const auto& [n, cell] : list) {
      if (cell.w_ih >= 0) cell_weight[cell.w_ih] = {prefix + ".weight_ih_" + cell.suffix, ambiguous};
      if (cell.w_hh >= 0) cell_weight[cell.w_hh] = {prefix + ".weight_hh_" + cell.suffix, ambiguous};
    }
  }
  auto find = [&](const Tensor& like, const std::string& name) {
    auto it = by_name.find(like.group + '\n' + name);
    return it == by_name.end() ? -1 : it->second;
  };

  size_t n = c.tensors.size();
  for (size_t i = 0; i < n; ++i) {
    Tensor& q = c.tensors[i];
    if (!is_qint(q.dtype) || !model_side(q) || q.role == Role::QuantMeta) continue;
    std::string name = q.name;
    std::string prefix;
    std::string packed0 = std::string(kPacked) + "0";
    auto cw = cell_weight.find(static_cast<int>(i));
    if (cw != cell_weight.end()) {
      name = cw->second.first;
    } else if (ends_with(name, packed0)) {
      prefix = name.substr(0, name.size() - packed0.size());
      name = prefix + ".weight";
    }
    std::vector<int> stored{static_cast<int>(i)};
    bool per_channel = false;
    for (const char* meta : {"q_per_channel_scales", "q_per_channel_zero_points"}) {
      int m = find(q, q.name + "." + meta);
      if (m < 0) continue;
      per_channel = true;
      stored.push_back(m);
    }
    LogicalTensor l = logical_of(q, name,
                                 std::string("torch.ao ") + dtype_name(q.dtype) +
                                     (per_channel ? " per-channel" : " per-tensor"),
                                 8.0 * static_cast<double>(dtype_size(q.dtype)));
    for (int s : stored) l.stored_bytes += c.tensors[static_cast<size_t>(s)].nbytes();
    l.stored = stored;
    if (cw != cell_weight.end() && cw->second.second) l.tensor.rule = kAmbiguous;
    q.role = Role::Quantized;
    q.rule = "torch.ao qtensor: counted as its logical weight";
    c.logical.push_back(std::move(l));

    if (prefix.empty()) continue;
    int b = find(c.tensors[i], prefix + kPacked + "1");
    if (b < 0) continue;
    Tensor& bias = c.tensors[static_cast<size_t>(b)];
    if (!dtype_is_floating(bias.dtype)) continue;
    LogicalTensor lb = logical_of(bias, prefix + ".bias", "torch.ao packed bias",
                                  8.0 * static_cast<double>(dtype_size(bias.dtype)));
    lb.tensor.dtype = bias.dtype;
    lb.tensor.rule = "torch.ao packed bias";
    lb.stored = {b};
    lb.stored_bytes = bias.nbytes();
    bias.role = Role::Quantized;
    bias.rule = "torch.ao packed params: counted as its logical bias";
    c.logical.push_back(std::move(lb));
  }

  // The cells' float parts: the biases, each stored twice (the cell's own
  // tensor and the packed params' copy: one logical tensor, both stored
  // tensors Role::Quantized), and the weights of "quantized_fp16" cells,
  // stored unpacked as float.
  for (auto& [key, list] : cells) {
    std::string prefix = key.substr(key.find('\n') + 1);
    bool ambiguous = ambiguous_cells.count(key) > 0;
    for (const auto& [n, cell] : list) {
      for (int ih = 0; ih < 2; ++ih) {
        std::string which = ih == 0 ? "_ih_" : "_hh_";
        int w = ih == 0 ? cell.w_ih : cell.w_hh;
        if (w >= 0 && !is_qint(c.tensors[static_cast<size_t>(w)].dtype) &&
            dtype_is_floating(c.tensors[static_cast<size_t>(w)].dtype)) {
          Tensor& wt = c.tensors[static_cast<size_t>(w)];
          LogicalTensor lw = logical_of(wt, prefix + ".weight" + which + cell.suffix,
                                        "torch.ao fp16 packed (stored unpacked)",
                                        8.0 * static_cast<double>(dtype_size(wt.dtype)));
          lw.stored = {w};
          lw.stored_bytes = wt.nbytes();
          wt.role = Role::Quantized;
          wt.rule = "torch.ao cell params: counted as its logical weight";
          if (ambiguous) lw.tensor.rule = kAmbiguous;
          c.logical.push_back(std::move(lw));
        }
        int b = ih == 0 ? cell.b_ih : cell.b_hh;
        int copy = ih == 0 ? cell.pb_ih : cell.pb_hh;
        if (b < 0) std::swap(b, copy);
        if (b < 0 || !dtype_is_floating(c.tensors[static_cast<size_t>(b)].dtype)) continue;
        Tensor& bias = c.tensors[static_cast<size_t>(b)];
        LogicalTensor lb = logical_of(bias, prefix + ".bias" + which + cell.suffix,
                                      "torch.ao cell params bias",
                                      8.0 * static_cast<double>(dtype_size(bias.dtype)));
        lb.tensor.dtype = bias.dtype;
        lb.tensor.rule = ambiguous ? kAmbiguous : "torch.ao cell params bias";
        lb.stored = {b};
        lb.stored_bytes = bias.nbytes();
        bias.role = Role::Quantized;
        bias.rule = "torch.ao cell params: counted as its logical bias";
        if (copy >= 0 && c.tensors[static_cast<size_t>(copy)].numel == bias.numel) {
          Tensor& dup = c.tensors[static_cast<size_t>(copy)];
          lb.stored.push_back(copy);
          lb.stored_bytes += dup.nbytes();
          dup.role = Role::Quantized;
          dup.rule = "torch.ao cell params: packed copy of the bias, counted once";
        }
        c.logical.push_back(std::move(lb));
      }
    }
  }

  for (Tensor& t : c.tensors) {
    if (!model_side(t) || t.numel != 1 || is_qint(t.dtype)) continue;
    // A Parameter here is one the file declared (a learnable scale): kept.
    if (t.role == Role::Quantized || t.role == Role::QuantMeta || t.role == Role::Parameter)
      continue;
    std::string l = leaf(t.name);
    if (l != "scale" && l != "zero_point") continue;
    t.role = Role::QuantMeta;
    t.rule = "torch.ao output scale/zero_point";
  }
}

}  // namespace ptscope
