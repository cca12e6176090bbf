#include "logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

#include "progress.h"
#include "table.h"

namespace ptscope::cli {
namespace {

class ClearProgressSink : public spdlog::sinks::sink {
 public:
  explicit ClearProgressSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}
  // Every line escaped here, once: a file name or a message quoting a file's
  // bytes can hold a newline (a second, forged line) or a terminal escape.
  void log(const spdlog::details::log_msg& msg) override {
    clear_progress_line();
    std::string text = printable(std::string(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg escaped = msg;
    escaped.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->log(escaped);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

bool no_color_requested() {
  const char* v = std::getenv("NO_COLOR");
  return v && *v;
}

void setup_logging() {
  // automatic: spdlog's own check, stderr a terminal whose TERM has colour.
  auto mode = no_color_requested() ? spdlog::color_mode::never : spdlog::color_mode::automatic;
  auto colour = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(mode);
  auto log = std::make_shared<spdlog::logger>("ptscope", std::make_shared<ClearProgressSink>(colour));
  log->set_pattern("ptscope: %^%l%$: %v");
  spdlog::set_default_logger(log);
}

}  // namespace ptscope::cli
