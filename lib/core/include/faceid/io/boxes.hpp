#pragma once
// Hand-drawn face boxes (dlib imglab XML) and scoring detections against them (docs/design.md §7,
// detection report). No OpenCV: boxes are plain rectangles in pixels.

#include <filesystem>
#include <string>
#include <vector>

namespace faceid {

struct Box {
  float x = 0, y = 0, width = 0, height = 0;
  bool ignore = false;  ///< imglab's ignore='1': neither a hit nor a miss
};

/// Intersection over union, in [0, 1]; 0 for empty boxes and boxes with a non-finite value.
float iou(const Box& a, const Box& b);

/// The largest |coordinate| or side (pixels) read_imglab accepts: far beyond any picture.
constexpr float kMaxBoxCoordinate = 1e6f;

struct LabeledImage {
  std::filesystem::path file;  ///< resolved against the XML file's folder
  std::vector<Box> boxes;
};

/// Reads a dlib imglab XML file: `<dataset><images><image file='...'><box top left width height
/// [ignore]/>`, in any attribute order, quoting and line layout, entities decoded (`&amp;`);
/// other elements (`<name>`, a box's `<part>` landmarks) are skipped. `top`/`left` may be negative
/// (a face cut by the picture's edge); `width`/`height` must be positive; `ignore` is
/// 0/1/false/true. Throws Error(Input), one line naming the file and, where known, the line, for:
/// an unreadable or empty file, malformed XML, a root other than `<dataset>`, no `<image>` at all,
/// an `<image>` without `file`, a `<box>` outside an `<image>`, or a box attribute that is missing,
/// not a finite number or beyond kMaxBoxCoordinate.
std::vector<LabeledImage> read_imglab(const std::filesystem::path& xml);

struct BoxMatch {
  int true_positives = 0;   ///< detections matched to a hand-drawn box
  int false_positives = 0;  ///< detections matching no box ("false boxes")
  int false_negatives = 0;  ///< hand-drawn boxes no detection matched (misses)
};

/// Greedy one-to-one matching, highest IoU first, at IoU >= min_iou. Detections that best match
/// an ignored box count as neither.
BoxMatch match_boxes(const std::vector<Box>& truth, const std::vector<Box>& detected,
                     float min_iou = 0.5f);

}  // namespace faceid
