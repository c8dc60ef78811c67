#pragma once
// Hand-drawn face boxes (dlib imglab XML) and scoring detections against them (DESIGN.md §7,
// detection report). No OpenCV: boxes are plain rectangles in pixels.

#include <filesystem>
#include <string>
#include <vector>

namespace faceid {

struct Box {
  float x = 0, y = 0, width = 0, height = 0;
  bool ignore = false;  ///< imglab's ignore='1': neither a hit nor a miss
};

/// Intersection over union; 0 for empty boxes.
float iou(const Box& a, const Box& b);

struct LabeledImage {
  std::filesystem::path file;  ///< resolved against the XML file's folder
  std::vector<Box> boxes;
};

/// Reads `<image file='...'>` / `<box top left width height [ignore]/>` from a dlib imglab XML
/// file. Throws Error(Input) naming the file and line for an unreadable file, a box outside an
/// image, or a box attribute that is missing or not a number.
std::vector<LabeledImage> read_imglab(const std::filesystem::path& xml);

struct BoxMatch {
  int true_positives = 0;   ///< detections matched to a hand-drawn box
  int false_positives = 0;  ///< detections matching no box ("false boxes")
  int false_negatives = 0;  ///< hand-drawn boxes no detection matched (misses)
};

/// Greedy one-to-one matching, highest IoU first, at IoU >= min_iou. Detections that best match
/// an ignored box count as neither.
BoxMatch match_boxes(const std::vector<Box>& truth, const std::vector<Box>& detected, float min_iou = 0.5f);

}  // namespace faceid
