#pragma once
// faceverify's jobs: what to look at and where its annotated copy goes (plan), and their running —
// a picture (detect, verify, draw, write) or a video (every Nth frame verified, every frame
// written with the latest boxes, the written file read back).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "../common/verdicts.hpp"
#include "faceid/verifier.hpp"

namespace faceid::faceverify {

struct Options {
  std::vector<std::string> inputs;
  std::string output, model = "models/me", refs = "verification_data";
  std::optional<float> threshold, ratio;
  bool csv = false;
  int every = 1;
  cli::PipelineOptions pipeline;
  cli::UnsureOptions unsure;
  CLI::Option* refs_option = nullptr;
};

/// One thing to look at, and where its annotated copy goes (empty: nowhere).
struct Job {
  std::filesystem::path input, output;
  bool video = false;
};

/// Inputs -> jobs. One file with -o naming a file writes there; otherwise -o is a folder that
/// receives each annotated file under its own name (folders in, folders out). Throws
/// Error(Input) when there is nothing to look at, Error(Usage) for a picture written as a video
/// or the reverse.
std::vector<Job> plan(const Options& o);

class JobRunner {
 public:
  JobRunner(const Options& o, const cli::CommonOptions& common, Verifier& verifier)
      : o_(o), common_(common), verifier_(verifier) {}
  /// Verifies a picture; fills its JSON `entry`, prints its line; whether the owner was seen.
  bool image(const Job& job, nlohmann::json& entry);
  /// Verifies a video's every --every-th frame; whether the owner was seen in any.
  bool video(const Job& job, nlohmann::json& entry);
  std::size_t faces() const { return faces_; }

 private:
  const Options& o_;
  const cli::CommonOptions& common_;
  Verifier& verifier_;
  std::size_t faces_ = 0;
};

}  // namespace faceid::faceverify
