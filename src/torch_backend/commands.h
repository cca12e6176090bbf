// What the plugin can be asked to do: JSON request in, JSON result out.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace ptscope::torch_backend {

// A failure the user caused or can act on; its text reaches them as is.
struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

nlohmann::ordered_json profile(const nlohmann::ordered_json& request);
nlohmann::ordered_json verify(const nlohmann::ordered_json& request);

}  // namespace ptscope::torch_backend
