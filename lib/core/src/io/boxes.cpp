#include "faceid/io/boxes.hpp"

#include <tinyxml2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <tuple>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {

float iou(const Box& a, const Box& b) {
  const auto usable = [](const Box& r) {
    return std::isfinite(r.x) && std::isfinite(r.y) && std::isfinite(r.width) &&
           std::isfinite(r.height) && r.width > 0 && r.height > 0;
  };
  if (!usable(a) || !usable(b)) return 0.f;
  // In double: sums and areas of large float boxes neither overflow nor cancel to NaN.
  const double x0 = std::max<double>(a.x, b.x), y0 = std::max<double>(a.y, b.y);
  const double x1 = std::min(double(a.x) + a.width, double(b.x) + b.width);
  const double y1 = std::min(double(a.y) + a.height, double(b.y) + b.height);
  const double inter = std::max(0.0, x1 - x0) * std::max(0.0, y1 - y0);
  const double uni = double(a.width) * a.height + double(b.width) * b.height - inter;
  return uni > 0 ? static_cast<float>(std::clamp(inter / uni, 0.0, 1.0)) : 0.f;
}

namespace {

// Where an element is, for messages: "file.xml:12: ".
std::string at(const fs::path& xml, const tinyxml2::XMLElement& e) {
  return xml.string() + ":" + std::to_string(e.GetLineNum()) + ": ";
}

// An attribute's value as messages quote it: on one line, and short.
std::string printable(const std::string& value) {
  constexpr std::size_t kMax = 40;
  std::string out = value.substr(0, kMax);
  for (char& c : out)
    if (std::iscntrl(static_cast<unsigned char>(c))) c = ' ';
  return value.size() > kMax ? out + "..." : out;
}

// A box coordinate: the whole attribute must be a finite number (tinyxml2's own
// QueryFloatAttribute would take "10px" as 10).
float box_number(const fs::path& xml, const tinyxml2::XMLElement& box, const char* key) {
  const char* text = box.Attribute(key);
  if (!text)
    throw input_error(at(xml, box) + "box needs top, left, width and height (no " + key + ")");
  const std::string value = text;
  std::size_t used = 0;
  float v = 0;
  bool parsed = true;
  try {
    v = std::stof(value, &used);  // skips leading blanks
  } catch (const std::exception&) {
    parsed = false;
  }
  while (used < value.size() && std::isspace(static_cast<unsigned char>(value[used]))) ++used;
  if (!parsed || used != value.size() || !std::isfinite(v))
    throw input_error(at(xml, box) + "box " + key + "='" + printable(value) + "' is not a number");
  if (std::abs(v) > kMaxBoxCoordinate)
    throw input_error(at(xml, box) + "box " + key + "='" + printable(value) + "' is beyond " +
                      std::to_string(static_cast<long>(kMaxBoxCoordinate)) + " pixels");
  return v;
}

// tinyxml2's error, in words for the one-line message.
std::string xml_problem(const tinyxml2::XMLDocument& doc) {
  switch (doc.ErrorID()) {
    case tinyxml2::XML_ERROR_MISMATCHED_ELEMENT:
      return "an element is not closed, or closed by another tag";
    case tinyxml2::XML_ERROR_PARSING_ATTRIBUTE:
      return "a malformed, unquoted or repeated attribute";
    case tinyxml2::XML_ERROR_PARSING_ELEMENT:
      return "a malformed element";
    case tinyxml2::XML_ERROR_PARSING_TEXT:
      return "malformed text";
    case tinyxml2::XML_ERROR_PARSING_COMMENT:
      return "an unclosed comment";
    default:
      return doc.ErrorName();
  }
}

Box read_box(const fs::path& xml, const tinyxml2::XMLElement& e) {
  Box box;
  box.y = box_number(xml, e, "top");
  box.x = box_number(xml, e, "left");
  box.width = box_number(xml, e, "width");
  box.height = box_number(xml, e, "height");
  if (box.width <= 0 || box.height <= 0)
    throw input_error(at(xml, e) + "box width and height must be positive (" +
                      printable(e.Attribute("width")) + "x" + printable(e.Attribute("height")) +
                      ")");
  if (const char* ignore = e.Attribute("ignore")) {
    const std::string v = ignore;
    if (v != "0" && v != "1" && v != "false" && v != "true")
      throw input_error(at(xml, e) + "box ignore='" + printable(v) + "' is not 0 or 1");
    box.ignore = v == "1" || v == "true";
  }
  return box;
}

}  // namespace

std::vector<LabeledImage> read_imglab(const fs::path& xml) {
  std::ifstream in(xml, std::ios::binary);
  if (!in) throw input_error(xml.string() + ": cannot open box file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw input_error(xml.string() + ": cannot read box file");

  tinyxml2::XMLDocument doc;
  if (doc.Parse(bytes.data(), bytes.size()) != tinyxml2::XML_SUCCESS) {
    if (doc.ErrorID() == tinyxml2::XML_ERROR_EMPTY_DOCUMENT)
      throw input_error(xml.string() + ": empty file (not a dlib imglab file)");
    throw input_error(xml.string() + ":" + std::to_string(doc.ErrorLineNum()) +
                      ": malformed XML (" + xml_problem(doc) + ")");
  }
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (!root) throw input_error(xml.string() + ": no XML element (not a dlib imglab file)");
  if (std::strcmp(root->Name(), "dataset") != 0)
    throw input_error(at(xml, *root) + "root element <" + root->Name() +
                      "> is not <dataset> (not a dlib imglab file)");

  // dataset > images > image > box; any other element (name, comment, a box's part) is left alone.
  std::vector<LabeledImage> images;
  for (auto* list = root->FirstChildElement(); list; list = list->NextSiblingElement()) {
    if (std::strcmp(list->Name(), "box") == 0)
      throw input_error(at(xml, *list) + "<box> outside an <image>");
    if (std::strcmp(list->Name(), "images") != 0) continue;
    for (auto* image = list->FirstChildElement(); image; image = image->NextSiblingElement()) {
      if (std::strcmp(image->Name(), "box") == 0)
        throw input_error(at(xml, *image) + "<box> outside an <image>");
      if (std::strcmp(image->Name(), "image") != 0) continue;
      const char* file = image->Attribute("file");
      if (!file || !*file) throw input_error(at(xml, *image) + "<image> without a file attribute");
      LabeledImage labeled{xml.parent_path() / file, {}};
      for (auto* box = image->FirstChildElement("box"); box; box = box->NextSiblingElement("box"))
        labeled.boxes.push_back(read_box(xml, *box));
      images.push_back(std::move(labeled));
    }
  }
  if (images.empty())
    throw input_error(xml.string() + ": no <image> entries (not a dlib imglab file?)");
  return images;
}

BoxMatch match_boxes(const std::vector<Box>& truth, const std::vector<Box>& detected,
                     float min_iou) {
  std::vector<std::tuple<float, std::size_t, std::size_t>> candidates;
  for (std::size_t t = 0; t < truth.size(); ++t)
    for (std::size_t d = 0; d < detected.size(); ++d)
      if (const float v = iou(truth[t], detected[d]); v >= min_iou)
        candidates.emplace_back(v, t, d);
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
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
