#include "ptscope/model_sizes.h"

#include "model_tensors.h"
#include "sizes.h"

namespace ptscope {

ModelSizes model_sizes(const Checkpoint& c, bool (*only)(const std::string&)) {
  ModelSizes m;
  m.from_file_roles = c.roles_known;
  for (const Tensor* t : unique_views(model_entries(c))) {
    if (only && !only(t->name)) continue;
    if (!counts_as_parameter(c, *t)) {
      m.buffer_bytes += t->nbytes();
      continue;
    }
    m.parameters += t->numel;
    m.parameter_tensors += 1;
    m.parameter_bytes += t->nbytes();
    if (t->numel < 4096) m.small_parameters += t->numel;
    if (t->shape.size() >= 2 && t->numel) {
      m.matrix_parameters += t->numel;
      m.matrix_rows += u(t->shape[0]);
      m.adafactor_state += t->numel / u(t->shape.back()) + t->numel / u(t->shape[t->shape.size() - 2]);
    } else {
      m.adafactor_state += t->numel;
    }
  }
  return m;
}

}  // namespace ptscope
