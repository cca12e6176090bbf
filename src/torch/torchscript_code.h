// Parameters versus buffers in a TorchScript archive come from the archive:
// every module class in code/ declares them, e.g.
//
//   class Conv2d(Module):
//     __parameters__ = ["weight", "bias", ]
//     __buffers__ = []
//
// in code/__torch__/torch/nn/modules/conv.py for __torch__.torch.nn.modules.conv.Conv2d.
#pragma once

#include <string>

#include "state_walk.h"

namespace ptscope {

// Adds the declarations found in one code file. `module` is the dotted
// module the file defines ("__torch__.torch.nn.modules.conv").
void parse_class_decls(const std::string& module, const std::string& source,
                       ClassDecls& out);

// "code/__torch__/a/b.py" -> "__torch__.a.b"; "" if not a code file.
std::string code_module_name(const std::string& rel);

}  // namespace ptscope
