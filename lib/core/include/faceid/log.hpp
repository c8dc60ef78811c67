#pragma once
// The library logs through its own named spdlog logger ("faceid") and never replaces the default
// one; the apps decide where it goes (stderr) and how much (SPDLOG_LEVEL, -v/-q).

#include <memory>

namespace spdlog {
class logger;
}

namespace faceid {

/// The "faceid" logger, created on first use with a stderr sink if the app registered none.
std::shared_ptr<spdlog::logger> logger();

}  // namespace faceid
