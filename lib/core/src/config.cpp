#include "faceid/config.hpp"

#include <cmath>
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

std::array<std::array<float, 2>, 5> alignment_template(const std::string& name) {
  if (name == "arcface")
    return {{{38.2946f / 112, 51.6963f / 112},
             {73.5318f / 112, 51.5014f / 112},
             {56.0252f / 112, 71.7366f / 112},
             {41.5493f / 112, 92.3655f / 112},
             {70.7299f / 112, 92.2041f / 112}}};
  if (name == "dlib")
    return {{{0.225492f, 0.215990f},
             {0.754761f, 0.215990f},
             {0.490127f, 0.515625f},
             {0.254149f, 0.780233f},
             {0.726104f, 0.780233f}}};
  throw usage_error("unknown alignment template '" + name + "' (expected arcface or dlib)");
}

std::string PreprocessConfig::fingerprint() const {
  nlohmann::json j = *this;
  // The ArcFace template's chips keep the key they had before templates were named, so that
  // existing face caches stay valid.
  if (alignment == "arcface") {
    j["alignment"] = "5-point similarity to the ArcFace template";
    j.erase("template");
  }
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
       {"alignment", c.alignment},
       {"template", alignment_template(c.alignment)},
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
    // Bundles from before named templates say "5-point similarity to the ArcFace template".
    const std::string alignment = j.value("alignment", std::string("arcface"));
    c.alignment = alignment.rfind("5-point", 0) == 0 ? "arcface" : alignment;
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("preprocessing settings: ") + e.what());
  }
  if (c.border_pad < 0 || c.border_pad > 1)
    throw model_error("preprocessing settings: border_pad " + std::to_string(c.border_pad) +
                      " outside [0, 1]");
  bool known = false;
  for (const char* a : kAlignments) known = known || c.alignment == a;
  if (!known) throw model_error("preprocessing settings: unknown alignment '" + c.alignment + "'");
  // The geometry is stored too: a bundle made with other points for the same name is refused
  // rather than fed chips of a geometry it was not trained on.
  if (j.contains("template")) {
    const auto expected = alignment_template(c.alignment);
    try {
      const auto stored = j.at("template").get<std::array<std::array<float, 2>, 5>>();
      for (int k = 0; k < 5; ++k)
        for (int d = 0; d < 2; ++d)
          if (std::abs(stored[k][d] - expected[k][d]) > 1e-4f)
            throw model_error("preprocessing settings: the '" + c.alignment +
                              "' template stored in the bundle differs from this faceid's");
    } catch (const nlohmann::json::exception& e) {
      throw model_error(std::string("preprocessing settings: template: ") + e.what());
    }
  }
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
