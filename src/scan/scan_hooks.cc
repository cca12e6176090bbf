#include "scan_hooks.h"

#include "callables.h"
#include "ptscope/error.h"

namespace ptscope {

bool drops_args(const Value* callable) {
  return callable->kind == Kind::Global && callable->s.rfind("torch._utils._rebuild_", 0) == 0 &&
         weights_only_allows(callable->s);
}

bool made_by_call(const Value* v) {
  return v && (v->kind == Kind::Object || ((v->kind == Kind::Tensor || v->kind == Kind::Storage) && v->callable));
}

Value* ScanHooks::persistent_load(Pickle& p, Value* pid) {
  note_key(pid);
  return p.make(Kind::Storage, pid->offset);
}

void ScanHooks::note_key(const Value* pid) {
  if (pid->kind == Kind::Tuple && pid->items.size() >= 3 && pid->items[2]->kind == Kind::Str)
    keys.push_back(pid->items[2]->s);
}

Value* ScanHooks::call(Pickle& p, Value* callable, Value* args) {
  if (!drops_args(callable)) return nullptr;
  Value* o = p.make(Kind::Object, args ? args->offset : callable->offset);
  o->callable = callable;
  Pickle::hold(callable);
  return o;
}

Value* TeeHooks::persistent_load(Pickle& p, Value* pid) {
  scan_.note_key(pid);
  return reader_.persistent_load(p, pid);
}

Value* TeeHooks::call(Pickle& p, Value* callable, Value* args) {
  Value* v = reader_.call(p, callable, args);
  if (!v) return nullptr;
  // A value the interpreter already held would carry two calls: give up
  // the shared pass rather than guess what the scan would have seen.
  if (v->callable || v->args || (v->kind != Kind::Tensor && v->kind != Kind::Storage))
    throw Error("a reader's hook returned a value the scan cannot follow", callable->offset);
  v->callable = callable;
  Pickle::hold(callable);
  if (args && !drops_args(callable)) {
    v->args = args;
    Pickle::hold(args);
  }
  return v;
}

}  // namespace ptscope
