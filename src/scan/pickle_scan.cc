// The scanner watches ptscope's own pickle interpreter (io/pickle.h), which
// resolves no name and calls nothing, and judges each step twice:
//
//   1. Would torch.load(weights_only=True) accept it? Its Unpickler
//      (torch/_weights_only_unpickler.py) knows a fixed set of opcodes,
//      GLOBAL only from its allowlist, REDUCE/NEWOBJ only of allowlisted
//      callables, BUILD only on what those made, SETITEM only on dicts,
//      APPEND only on lists, persistent ids only ('storage', ...).
//   2. What would plain pickle.load do? Import each name (classified by
//      callables.h) and make each call, recorded with its arguments.
#include "pickle_scan.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <optional>
#include <map>
#include <memory>
#include <unordered_map>

#include "callables.h"
#include "flat_set.h"
#include "scan_hooks.h"
#include "value_text.h"
#include "pickle.h"
#include "ptscope/error.h"
#include "keyed_hash.h"

namespace ptscope {

std::string opcode_name(uint8_t op) {
  static const std::unordered_map<uint8_t, const char*> names = {
      {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"},
      {'F', "FLOAT"}, {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"},
      {'M', "BININT2"}, {'N', "NONE"}, {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"},
      {'S', "STRING"}, {'T', "BINSTRING"}, {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"},
      {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"}, {'c', "GLOBAL"}, {'d', "DICT"},
      {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"}, {'i', "INST"},
      {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"},
      {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"},
      {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"}, {0x82, "EXT1"},
      {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"},
      {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"},
      {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"}, {0x8c, "SHORT_BINUNICODE"},
      {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"},
      {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"},
      {0x95, "FRAME"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
  };
  auto it = names.find(op);
  if (it != names.end()) return it->second;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", op);
  return hex;
}

namespace {

// The opcodes torch's weights_only Unpickler implements; any other is
// "Unsupported operand".
constexpr std::array<bool, 256> weights_only_table() {
  std::array<bool, 256> t{};
  const char* ops = "(.NJKMGXU)t]}aesuhjqrcRbQ\x80\x81\x85\x86\x87\x88\x89\x8a\x8f";
  for (const char* c = ops; *c; ++c) t[static_cast<unsigned char>(*c)] = true;
  return t;
}

bool weights_only_opcode(uint8_t op) {
  // A table, as every opcode of every pickle is asked about.
  static constexpr std::array<bool, 256> table = weights_only_table();
  return table[op];
}

class Scanner : public PickleObserver {
 public:
  Scanner(const PickleSite& site, FindingSink& sink) : site_(site), sink_(sink) {}

  ~Scanner() override {
    if (getattr_at_) {
      // Imported, and called only as getattr(Class, 'member'), or never.
      auto [op, at] = *getattr_at_;
      if (getattr_misused_)
        report(Severity::Dangerous, "global", kGetattr, at,
               opcode_name(op) + " imports builtins.getattr: reflection: reaches any attribute", true);
      else
        report(Severity::NeedsCode, "global", kGetattr, at,
               opcode_name(op) + " imports builtins.getattr, called only on a class for a plain attribute", true);
    }
    for (auto& [key, f] : folded_) sink_.add(std::move(f));
  }

  bool ran_anything = false;

  // Every opcode comes here: the findings are built out of line.
  void opcode(uint8_t op, uint64_t offset) override {
    if (!weights_only_opcode(op)) refuse_opcode(op, offset);
  }
  __attribute__((noinline)) void refuse_opcode(uint8_t op, uint64_t offset) {
    refuse("opcode " + opcode_name(op), "torch.load(weights_only=True) refuses opcode " +
                                            opcode_name(op) + " (it implements protocol 2's subset)",
           offset);
  }

  void global(uint8_t op, const std::string& module, const std::string& name,
              uint64_t offset) override {
    ran_anything = true;
    Classified c = classify_global(module, name);
    std::string raw = module + "." + name;
    auto [it, fresh] = names_.emplace(raw, c);
    if (!fresh && c.trust > it->second.trust) it->second = c;  // two splits, one join: the worse
    if (c.trust == Trust::Allowed) return;
    if (c.name == kGetattr) {  // judged by its calls: see call()
      if (!getattr_at_) getattr_at_ = {op, offset};
      return;
    }
    if (c.trust == Trust::Dangerous) {
      report(Severity::Dangerous, "global", c.name, offset,
             opcode_name(op) + " imports " + c.name + ": " + c.why, true);
    } else {
      report(Severity::NeedsCode, "global", c.name, offset,
             opcode_name(op) + " imports " + c.name + ", which torch's weights_only allowlist does not hold",
             true);
    }
  }

  void call(uint8_t op, const Value* callable, const Value* args, const Value* result,
            uint64_t offset) override {
    ran_anything = true;
    if (!callable || callable->kind != Kind::Global) {
      std::string call_text = opcode_name(op) + " calls ";
      bool computed = made_by_call(callable);
      std::string what = computed ? "a value the pickle built, " + value_text(callable)
                                  : "a " + kind_name(callable) + ", which Python refuses to call";
      report(computed ? Severity::Dangerous : Severity::Warning, "call", "", offset,
             call_text + what + (args ? " with " + value_text(args) : ""), false);
      return;
    }
    const Classified& c = classified(callable);
    if (args)
      for (const Value* a : args->items)
        if (a->kind == Kind::Global && a->s == kGetattr) getattr_misused_ = true;
    if (c.trust == Trust::Allowed) {
      made_by_allowlist_.insert(result);
      return;
    }
    std::string text = opcode_name(op) + " calls " + c.name + value_text(args);
    if (c.name == kGetattr) {
      std::string attribute = class_attribute(args);
      if (!attribute.empty()) {
        report(Severity::NeedsCode, "call", c.name, offset,
               text + ": looks up " + attribute + " (Python 3.11+ pickles enum members this way)", true);
        return;
      }
      getattr_misused_ = true;
    }
    if (c.trust == Trust::Dangerous) {
      report(Severity::Dangerous, "call", c.name, offset, text + ": " + c.why, false);
    } else {
      report(Severity::NeedsCode, "call", c.name, offset, text, true);
    }
    if (loads_nested_pickle(c.name) && site_.nested && args && !args->items.empty()) {
      const Value* data = args->items[0];
      if (data->kind == Kind::Bytes || data->kind == Kind::Str)
        site_.nested(data->s, site_.record + " > argument of " + c.name + " at byte " +
                                  std::to_string(where(offset)),
                     site_.depth + 1, c.name.find("_load_from_bytes") != std::string::npos);
    }
  }

  void build(const Value* target, const Value* state, uint64_t offset) override {
    ran_anything = true;
    std::string cls = made_by_call(target) && target->callable ? value_text(target->callable)
                                                              : kind_name(target);
    if (!made_by_allowlist_.contains(target))
      refuse("BUILD " + cls, "torch.load(weights_only=True) refuses BUILD on " + cls, offset);
    // BUILD calls target.__setstate__ when the object has one: a dict state
    // that puts one in the instance's __dict__ arms the next BUILD.
    if (auto armed = setstate_.find(target); armed != setstate_.end()) {
      report(Severity::Dangerous, "call", armed->second.first, offset,
             "BUILD calls the __setstate__ an earlier BUILD set on " + cls + " (" +
                 armed->second.second + ") with " + value_text(state),
             false);
    }
    for (const Value* dict : state_dicts(state)) {
      for (size_t i = 0; i + 1 < dict->items.size(); i += 2) {
        const Value* key = dict->items[i];
        if (key->kind != Kind::Str || key->s.size() < 4 || key->s.compare(0, 2, "__") != 0 ||
            key->s.compare(key->s.size() - 2, 2, "__") != 0)
          continue;
        const Value* value = dict->items[i + 1];
        std::string value_name = value->kind == Kind::Global ? classified(value).name : "";
        report(Severity::Dangerous, "build", value_name, offset,
               "BUILD sets " + key->s + " on " + cls + " to " + value_text(value) +
                   ": only an attack needs to set a special method",
               false);
        if (key->s == "__setstate__") setstate_[target] = {value_name, value_text(value)};
      }
    }
    if (state_dicts(state).empty() && state && state->kind != Kind::None && made_by_call(target) &&
        target->callable && target->callable->kind == Kind::Global) {
      const Classified& c = classified(target->callable);
      if (c.trust != Trust::Allowed)
        report(c.trust == Trust::Dangerous ? Severity::Dangerous : Severity::NeedsCode, "call",
               c.name, offset,
               "BUILD calls " + c.name + ".__setstate__(" + value_text(state) + ")",
               c.trust != Trust::Dangerous);
    }
  }

  void add_items(uint8_t op, const Value* target, uint64_t offset) override {
    bool list_op = op == 'a' || op == 'e';
    bool ok = list_op ? target->kind == Kind::List
                      : op != 0x90 && (target->kind == Kind::Dict || made_by_allowlist_.contains(target));
    if (!ok)
      refuse(opcode_name(op) + " on " + kind_name(target),
             "torch.load(weights_only=True) refuses " + opcode_name(op) + " on " + kind_name(target),
             offset);
  }

  void memo_put(uint8_t op, uint64_t key, bool replaced, uint64_t offset) override {
    if (replaced) memo_overwrite(op, key, offset);
  }
  __attribute__((noinline)) void memo_overwrite(uint8_t op, uint64_t key, uint64_t offset) {
    report(Severity::Warning, "memo-overwrite", "", offset,
           opcode_name(op) + " writes memo slot " + std::to_string(key) +
               " a second time: Python resolves the later value, a scanner that numbers "
               "the memo differently sees another; pickle.dump never does this",
           true);
  }

  // What is remembered by address: a released value's slot may come back
  // as another value, which no allowlisted call made.
  void released(const Value* v) override {
    if (Recent& r = recent(v); r.global == v) r.global = nullptr;
    // Only what a call made or a BUILD targeted can be in these: never an
    // immutable value, which most released values are (strings, tuples).
    switch (v->kind) {
      case Kind::None: case Kind::Bool: case Kind::Int: case Kind::Float:
      case Kind::Str: case Kind::Bytes: case Kind::Tuple:
        return;
      default: break;
    }
    made_by_allowlist_.erase(v);
    if (!setstate_.empty()) setstate_.erase(v);
  }

  void persistent_id(const Value* pid, uint64_t offset) override {
    bool storage = pid->kind == Kind::Int ||
                   (pid->kind == Kind::Tuple && !pid->items.empty() &&
                    (pid->items[0]->kind == Kind::Str || pid->items[0]->kind == Kind::Bytes) &&
                    pid->items[0]->s == "storage");
    if (!storage)
      refuse("persistent id", "torch.load(weights_only=True) refuses a persistent id that is not ('storage', ...)",
             offset);
  }

 private:
  static std::string kind_name(const Value* v) {
    if (!v) return "nothing";
    if (made_by_call(v)) return "an object";
    switch (v->kind) {
      case Kind::None: return "None";
      case Kind::Bool: return "bool";
      case Kind::Int: return "int";
      case Kind::Float: return "float";
      case Kind::Str: return "str";
      case Kind::Bytes: return "bytes";
      case Kind::Tuple: return "tuple";
      case Kind::List: return "list";
      case Kind::Dict: return "dict";
      case Kind::Set: return "set";
      case Kind::Global: return "a global";
      case Kind::Object: return "an object";
      case Kind::Tensor: return "tensor";
      case Kind::Storage: return "storage";
    }
    return "value";
  }

  // The dicts a BUILD state updates __dict__ and slots from.
  static std::vector<const Value*> state_dicts(const Value* state) {
    std::vector<const Value*> out;
    if (!state) return out;
    if (state->kind == Kind::Dict) out.push_back(state);
    if (state->kind == Kind::Tuple && state->items.size() == 2)
      for (const Value* part : state->items)
        if (part->kind == Kind::Dict) out.push_back(part);
    return out;
  }

  // "Class.member" when args are (a class that is not dangerous, a plain
  // attribute name that is not dangerous on it): an enum member by name.
  // Anything else getattr is asked for is reflection.
  std::string class_attribute(const Value* args) {
    if (!args || args->items.size() != 2) return "";
    const Value* owner = args->items[0];
    const Value* attr = args->items[1];
    if (owner->kind != Kind::Global || attr->kind != Kind::Str || attr->s.empty()) return "";
    for (char ch : attr->s)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return "";
    if (attr->s.compare(0, 2, "__") == 0) return "";
    if (classified(owner).trust == Trust::Dangerous) return "";
    auto dot = owner->s.rfind('.');
    if (dot == std::string::npos) return "";
    Classified member = classify_global(owner->s, attr->s);
    if (member.trust == Trust::Dangerous) return "";
    return owner->s + "." + attr->s;
  }

  const Classified& classified(const Value* global) {
    // Most calls are of a few memoized globals (a state_dict's tensor
    // rebuild and its OrderedDict): found by address, not by hashing names.
    Recent& r = recent(global);
    if (r.global == global) return *r.classified;
    const Classified& c = lookup(global);
    r = {global, &c};  // the map's nodes stay put
    return c;
  }
  const Classified& lookup(const Value* global) {
    auto it = names_.find(global->s);
    if (it != names_.end()) return it->second;
    // Not seen through global(): cannot happen for values the interpreter
    // made, but never guess "allowed".
    auto dot = global->s.rfind('.');
    Classified c = classify_global(global->s.substr(0, dot == std::string::npos ? 0 : dot),
                                   dot == std::string::npos ? global->s : global->s.substr(dot + 1));
    if (c.trust == Trust::Allowed) c.trust = Trust::NeedsCode;
    return names_.emplace(global->s, c).first->second;
  }

  uint64_t where(uint64_t offset) const { return site_.in_file ? site_.base + offset : offset; }

  // A step weights_only refuses: one finding per kind of step.
  void refuse(const std::string& key, const std::string& detail, uint64_t offset) {
    report(Severity::NeedsCode, "weights-only", "", offset, detail, true, key);
  }

  void report(Severity severity, const std::string& kind, const std::string& global,
              uint64_t offset, const std::string& detail, bool fold, const std::string& key_in = "") {
    Finding f;
    f.severity = severity;
    f.kind = kind;
    f.global = global;
    f.record = site_.record;
    if (site_.in_file) f.offset = site_.base + offset;
    else f.record_offset = offset;
    f.detail = detail;
    if (!fold) {
      if (++unfolded_ > kMaxUnfolded) {
        fold = true;  // a million calls is still one line each past this
      } else {
        sink_.add(std::move(f));
        return;
      }
    }
    std::string key = kind + '\x1f' + (key_in.empty() ? global : key_in) + '\x1f' +
                      std::to_string(static_cast<int>(severity));
    auto [it, fresh] = folded_.emplace(key, f);
    if (!fresh) ++it->second.count;
  }

  static constexpr size_t kMaxUnfolded = 1000;
  static constexpr const char* kGetattr = "builtins.getattr";
  std::optional<std::pair<uint8_t, uint64_t>> getattr_at_;  // first import of builtins.getattr
  bool getattr_misused_ = false;
  const PickleSite& site_;
  FindingSink& sink_;
  std::unordered_map<std::string, Classified, KeyedHash> names_;
  // classified()'s recent answers, by the global value's address.
  struct Recent {
    const Value* global = nullptr;
    const Classified* classified = nullptr;
  };
  std::array<Recent, 16> recent_{};
  Recent& recent(const Value* v) { return recent_[(reinterpret_cast<uintptr_t>(v) / sizeof(Value)) % recent_.size()]; }
  // Addresses the interpreter chose, not the file: hashed as they are.
  FlatSet<const Value*, std::hash<const Value*>, std::equal_to<>> made_by_allowlist_;
  std::unordered_map<const Value*, std::pair<std::string, std::string>> setstate_;
  std::map<std::string, Finding> folded_;
  size_t unfolded_ = 0;
};

}  // namespace

namespace {

PickleLimits scan_limits() {
  PickleLimits limits;
  limits.max_values = 4u << 20;  // ~25x the values of a 100k-tensor model's data.pkl
  return limits;
}

void read_result(const Pickle& p, PickleScan& out) {
  out.complete = true;
  out.end = p.end();
  out.protocol = p.protocol();
  if (p.root()->kind == Kind::Int)
    out.root_int = p.root()->s.empty() ? std::to_string(p.root()->i) : p.root()->s;
}

class HeldFindings : public FindingSink {
 public:
  void add(Finding f) override { held.push_back(std::move(f)); }
  std::vector<Finding> held;
};

// The shared pass: true when it completed, and then `out`, `sink` and
// `along` have what the scan alone would have given them, and the pickle.
bool scan_along(const ByteSource& src, uint64_t begin, uint64_t end, const PickleSite& site,
                FindingSink& sink, ReadAlong& along, PickleScan& out) {
  // A nested scan adds findings at once: the pass stops short of it, and
  // the scan alone makes it.
  PickleSite inner = site;
  inner.nested = [](const std::string&, const std::string&, int, bool) {
    throw Error("a nested pickle: the scan makes it alone");
  };
  HeldFindings findings;
  ScanHooks hooks;
  TeeHooks tee(hooks, *along.hooks);
  std::unique_ptr<Pickle> p;
  bool ran_anything = false;
  try {
    Scanner scanner(inner, findings);  // its folded findings come out as it goes
    p = Pickle::parse(src, begin, end, site.record, &tee, scan_limits(), &scanner);
    ran_anything = scanner.ran_anything;
  } catch (const Error&) {
    return false;
  }
  read_result(*p, out);
  out.ran_anything = ran_anything;
  out.storage_keys = std::move(hooks.keys);
  for (Finding& f : findings.held) sink.add(std::move(f));
  along.pickle = std::move(p);
  return true;
}

}  // namespace

PickleScan scan_pickle(const ByteSource& src, uint64_t begin, uint64_t end,
                       const PickleSite& site, FindingSink& sink, ReadAlong* along) {
  PickleScan out;
  if (along && along->hooks && scan_along(src, begin, end, site, sink, *along, out)) return out;
  Scanner scanner(site, sink);
  ScanHooks hooks;
  try {
    auto p = Pickle::parse(src, begin, end, site.record, &hooks, scan_limits(), &scanner);
    read_result(*p, out);
  } catch (const Error& e) {
    out.error = e.message();
    out.error_at = e.offset().value_or(begin);
  }
  out.ran_anything = scanner.ran_anything;
  out.storage_keys = std::move(hooks.keys);
  return out;
}

}  // namespace ptscope
