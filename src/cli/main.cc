// ptscope: inspect PyTorch checkpoints without loading them.
// Results go to stdout, diagnostics to stderr, each one line starting
// "ptscope: error: "; exit status 0 done and clean, 1 a file could not be
// read, 2 usage, 3 the answer is "no" (commands.h).
#include <spdlog/spdlog.h>

#include <vector>

#include <malloc.h>

#include "choice.h"
#include "commands.h"
#include "logging.h"
#include "progress.h"
#include "ptscope/error.h"
#include "suggest.h"

namespace {

using namespace ptscope::cli;

constexpr const char* kGlobalHelp =
    "Also, before or after the command: -f, --format {table,json,csv,tsv}; -v, --verbose; -q, --quiet";

int usage_error(std::string message) {
  for (char& c : message)
    if (c == '\n') c = ' ';  // CLI11 messages are sometimes two lines; ours are one
  spdlog::error("{}", message);
  return kUsage;
}

const CLI::App* chosen_command(const CLI::App& app) {
  auto subs = app.get_subcommands();
  return subs.empty() ? nullptr : subs.front();
}

// Names an argument nobody took, with the nearest known spelling. CLI11
// leaves these in the top-level app's remaining(): commands fall through
// to it, and it allows extras so that they come back here to be named.
std::string unknown_argument(const CLI::App& app) {
  std::vector<std::string> extra = app.remaining();
  if (extra.empty()) return "";
  const std::string& arg = extra.front();
  const CLI::App* command = chosen_command(app);
  std::vector<std::string> names;
  auto near = [&](const std::string& typed) {
    std::string n = nearest(typed, names);
    return n.empty() ? std::string() : " (did you mean " + n + "?)";
  };
  if (arg.size() > 1 && arg[0] == '-') {
    for (const CLI::App* a : {command, &app}) {
      if (!a) continue;
      for (const CLI::Option* o : a->get_options()) {
        for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
        for (const std::string& s : o->get_snames()) names.push_back("-" + s);
      }
    }
    std::string typed = arg.substr(0, arg.find('='));
    return "unknown option '" + typed + "'" + near(typed);
  }
  if (!command) {
    for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(s->get_name());
    return "unknown command '" + arg + "'" + near(arg);
  }
  return "unexpected argument '" + arg + "' (see ptscope " + command->get_name() + " --help)";
}

std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e) {
  std::string unknown = unknown_argument(app);
  if (!unknown.empty()) return unknown;
  const CLI::App* command = chosen_command(app);
  if (!command && dynamic_cast<const CLI::RequiredError*>(&e))
    return "a command is required: inspect, profile, estimate, diff, scan or backend (see ptscope --help)";
  std::string message = e.what();
  if (command) message += " (see ptscope " + command->get_name() + " --help)";
  return message;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc raises its mmap threshold each time a large block is freed, after
  // which the tables a many-tensor file grows and drops (tensor, storage
  // and zip entry vectors of megabytes) come from the heap and stay
  // resident. A fixed threshold keeps them mapped and returned when freed:
  // 3.6 MB less peak RSS on a 21k-tensor checkpoint.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  setup_logging();

  CLI::App app{"ptscope: inspect PyTorch checkpoints (.pt/.pth, TorchScript, safetensors) "
               "without loading or running them"};
  app.set_version_flag("--version", PTSCOPE_VERSION);
  app.require_subcommand(1);
  GlobalOptions global;
  add_choice<ptscope::OutputFormat>(app, "-f,--format", global.format,
                                    {{"table", ptscope::OutputFormat::Table}, {"json", ptscope::OutputFormat::Json},
                                     {"csv", ptscope::OutputFormat::Csv}, {"tsv", ptscope::OutputFormat::Tsv}},
                                    "Output format")
      ->default_str("table");
  auto* verbose = app.add_flag("-v,--verbose", global.verbose, "Log what is being read to stderr");
  app.add_flag("-q,--quiet", global.quiet, "Errors only on stderr: no warnings, no progress")->excludes(verbose);
  // The commands: one line each.
  struct Command {
    const char* name;
    const char* help;
    Run (*setup)(CLI::App&, const GlobalOptions&);
  };
  static const Command kCommands[] = {
      {"inspect", "Count parameters, tensors and bytes; map every byte", setup_inspect},
      {"profile", "Run a TorchScript model: FLOPs, activation memory, latency", setup_profile},
      {"estimate", "Memory for inference and training, FLOPs per token, from the file alone", setup_estimate},
      {"diff", "What changed between two checkpoints: tensors, shapes, dtypes, values", setup_diff},
      {"scan", "Is it safe to load? Every pickle judged as Python would run it", setup_scan},
      {"backend", "Load the LibTorch backend and report on it", setup_backend},
  };
  std::vector<std::pair<CLI::App*, Run>> runs;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    sub->fallthrough();
    sub->footer(kGlobalHelp);
    runs.emplace_back(sub, c.setup(*sub, global));
  }
  app.allow_extras();  // after the commands, which would inherit it

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
    return usage_error(parse_error_message(app, e));
  }
  std::string unknown = unknown_argument(app);
  if (!unknown.empty()) return usage_error(unknown);

  spdlog::set_level(global.verbose ? spdlog::level::debug
                    : global.quiet ? spdlog::level::err
                                   : spdlog::level::warn);
  global.progress = !global.quiet && stderr_is_terminal();
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return run();
  } catch (const ptscope::Error& e) {
    spdlog::error("{}", e.describe());
    return kFileError;
  } catch (const std::exception& e) {  // a bug of ours: still one line, never an abort
    spdlog::error("internal error: {}", e.what());
    return kFileError;
  }
  return kUsage;
}
