#pragma once
// The detection report (docs/design.md §7), shared by facedetect --boxes and faceeval detect: each
// detector's boxes against hand-drawn ones (dlib imglab XML): hits, misses, false boxes, recall
// and precision at IoU >= min_iou, time per image.

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "preprocess_options.hpp"

namespace faceid::cli {

/// One row per detector: o.preprocess.detector, or for "all" every detector available here.
nlohmann::json detection_report(const std::string& boxes_file, const PipelineOptions& o,
                                float min_iou);

/// The report as a table on stdout.
void print_detection_report(const nlohmann::json& report);

}  // namespace faceid::cli
