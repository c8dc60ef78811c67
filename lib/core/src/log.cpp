#include "faceid/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace faceid {

std::shared_ptr<spdlog::logger> logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    if (auto existing = spdlog::get("faceid")) return existing;
    auto created = spdlog::stderr_color_mt("faceid");
    created->set_pattern("[%H:%M:%S] %^%l%$: %v");
    return created;
  }();
  return instance;
}

}  // namespace faceid
