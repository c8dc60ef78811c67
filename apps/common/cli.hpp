#pragma once
// Glue shared by the faceid tools: the shared flags, logging set-up, the exception-to-exit-code
// boundary, and progress display. Each tool is `return run_main(argc, argv, tool)`.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

namespace faceid::cli {

/// The flags every tool has (STYLE.md): --device --threads --seed --json -v/-q --version.
struct CommonOptions {
  std::string device = "auto";
  int threads = 0;  ///< 0 = all cores
  std::uint64_t seed = 42;
  bool json = false;
  int verbose = 0;
  bool quiet = false;
};

/// What a tool provides: its name and description, how to declare its flags, what to run.
struct Tool {
  std::string name;
  std::string description;
  std::function<void(CLI::App&, CommonOptions&)> setup;
  std::function<int(const CommonOptions&)> run;  ///< returns the exit code; may throw faceid::Error
};

/// Parses flags (usage errors -> exit 2, --help/--version -> 0), configures logging and threads,
/// runs the tool and maps exceptions to one `error: ...` line on stderr and docs/design.md §9's
/// codes.
int run_main(int argc, char** argv, const Tool& tool);

/// Says on stderr that `old_spelling` is deprecated and what to use instead (one line).
void warn_deprecated(const std::string& old_spelling, const std::string& now);

/// A flag's old spelling, kept for one release: bound to the same `value`, hidden from --help, and
/// a deprecation line on stderr when it is used.
template <typename T>
CLI::Option* add_old_spelling(CLI::App& app, const std::string& old_name, const std::string& now,
                              T& value) {
  return app.add_option(old_name, value)->group("")->each([old_name, now](const std::string&) {
    warn_deprecated(old_name, now);
  });
}

/// The number of threads `requested` means (0 = the machine's cores, shared out among the local
/// ranks of a data-parallel run: LOCAL_WORLD_SIZE).
int resolve_threads(int requested);

/// Prints `j` to stdout, indented.
void print_json(const nlohmann::json& j);

/// A progress bar with rate and ETA on a terminal (stderr); on a pipe, a plain line every 10%.
class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  void update(std::size_t done, std::size_t total);
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool tty_;
  int last_decile_ = -1;
  bool started_ = false;
  std::size_t first_done_ = 0;  ///< rate and ETA count from the first update
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace faceid::cli
