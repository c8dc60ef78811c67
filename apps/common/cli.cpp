#include "cli.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <thread>

#include <ATen/Parallel.h>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#ifdef FACEID_WITH_VISION
#include <opencv2/core/utility.hpp>
#endif

#include "faceid/error.hpp"

namespace faceid::cli {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  // The local ranks of a data-parallel run (torchrun's LOCAL_WORLD_SIZE) share the cores.
  unsigned ranks = 1;
  if (const char* local = std::getenv("LOCAL_WORLD_SIZE"); local && std::atoi(local) > 1)
    ranks = static_cast<unsigned>(std::atoi(local));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency() / ranks));
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

static void setup_logging(const CommonOptions& o) {
  // The library's logger goes to stderr; SPDLOG_LEVEL (e.g. "debug") overrides -v/-q.
  auto log = spdlog::get("faceid");
  if (!log) {
    log = std::make_shared<spdlog::logger>("faceid",
                                           std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    log->set_pattern("[%H:%M:%S] %^%l%$: %v");
    spdlog::register_logger(log);
  }
  log->set_level(o.quiet         ? spdlog::level::warn
                 : o.verbose > 0 ? spdlog::level::debug
                                 : spdlog::level::info);
  spdlog::cfg::load_env_levels();
}

// OpenBLAS chooses its kernels when the library loads, before main, and on these virtual machines
// it does not recognise the CPU and falls back to generic ones (measured: 60 vs 295 GFLOP/s).
// When the CPU has the AVX-512 subsets the SkylakeX kernels need, re-run this very program once
// with OPENBLAS_CORETYPE set. A value already set is respected; FACEID_NO_TUNE=1 turns this off.
static void select_blas_kernel(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("FACEID_NO_TUNE")) return;
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd")))
    return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the generic kernels
  unsetenv("OPENBLAS_CORETYPE");
}

// glibc hands every allocation above its mmap threshold (a few MB) to the kernel and takes it back
// on free, so each training step's activations arrive as fresh pages the kernel must fault in
// and zero: measured on the default recipe's step, 124 images/s as is vs 503 with freed memory
// kept (scripts/bench.sh, "recipe" rows). Keep it: no mmap'ed chunks, no trimming of the heap.
// FACEID_NO_TUNE=1 turns this off too.
static void keep_freed_memory() {
  if (std::getenv("FACEID_NO_TUNE")) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

void warn_deprecated(const std::string& old_spelling, const std::string& now) {
  std::cerr << "warning: " << old_spelling << " is deprecated and goes in the next release: use "
            << now << std::endl;
}

int run_main(int argc, char** argv, const Tool& tool) {
  select_blas_kernel(argv);
  keep_freed_memory();
  CommonOptions common;
  CLI::App app(tool.description, tool.name);
  app.set_version_flag("--version", std::string(tool.name) + " (faceid) " FACEID_VERSION);
  app.add_option("--device", common.device, "Compute device: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--threads", common.threads, "CPU threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--seed", common.seed, "Random seed")->capture_default_str();
  app.add_flag("--json", common.json, "Print results as one JSON object on stdout");
  app.add_flag("-v,--verbose", common.verbose, "More log detail (lists skipped files)");
  app.add_flag("-q,--quiet", common.quiet, "Only warnings and errors on stderr");
  try {
    tool.setup(app, common);
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n(run " << tool.name << " --help for usage)"
              << std::endl;
    return static_cast<int>(ErrorKind::Usage);
  } catch (const faceid::Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return e.exit_code();
  }
  try {
    setup_logging(common);
    const int threads = resolve_threads(common.threads);
    at::set_num_threads(threads);
#ifdef FACEID_WITH_VISION
    cv::setNumThreads(threads);
#endif
    return tool.run(common);
  } catch (const faceid::Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << std::endl;
    return static_cast<int>(ErrorKind::Internal);
  }
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(std::size_t done, std::size_t total) {
  if (!enabled_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (!started_) {
    started_ = true;
    first_done_ = done;  // work done before the first update (e.g. cache hits) does not count
    start_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? (done - first_done_) / elapsed : 0;
  const double eta = rate > 0 ? (total - done) / rate : 0;
  const double frac = static_cast<double>(done) / total;
  if (tty_) {
    if (done != total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r%s [%s%s] %zu/%zu %5.1f/s ETA %4.0fs ", label_.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done,
                 total, rate, eta);
    std::fflush(stderr);
  } else {
    const int decile = static_cast<int>(frac * 10);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s: %zu/%zu (%.0f%%), %.1f/s, ETA %.0fs\n", label_.c_str(), done, total,
                 frac * 100, rate, eta);
  }
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && started_) std::fprintf(stderr, "\n");  // a bar was drawn
}

}  // namespace faceid::cli
