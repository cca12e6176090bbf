#include "state_kinds.h"

#include <cctype>

namespace ptscope {

std::string key_text(const Value* k) {
  switch (k->kind) {
    case Kind::Str: return k->s;
    case Kind::Int: return k->s.empty() ? std::to_string(k->i) : k->s;
    case Kind::Bool: return k->b ? "True" : "False";
    case Kind::None: return "None";
    default: return "?";
  }
}

bool has_key(const Value* dict, const char* key) { return dict && dict->get(key); }

bool all_tensors(const Value* dict) {
  if (!dict || dict->kind != Kind::Dict || dict->items.empty()) return false;
  for (size_t i = 1; i < dict->items.size(); i += 2)
    if (dict->items[i]->kind != Kind::Tensor) return false;
  return true;
}

namespace {

// "ema" and "swa" must be whole words of the key ("model_ema", "ema.model"),
// or "schema" would be an EMA copy.
bool has_word(const std::string& key, const std::string& word) {
  for (size_t at = key.find(word); at != std::string::npos; at = key.find(word, at + 1)) {
    bool start = at == 0 || !std::isalnum(static_cast<unsigned char>(key[at - 1]));
    size_t end = at + word.size();
    bool stop = end == key.size() || !std::isalnum(static_cast<unsigned char>(key[end]));
    if (start && stop) return true;
  }
  return false;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

bool is_optimizer_state(const Value* v) {
  return v->kind == Kind::Dict && has_key(v, "state") && has_key(v, "param_groups");
}

// A dict of tensors named as state_dict() names them ("fc.weight").
bool dotted_tensor_dict(const Value* v) {
  if (!all_tensors(v)) return false;
  for (size_t i = 0; i < v->items.size(); i += 2)
    if (contains(key_text(v->items[i]), ".")) return true;
  return false;
}

}  // namespace

Whole whole_kind(const Value* root) {
  if (is_optimizer_state(root)) return Whole::Optimizer;
  if (has_key(root, "cpu") && (has_key(root, "python") || has_key(root, "numpy"))) return Whole::Rng;
  return Whole::Checkpoint;
}

std::string group_kind(const std::string& name, const Value* v, bool module) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (is_optimizer_state(v) || contains(n, "optim")) return "optimizer";
  if (has_word(n, "ema") || has_word(n, "swa") || contains(n, "average")) return "ema";
  if (contains(n, "sched")) return "scheduler";
  if (has_word(n, "rng") || contains(n, "random") || contains(n, "seed")) return "rng";
  if (v->kind == Kind::Tensor) return "other";  // a loose metric: best_acc1, loss
  if (module || dotted_tensor_dict(v) || contains(n, "model") || contains(n, "state_dict") ||
      contains(n, "module") || has_word(n, "net") || contains(n, "network") ||
      contains(n, "weights") || contains(n, "params"))
    return "model";
  return "other";  // callbacks, loops, metrics, config, scalers, train_state ...
}

}  // namespace ptscope
