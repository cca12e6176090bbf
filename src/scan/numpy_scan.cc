// NumPy's .npy (numpy/lib/format.py): torch.load never reads it, but
// numpy.load(allow_pickle=True) unpickles an object array's data:
//
//   "\x93NUMPY" major minor
//   header length: uint16 (version 1) or uint32 (versions 2 and 3), little-endian
//   header: a Python dict literal, {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }
//   data: raw elements, or pickle.dump(array) when descr holds an object field ('O')
#include "file_scan.h"
#include "ptscope/error.h"

namespace ptscope {

bool looks_like_npy(const ByteSource& src) {
  return src.size() >= 10 && src.read_string(0, 6, "npy magic") == "\x93NUMPY";
}

std::string scan_npy(FileScan& f, const Place& where) {
  if (!looks_like_npy(where.src)) {
    f.note(Severity::Warning, "npz-member", where.record, where.at(0),
           "an .npz member that is not an .npy array: numpy.load refuses it");
    return "not an .npy array";
  }
  uint8_t major = static_cast<uint8_t>(where.src.read_string(6, 1, "npy version")[0]);
  uint64_t length = major == 1 ? where.src.read_u16(8, "npy header length")
                               : where.src.read_u32(8, "npy header length");
  uint64_t start = major == 1 ? 10 : 12;
  if (length > 1u << 20 || start + length > where.src.size()) {
    f.note(Severity::Warning, "npy-header", where.record, where.at(8),
           "the header length " + std::to_string(length) + " runs past the data: numpy.load refuses it");
    return "NumPy .npy (malformed)";
  }
  std::string header = where.src.read_string(start, length, "npy header");
  size_t descr = header.find("'descr'");
  size_t shape = header.find("'fortran_order'");
  std::string d = descr == std::string::npos ? header : header.substr(descr, shape > descr ? shape - descr : std::string::npos);
  bool objects = d.find("O'") != std::string::npos || d.find("O\"") != std::string::npos;
  if (!objects) return "NumPy .npy array";
  f.pickle(where, start + length, where.src.size(), "object array data",
           "numpy.load(allow_pickle=True); torch.load does not read .npy");
  return "NumPy .npy object array (its data is a pickle)";
}

}  // namespace ptscope
