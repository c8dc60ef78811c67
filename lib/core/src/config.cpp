#include "faceid/config.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "detail/json_integer.hpp"
#include "faceid/error.hpp"

namespace faceid {

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string PreprocessConfig::fingerprint() const {
  nlohmann::json j = *this;
  return fnv1a_hex("preprocess-v1" + j.dump());
}

void to_json(nlohmann::json& j, const PreprocessConfig& c) {
  j = {{"chip_size", c.chip_size},
       {"detector", c.detector},
       {"score_threshold", c.score_threshold},
       {"max_detect_side", c.max_detect_side},
       {"min_face_size", c.min_face_size},
       {"padding", c.padding},
       {"border_pad", c.border_pad},
       {"alignment", "5-point similarity to the ArcFace template"},
       {"normalisation", "RGB, x/255"}};
}

void from_json(const nlohmann::json& j, PreprocessConfig& c) {
  try {
    c.chip_size = detail::json_integer<int>(j, "chip_size");
    j.at("detector").get_to(c.detector);
    j.at("score_threshold").get_to(c.score_threshold);
    c.max_detect_side = detail::json_integer<int>(j, "max_detect_side");
    c.min_face_size = detail::json_integer<int>(j, "min_face_size");
    j.at("padding").get_to(c.padding);
    // Bundles from before border padding: padding changes which faces are found, not how a
    // found face becomes a chip, so they get today's default.
    c.border_pad = j.value("border_pad", PreprocessConfig{}.border_pad);
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("preprocessing settings: ") + e.what());
  }
  if (c.border_pad < 0 || c.border_pad > 1)
    throw model_error("preprocessing settings: border_pad " + std::to_string(c.border_pad) +
                      " outside [0, 1]");
  if (c.chip_size < 16 || c.chip_size > 512)
    throw model_error("preprocessing settings: chip_size " + std::to_string(c.chip_size) +
                      " outside [16, 512]");
}

void to_json(nlohmann::json& j, const AugmentConfig& c) {
  j = {{"enabled", c.enabled},
       {"flip_prob", c.flip_prob},
       {"max_rotation_deg", c.max_rotation_deg},
       {"max_scale", c.max_scale},
       {"max_shift", c.max_shift},
       {"brightness", c.brightness},
       {"contrast", c.contrast},
       {"blur_prob", c.blur_prob},
       {"noise_std", c.noise_std},
       {"erase_prob", c.erase_prob},
       {"zoom_view", c.zoom_view},
       {"zoom_prob", c.zoom_prob}};
}

void from_json(const nlohmann::json& j, AugmentConfig& c) {
  AugmentConfig d;
  c.enabled = j.value("enabled", d.enabled);
  c.flip_prob = j.value("flip_prob", d.flip_prob);
  c.max_rotation_deg = j.value("max_rotation_deg", d.max_rotation_deg);
  c.max_scale = j.value("max_scale", d.max_scale);
  c.max_shift = j.value("max_shift", d.max_shift);
  c.brightness = j.value("brightness", d.brightness);
  c.contrast = j.value("contrast", d.contrast);
  c.blur_prob = j.value("blur_prob", d.blur_prob);
  c.noise_std = j.value("noise_std", d.noise_std);
  c.erase_prob = j.value("erase_prob", d.erase_prob);
  c.zoom_view = j.value("zoom_view", d.zoom_view);
  c.zoom_prob = j.value("zoom_prob", d.zoom_prob);
}

}  // namespace faceid
