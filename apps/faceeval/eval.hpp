#pragma once
// faceeval's reports (docs/design.md §7), one file each; main.cpp declares the flags and picks one.
//   pairs_eval.cpp   LFW pair protocols for a faceid model, the LBP baseline or a scores file
//   owner_eval.cpp   owner vs strangers with faceverify's decision (an owner model side by side
//                    with the reference rule)
//   detection reports are shared with facedetect (apps/common/detection_report.hpp)

#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"

namespace faceid::eval {

struct Options {
  // Pairs report.
  std::string model, scorer, lfw, pairs, threshold_pairs, scores, write_scores;
  bool allow_overlap = false;
  // Owner report.
  std::string owner, strangers, strangers_pairs, refs = "verification_data";
  bool refs_given = false;  ///< --refs was given (an owner model then also gets the reference rule)
  std::string baseline;     ///< siamese model for the reference rule beside an owner model
  std::vector<std::string>
      impostors;  ///< folders of loose photos of other people, added to the strangers
  int max_strangers = 1000;
  double target_far = 1e-3;
  // Detection report.
  std::string boxes;
  float min_iou = 0.5f;
  // All.
  std::string out;
  cli::PipelineOptions pipeline;
};

int pairs_main(const Options& o, const cli::CommonOptions& common);
int owner_main(const Options& o, const cli::CommonOptions& common);

}  // namespace faceid::eval
