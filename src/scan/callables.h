// What a name found in a pickle is, judged before anything else: on torch's
// weights_only allowlist, known to be dangerous, or merely outside the list.
// The allowlist decides "safe"; the danger list only chooses between
// "needs-code" and "dangerous" for what the allowlist already refused.
#pragma once

#include <string>

namespace ptscope {

enum class Trust { Allowed, NeedsCode, Dangerous };

struct Classified {
  Trust trust = Trust::NeedsCode;
  std::string name;  // module.name after Python 2's renames (__builtin__ -> builtins)
  std::string why;   // for Dangerous: "runs programs", "reaches ... by attribute lookups", ...
};

// `module` and `name` as the pickle spells them. `dotted_lookup`: the
// pickle's protocol is 4 or more, so Python resolves a dotted `name` by
// getattr, one segment at a time.
Classified classify_global(const std::string& module, const std::string& name);

// torch.load(weights_only=True)'s own GLOBAL check: the allowlist of
// torch/_weights_only_unpickler.py, after its Python 2 renames.
bool weights_only_allows(const std::string& full_name);

// Callables whose bytes argument is itself a pickle or a torch.save file
// that the call would load: pickle.loads, torch.storage._load_from_bytes...
bool loads_nested_pickle(const std::string& full_name);

}  // namespace ptscope
