// Linked into the targets whose parsers log why they ignore a file (the caches): that is every
// other input, so the library's logger is silenced before fuzzing starts.
#include <spdlog/spdlog.h>

#include "faceid/log.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  faceid::logger()->set_level(spdlog::level::off);
  return 0;
}
