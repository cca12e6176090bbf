// ptscope inspect FILE...: everything the metadata says, without LibTorch
// and without reading tensor data.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "progress.h"
#include "backend.h"
#include "ptscope/error.h"
#include "reader.h"
#include "report.h"

namespace ptscope::cli {
namespace {

struct InspectArgs {
  std::vector<std::string> files;
  InspectOptions options;
  bool verify = false;
  bool progress = false;
};

struct Result {
  std::string path;
  std::optional<Checkpoint> checkpoint;
  Summary summary;
  std::string error;
  nlohmann::ordered_json verify;  // null unless --verify
};

// What the LibTorch plugin needs to rebuild every tensor over the file's
// bytes: the metadata path's own answer, for LibTorch to check.
nlohmann::ordered_json verify_request(const Checkpoint& c) {
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const Tensor& t : c.tensors) {
    const Storage* s = t.storage >= 0 ? &c.storages[static_cast<size_t>(t.storage)] : nullptr;
    tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                       {"stride", t.stride}, {"storage_offset", t.storage_offset},
                       {"file_offset", s && s->file_offset ? nlohmann::ordered_json(*s->file_offset)
                                                           : nlohmann::ordered_json(nullptr)},
                       {"storage_bytes", s ? s->nbytes : 0}});
  }
  return {{"file", c.path}, {"torchscript", c.format == Format::TorchScript}, {"tensors", tensors}};
}

// Loads LibTorch once, for the first file that needs it.
const Backend& backend() {
  static std::unique_ptr<Backend> b = Backend::load();
  return *b;
}

void verify_one(Result& r) {
  try {
    if (r.checkpoint->metadata.count("byteorder") && r.checkpoint->metadata.at("byteorder") == "big")
      throw Error("big-endian tensor data cannot be verified");
    r.verify = backend().call("verify", verify_request(*r.checkpoint));
  } catch (const Error& e) {
    r.error = e.in_file(r.path).describe();
    spdlog::error("{}", r.error);
    return;
  }
  for (const auto& m : r.verify["mismatches"]) {
    r.error = r.path + ": LibTorch disagrees with the metadata: " + m.get<std::string>();
    spdlog::error("{}", r.error);
  }
}

void write_verify(std::ostream& out, const nlohmann::ordered_json& v) {
  out << "\n  verify (LibTorch read every tensor)\n"
      << "    tensors checked   " << with_commas(v["tensors_checked"].get<uint64_t>()) << " ("
      << with_commas(v["elements_checked"].get<uint64_t>()) << " elements)\n"
      << "    NaN / Inf         " << with_commas(v["nan"].get<uint64_t>()) << " / "
      << with_commas(v["inf"].get<uint64_t>()) << '\n'
      << "    mismatches        " << v["mismatches"].size() << '\n';
  for (const auto& e : v["tensors_with_nan_or_inf"])
    out << "    " << e["name"].get<std::string>() << ": " << e["nan"] << " NaN, " << e["inf"] << " Inf\n";
  for (const auto& e : v["not_checked"]) out << "    not checked: " << e.get<std::string>() << '\n';
}

Result inspect_one(const std::string& path) {
  Result r{path, std::nullopt, {}, "", nullptr};
  auto start = std::chrono::steady_clock::now();
  try {
    r.checkpoint = load_checkpoint(path);
    r.summary = summarize(*r.checkpoint);
  } catch (const Error& e) {
    r.error = e.describe();
    spdlog::error("{}", r.error);
    return r;
  }
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  spdlog::debug("{}: {} tensors, {} storages, read in {:.2f} ms", path,
                r.checkpoint->tensors.size(), r.checkpoint->storages.size(), ms.count());
  return r;
}

// CSV and TSV carry exactly one table, with the file in its first column.
int write_delimited_view(const InspectArgs& a, const std::vector<Result>& results, char sep) {
  const InspectOptions& o = a.options;
  if (int(o.tensors) + int(o.tree) + int(o.bytes) > 1) {
    spdlog::error("--format csv/tsv writes one table: choose one of --tensors, --tree, --bytes");
    return kUsage;
  }
  TextTable all;
  std::vector<std::pair<const Checkpoint*, const Summary*>> ok;
  for (const Result& r : results) {
    if (!r.checkpoint) continue;
    const Checkpoint& c = *r.checkpoint;
    if (!o.tensors && !o.tree && !o.bytes) {
      ok.push_back({&c, &r.summary});
      continue;
    }
    TextTable t = o.tensors ? tensors_table(c) : o.tree ? tree_table(c, o.depth) : bytes_table(c);
    if (all.columns.empty()) {
      all.columns = t.columns;
      all.columns.insert(all.columns.begin(), "file");
    }
    for (auto& row : t.rows) {
      row.insert(row.begin(), c.path);
      all.rows.push_back(std::move(row));
    }
  }
  if (!o.tensors && !o.tree && !o.bytes) all = summary_table(ok);
  if (!all.columns.empty()) write_delimited(std::cout, all, sep);
  return kOk;
}

int run_inspect(const InspectArgs& a) {
  std::vector<Result> results;
  // One small file reads in milliseconds: progress for several, or for
  // LibTorch reading every tensor.
  Progress progress(a.progress && (a.files.size() > 1 || a.verify));
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < a.files.size(); ++i) {
    const std::string& f = a.files[i];
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.update(progress_line("reading " + f, i, a.files.size(), seconds));
    results.push_back(inspect_one(f));
    if (a.verify && results.back().checkpoint) {
      progress.update(progress_line("verifying " + f + " with LibTorch", i, a.files.size(), seconds), true);
      verify_one(results.back());
    }
  }
  progress.clear();
  bool failed = false;
  for (const Result& r : results) failed = failed || !r.error.empty();

  switch (a.options.format) {
    case OutputFormat::Table: {
      bool first = true;
      for (const Result& r : results) {
        if (!r.checkpoint) continue;
        if (!first) std::cout << '\n';
        write_text_report(std::cout, *r.checkpoint, r.summary, a.options);
        if (!r.verify.is_null()) write_verify(std::cout, r.verify);
        first = false;
      }
      break;
    }
    case OutputFormat::Json: {
      // One file, one object; several files, an array with an error object
      // standing in for each file that could not be read.
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const Result& r : results) {
        if (!r.checkpoint) {
          out.push_back({{"file", r.path}, {"error", r.error}});
          continue;
        }
        out.push_back(inspect_json(*r.checkpoint, r.summary, a.options));
        if (!r.verify.is_null()) out.back()["verify"] = r.verify;
      }
      if (results.size() == 1) {
        if (results[0].checkpoint) std::cout << out[0].dump(2) << '\n';
      } else {
        std::cout << out.dump(2) << '\n';
      }
      break;
    }
    case OutputFormat::Csv:
    case OutputFormat::Tsv: {
      int rc = write_delimited_view(a, results, a.options.format == OutputFormat::Csv ? ',' : '\t');
      if (rc != kOk) return rc;
      break;
    }
  }
  return failed ? kFileError : kOk;
}

}  // namespace

Run setup_inspect(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<InspectArgs>();
  app.add_option("files", a->files, "Checkpoint files: .pt/.pth (zip or legacy), TorchScript, safetensors")
      ->required();
  app.add_flag("--tensors", a->options.tensors, "List every tensor entry with its role and the rule behind it");
  auto* tree = app.add_flag("--tree", a->options.tree, "numel and bytes per module prefix");
  app.add_option("--depth", a->options.depth, "Module depth for --tree")
      ->check(CLI::Range(1, 64))
      ->needs(tree)
      ->capture_default_str();
  app.add_flag("--bytes", a->options.bytes, "Label every byte range of the file");
  app.add_flag("--verify", a->verify,
               "Also read every tensor's data through LibTorch: check it against the metadata, count NaN/Inf");
  return [a, &global] {
    a->options.format = global.format;
    a->progress = global.progress;
    return run_inspect(*a);
  };
}

}  // namespace ptscope::cli
