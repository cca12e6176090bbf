#include "verify_report.h"

#include "numbers.h"

#include <ostream>

#include "report.h"

namespace ptscope {

void write_verify_text(std::ostream& out, const VerifyReply& v) {
  out << "\n  verify (LibTorch read every tensor)\n"
      << "    tensors checked   " << with_commas(static_cast<uint64_t>(v.tensors_checked)) << " ("
      << with_commas(static_cast<uint64_t>(v.elements_checked)) << " elements)\n"
      << "    NaN / Inf         " << with_commas(static_cast<uint64_t>(v.nan)) << " / "
      << with_commas(static_cast<uint64_t>(v.inf)) << '\n'
      << "    mismatches        " << v.mismatches.size() << '\n';
  for (const NanInf& e : v.tensors_with_nan_or_inf)
    out << "    " << e.name << ": " << e.nan << " NaN, " << e.inf << " Inf\n";
  for (const std::string& e : v.not_checked) out << "    not checked: " << e << '\n';
}

nlohmann::ordered_json verify_json(const VerifyReply& v) { return v; }

}  // namespace ptscope
