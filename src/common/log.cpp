#include "src/common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace awq {
namespace {

LogLevel g_level = LogLevel::Warn;

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_st("awqrun");
    l->set_pattern("%^%l%$: %v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *instance;
}

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log_line(LogLevel level, const std::string& line) {
  if (level < g_level) return;
  switch (level) {
    case LogLevel::Debug: logger().debug(line); break;
    case LogLevel::Info: logger().info(line); break;
    case LogLevel::Warn: logger().warn(line); break;
    case LogLevel::Error: logger().error(line); break;
    case LogLevel::Off: break;
  }
}

}  // namespace awq
