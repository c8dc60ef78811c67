#include "faceid/boxes.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <tuple>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {

float iou(const Box& a, const Box& b) {
  const float x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
  const float inter = std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0);
  const float uni = a.width * a.height + b.width * b.height - inter;
  return uni > 0 ? inter / uni : 0.f;
}

std::vector<LabeledImage> read_imglab(const fs::path& xml) {
  std::ifstream in(xml);
  if (!in) throw input_error(xml.string() + ": cannot open box file");
  static const std::regex image_re(R"(<image\s[^>]*file\s*=\s*['"]([^'"]+)['"])");
  static const std::regex box_re(R"(<box\s([^>]*)/?>)");
  static const std::regex attr_re(R"((\w+)\s*=\s*['"]([^'"]*)['"])");
  std::vector<LabeledImage> images;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::smatch m;
    if (std::regex_search(line, m, image_re)) images.push_back({xml.parent_path() / m[1].str(), {}});
    if (!std::regex_search(line, m, box_re)) continue;
    const auto where = xml.string() + ":" + std::to_string(number) + ": ";
    if (images.empty()) throw input_error(where + "<box> outside an <image>");
    std::string attrs = m[1].str();
    Box box;
    int seen = 0;
    for (std::sregex_iterator it(attrs.begin(), attrs.end(), attr_re), end; it != end; ++it) {
      const std::string key = (*it)[1], value = (*it)[2];
      float* field = key == "top" ? &box.y : key == "left" ? &box.x : key == "width" ? &box.width
                   : key == "height" ? &box.height : nullptr;
      if (key == "ignore") box.ignore = value == "1" || value == "true";
      if (!field) continue;
      try {
        std::size_t used = 0;
        *field = std::stof(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } catch (const std::exception&) {
        throw input_error(where + "box " + key + "='" + value + "' is not a number");
      }
      ++seen;
    }
    if (seen != 4) throw input_error(where + "box needs top, left, width and height");
    images.back().boxes.push_back(box);
  }
  if (images.empty()) throw input_error(xml.string() + ": no <image> entries (not a dlib imglab file?)");
  return images;
}

BoxMatch match_boxes(const std::vector<Box>& truth, const std::vector<Box>& detected, float min_iou) {
  std::vector<std::tuple<float, std::size_t, std::size_t>> candidates;
  for (std::size_t t = 0; t < truth.size(); ++t)
    for (std::size_t d = 0; d < detected.size(); ++d)
      if (const float v = iou(truth[t], detected[d]); v >= min_iou) candidates.emplace_back(v, t, d);
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<bool> truth_used(truth.size()), det_used(detected.size());
  BoxMatch result;
  for (const auto& [v, t, d] : candidates) {
    if (truth_used[t] || det_used[d]) continue;
    truth_used[t] = det_used[d] = true;
    if (!truth[t].ignore) ++result.true_positives;
  }
  for (std::size_t d = 0; d < detected.size(); ++d)
    if (!det_used[d]) ++result.false_positives;
  for (std::size_t t = 0; t < truth.size(); ++t)
    if (!truth_used[t] && !truth[t].ignore) ++result.false_negatives;
  return result;
}

}  // namespace faceid
