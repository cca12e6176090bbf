#include "torch_file_builder.h"

#include "little_endian.h"
#include "pickle_builder.h"

namespace ptscope::test {

StatePickle state_pickle(const TensorSpec& t, bool legacy) {
  PickleAsm a;
  a.proto(2).global("collections", "OrderedDict").put(op::BINPUT).u8(0);
  a.put({op::EMPTY_TUPLE, op::REDUCE}).put(op::BINPUT).u8(1).put(op::MARK).str("w");
  StatePickle out;
  out.rebuild_at = a.size();
  a.global("torch._utils", "_rebuild_tensor_v2").put({op::MARK, op::MARK}).str("storage");
  a.global("torch", t.storage_class).str(t.key).str("cpu").integer(t.storage_numel);
  if (legacy) a.put(op::NONE);
  out.pid_at = a.size();
  a.put({op::TUPLE, op::BINPERSID}).integer(t.offset).put(op::MARK);
  for (int64_t d : t.shape) a.integer(d);
  a.put({op::TUPLE, op::MARK});
  for (int64_t s : t.stride) a.integer(s);
  a.put({op::TUPLE, op::NEWFALSE}).global("collections", "OrderedDict");
  a.put({op::EMPTY_TUPLE, op::REDUCE, op::TUPLE, op::REDUCE, op::SETITEMS, op::STOP});
  out.bytes = a.bytes();
  return out;
}

std::string magic_pickle(const std::string& le_bytes) {
  return PickleAsm().proto(2).put(op::LONG1).u8(le_bytes.size()).raw(le_bytes).stop().bytes();
}

TorchZip torch_zip(const std::string& pkl, const std::string& key, const std::string& storage) {
  ZipBuilder::Options o;
  o.align = true;
  o.descriptors = true;
  ZipBuilder z(o);
  z.add("archive/data.pkl", pkl).add("archive/data/" + key, storage).add("archive/version", "3\n");
  TorchZip out;
  out.bytes = z.build();
  out.layout = z.layout();
  return out;
}

Legacy legacy(const StatePickle& object, int64_t count, size_t data_bytes,
              int protocol_version) {
  Legacy out;
  out.bytes = magic_pickle();
  out.bytes += PickleAsm().proto(2).integer(protocol_version).stop().bytes();
  out.bytes += PickleAsm().proto(2).put({op::EMPTY_DICT, op::MARK}).str("protocol_version")
                   .integer(1001).str("little_endian").put(op::NEWTRUE).str("type_sizes")
                   .put({op::EMPTY_DICT, op::SETITEMS, op::STOP}).bytes();
  out.object_at = out.bytes.size();
  out.bytes += object.bytes;
  out.keys_at = out.bytes.size();
  out.bytes += PickleAsm().proto(2).put(op::EMPTY_LIST).str("0").put({op::APPEND, op::STOP}).bytes();
  out.data_at = out.bytes.size();
  put_le(out.bytes, static_cast<uint64_t>(count), 8);
  out.bytes += std::string(data_bytes, '\0');
  return out;
}

std::string torchscript_zip(const std::string& code) {
  ZipBuilder z;
  z.add("m/data.pkl", PickleAsm().proto(2).put(op::EMPTY_DICT).stop().bytes())
      .add("m/code/__torch__/a.py", code)
      .add("m/constants.pkl", PickleAsm().proto(2).put(op::EMPTY_TUPLE).stop().bytes());
  return z.build();
}

}  // namespace ptscope::test
