// The allowlist is torch's: `_get_allowed_globals()` and
// `_tensor_rebuild_functions()` of torch/_weights_only_unpickler.py
// (pytorch/pytorch at 00f730b, the 2.x line whose torch.load defaults to
// weights_only=True since 2.6), with the dtype, storage and tensor class
// names those functions enumerate written out. NumPy's globals are not on
// it: torch 2.5 took them off the default list.
//
// The danger list is ours: modules and functions that run programs, touch
// files or the network, import or evaluate code, reflect, or deserialise
// more data, gathered from the bypasses reported against picklescan,
// modelscan and fickling. It never makes anything safe.
#include "callables.h"

#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ptscope {
namespace {

const std::unordered_set<std::string>& allowlist() {
  static const std::unordered_set<std::string> names = [] {
    std::unordered_set<std::string> s = {
        "collections.OrderedDict", "collections.Counter", "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout", "torch.Size", "torch.Tensor", "torch.device",
        "_codecs.encode", "builtins.bytearray", "builtins.set", "builtins.complex",
        "torch._tensor._rebuild_from_type_v2",
        "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
        "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams",
        "torch.storage.TypedStorage", "torch.storage.UntypedStorage", "torch.UntypedStorage",
    };
    for (const char* f : {"_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor",
                          "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
                          "_rebuild_sparse_tensor", "_rebuild_meta_tensor_no_storage",
                          "_rebuild_wrapper_subclass", "_rebuild_device_tensor_from_numpy",
                          "_rebuild_device_tensor_from_cpu_tensor"})
      s.insert(std::string("torch._utils.") + f);
    // str(dtype) for every dtype torch knows.
    for (const char* d : {"float32", "float64", "float16", "bfloat16", "complex32", "complex64",
                          "complex128", "uint8", "int8", "int16", "int32", "int64", "bool",
                          "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "uint16", "uint32",
                          "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                          "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits1x8",
                          "bits2x4", "bits4x2", "bits8", "bits16", "uint1", "uint2", "uint3",
                          "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4",
                          "int5", "int6", "int7"})
      s.insert(std::string("torch.") + d);
    // torch._storage_classes and torch._tensor_classes, CPU and CUDA.
    for (const char* t : {"Double", "Float", "Long", "Int", "Short", "Char", "Byte", "Half",
                          "Bool", "BFloat16", "ComplexDouble", "ComplexFloat"}) {
      for (const char* m : {"torch.", "torch.cuda."}) {
        s.insert(std::string(m) + t + "Storage");
        s.insert(std::string(m) + t + "Tensor");
      }
      for (const char* m : {"torch.sparse.", "torch.cuda.sparse."}) s.insert(std::string(m) + t + "Tensor");
    }
    for (const char* q : {"QUInt8", "QInt8", "QInt32", "QUInt4x2", "QUInt2x4"})
      s.insert(std::string("torch.") + q + "Storage");
    return s;
  }();
  return names;
}

// Python 2 module names Python 3's Unpickler (and torch's) renames when the
// protocol is under 3: `_compat_pickle.IMPORT_MAPPING`, the entries that
// matter here. A pickle may still spell them under any protocol.
const std::unordered_map<std::string, std::string>& python2_modules() {
  static const std::unordered_map<std::string, std::string> m = {
      {"__builtin__", "builtins"}, {"exceptions", "builtins"}, {"copy_reg", "copyreg"},
      {"cPickle", "pickle"}, {"commands", "subprocess"}, {"urllib2", "urllib.request"},
      {"httplib", "http.client"}, {"SocketServer", "socketserver"}, {"Queue", "queue"},
      {"UserDict", "collections"}, {"UserList", "collections"}, {"cStringIO", "io"},
      {"StringIO", "io"}, {"thread", "_thread"}, {"dummy_thread", "_dummy_thread"},
      {"cProfile", "cProfile"}, {"urlparse", "urllib.parse"}, {"dbm", "dbm"},
  };
  return m;
}

// Whole modules (and their submodules): every name in them is dangerous.
struct ModuleRisk {
  const char* module;
  const char* why;
};
const ModuleRisk kDangerousModules[] = {
    {"os", "runs programs and touches files"}, {"posix", "runs programs and touches files"},
    {"nt", "runs programs and touches files"}, {"sys", "reaches the interpreter's state"},
    {"subprocess", "runs programs"}, {"_posixsubprocess", "runs programs"}, {"pty", "runs programs"},
    {"platform", "runs programs"}, {"multiprocessing", "starts processes"},
    {"asyncio", "runs programs"}, {"signal", "changes signal handlers"},
    {"shutil", "touches files"}, {"tempfile", "touches files"}, {"fileinput", "opens files"},
    {"zipfile", "writes files"}, {"tarfile", "writes files"},
    {"socket", "opens network connections"}, {"ssl", "opens network connections"},
    {"http", "opens network connections"}, {"urllib", "opens network connections"},
    {"urllib3", "opens network connections"}, {"requests", "opens network connections"},
    {"httpx", "opens network connections"}, {"ftplib", "opens network connections"},
    {"smtplib", "opens network connections"}, {"telnetlib", "opens network connections"},
    {"poplib", "opens network connections"}, {"imaplib", "opens network connections"},
    {"xmlrpc", "opens network connections"}, {"socketserver", "opens network connections"},
    {"webbrowser", "opens a browser"}, {"pydoc", "imports modules by name and runs pagers"}, {"ctypes", "calls native code"},
    {"_ctypes", "calls native code"}, {"cffi", "calls native code"},
    {"importlib", "imports modules by name"}, {"pkgutil", "imports modules by name"},
    {"imp", "imports modules by name"}, {"zipimport", "imports modules"},
    {"runpy", "runs Python code"}, {"code", "runs Python code"}, {"codeop", "compiles Python code"},
    {"bdb", "a debugger that runs code"}, {"pdb", "a debugger that runs code"},
    {"ipdb", "a debugger that runs code"}, {"cProfile", "a profiler that runs code"},
    {"profile", "a profiler that runs code"}, {"_lsprof", "a profiler that runs code"},
    {"trace", "runs code under tracing"}, {"timeit", "runs code to time it"},
    {"pip", "installs packages"}, {"setuptools", "builds and installs packages"},
    {"distutils", "builds packages"}, {"ensurepip", "installs packages"},
    {"pickle", "loads more pickles"}, {"_pickle", "loads more pickles"},
    {"marshal", "loads code objects"}, {"dill", "loads more pickles"},
    {"cloudpickle", "loads more pickles"}, {"shelve", "loads more pickles"},
    {"joblib", "loads more pickles"},
    {"torch.hub", "downloads and runs code"}, {"torch.utils.collect_env", "runs programs"},
    {"torch.utils.cpp_extension", "compiles and loads native code"},
    {"torch.package", "imports code from the package"},
    {"torch._dynamo", "compiles and runs code"}, {"torch._inductor", "compiles and runs code"},
    {"numpy.f2py", "compiles native code"}, {"numpy.distutils", "builds packages"},
    {"numpy.ctypeslib", "loads native libraries"}, {"yaml", "loads more objects"},
    {"pandas.io.pickle", "loads more pickles"},
};

// Single functions that are dangerous in modules that are otherwise fine.
const std::unordered_map<std::string, const char*>& dangerous_names() {
  static const std::unordered_map<std::string, const char*> m = {
      {"builtins.eval", "evaluates Python code"}, {"builtins.exec", "runs Python code"},
      {"builtins.execfile", "runs Python code"}, {"builtins.compile", "compiles Python code"},
      {"builtins.__import__", "imports modules by name"}, {"builtins.open", "opens files"},
      {"builtins.file", "opens files"}, {"builtins.getattr", "reflection: reaches any attribute"},
      {"builtins.setattr", "reflection: changes any attribute"},
      {"builtins.delattr", "reflection: deletes any attribute"},
      {"builtins.globals", "reflection: the interpreter's globals"},
      {"builtins.locals", "reflection"}, {"builtins.vars", "reflection"},
      {"builtins.input", "reads the terminal"}, {"builtins.breakpoint", "starts a debugger"},
      {"builtins.help", "starts the help pager"}, {"builtins.exit", "exits the interpreter"},
      {"builtins.quit", "exits the interpreter"},
      {"operator.attrgetter", "reflection: reaches attributes by name"},
      {"operator.methodcaller", "reflection: calls methods by name"},
      {"functools.reduce", "calls a function it is given"},
      {"codecs.open", "opens files"}, {"io.open", "opens files"}, {"io.FileIO", "opens files"},
      {"_io.open", "opens files"}, {"_io.FileIO", "opens files"}, {"os.open", "opens files"},
      {"types.FunctionType", "builds a function from a code object"},
      {"types.LambdaType", "builds a function from a code object"},
      {"types.CodeType", "builds a code object"}, {"types.MethodType", "binds a method"}, {"linecache.getline", "reads files"},
      {"torch.load", "loads another checkpoint without weights_only"},
      {"torch.serialization.load", "loads another checkpoint without weights_only"},
      {"torch.serialization._legacy_load", "loads another checkpoint"},
      {"torch.jit.load", "compiles and runs a TorchScript archive"},
      {"torch.jit._serialization.load", "compiles and runs a TorchScript archive"},
      {"torch.jit.CompilationUnit", "compiles code"}, {"torch.jit.script", "compiles code"},
      {"numpy.load", "loads arrays with pickles"}, {"numpy.lib.npyio.load", "loads arrays with pickles"},
      {"numpy.testing._private.utils.runstring", "runs Python code"},
      {"numpy.memmap", "creates and maps files"}, {"numpy.core.memmap.memmap", "creates and maps files"},
      {"numpy._core.memmap.memmap", "creates and maps files"}, {"numpy.save", "writes files"},
      {"numpy.savez", "writes files"}, {"numpy.savetxt", "writes files"}, {"numpy.fromfile", "reads files"},
      {"pandas.read_pickle", "loads more pickles"},
      {"logging.config.listen", "opens a network port"},
  };
  return m;
}

// Attribute names that call for a second look wherever they appear: a
// module re-exporting os.system is as dangerous as os itself.
const std::unordered_set<std::string>& dangerous_attributes() {
  static const std::unordered_set<std::string> s = {
      "system", "popen", "popen2", "popen3", "popen4", "spawnl", "spawnle", "spawnlp", "spawnv",
      "spawnve", "spawnvp", "execl", "execle", "execlp", "execv", "execve", "execvp", "execvpe",
      "eval", "exec", "execfile", "__import__", "import_module", "getoutput", "getstatusoutput",
      "check_output", "check_call", "Popen", "run_path", "run_module", "_run_code",
      "_run_module_code", "_run_module_as_main", "runctx", "runcall", "runsource", "runcode",
      "startfile", "fork", "forkpty", "resolve_name", "attrgetter", "methodcaller",
      "__builtins__", "__globals__", "__subclasses__", "__getattribute__", "__reduce__",
      "__reduce_ex__", "__setstate__", "__code__",
  };
  return s;
}

bool in_module(const std::string& module, const std::string& prefix) {
  return module == prefix ||
         (module.size() > prefix.size() && module.compare(0, prefix.size(), prefix) == 0 &&
          module[prefix.size()] == '.');
}

// Module names any of whose attributes can reach a dangerous module: seen as
// the first segment of a dotted path, or as the attribute itself.
bool names_dangerous_module(const std::string& segment) {
  for (const ModuleRisk& r : kDangerousModules)
    if (segment == r.module) return true;
  return segment == "builtins" || segment == "__builtin__";
}

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '.') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

}  // namespace

bool weights_only_allows(const std::string& full_name) { return allowlist().count(full_name) != 0; }

bool loads_nested_pickle(const std::string& n) {
  return n == "pickle.loads" || n == "_pickle.loads" || n == "pickle._loads" ||
         n == "dill.loads" || n == "cloudpickle.loads" || n == "torch.storage._load_from_bytes" ||
         n == "torch.serialization._load_from_bytes";
}

Classified classify_global(const std::string& module_in, const std::string& name) {
  Classified c;
  std::string module = module_in;
  if (auto it = python2_modules().find(module); it != python2_modules().end()) module = it->second;
  c.name = module + "." + name;
  if (weights_only_allows(c.name)) {
    c.trust = Trust::Allowed;
    return c;
  }
  c.trust = Trust::Dangerous;
  // Python >= protocol 4 resolves "a.b.c" by getattr from the module: a
  // path through a harmless module's imports (torch.serialization.os.system)
  // is how names get past lists of modules.
  if (name.find('.') != std::string::npos) {
    c.why = "reaches '" + name + "' from module " + module + " by attribute lookups (a dotted name)";
    return c;
  }
  if (auto it = dangerous_names().find(c.name); it != dangerous_names().end()) {
    c.why = it->second;
    return c;
  }
  for (const ModuleRisk& r : kDangerousModules) {
    if (*r.why && in_module(module, r.module)) {
      c.why = r.why;
      return c;
    }
  }
  if (dangerous_attributes().count(name)) {
    c.why = name.compare(0, 2, "__") == 0
                ? "'" + name + "' is a special attribute: a path to the interpreter's internals"
                : "'" + name + "' names a function that runs code, wherever it is imported from";
    return c;
  }
  if (names_dangerous_module(name)) {
    c.why = "refers to the module '" + name + "' through " + module;
    return c;
  }
  for (const std::string& segment : split_dots(module)) {
    if (segment == "__builtins__" || segment == "__globals__") {
      c.why = "reaches the interpreter's builtins through " + module;
      return c;
    }
  }
  c.trust = Trust::NeedsCode;
  return c;
}

}  // namespace ptscope
