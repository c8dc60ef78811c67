#include "faceid/config.hpp"

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;

TEST(Config, Fnv1aIsComputedByteByByteFromFaceidsOffsetBasis) {
  // FNV-1a: h = basis; for each byte: h ^= byte, h *= prime (mod 2^64). faceid's basis lacks a
  // digit of the published one (14695981039346656037); kept, as every checksum depends on it.
  constexpr std::uint64_t basis = 1469598103934665603ull, prime = 1099511628211ull;
  const auto hex = [](std::uint64_t h) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return std::string(buf);
  };
  EXPECT_EQ(fnv1a_hex(""), hex(basis));
  EXPECT_EQ(fnv1a_hex("a"), hex((basis ^ 'a') * prime));
  EXPECT_EQ(fnv1a_hex("ab"), hex((((basis ^ 'a') * prime) ^ 'b') * prime));
  EXPECT_EQ(fnv1a_hex("\xff"), hex((basis ^ 0xffu) * prime));  // bytes are unsigned
  EXPECT_NE(fnv1a_hex("ab"), fnv1a_hex("ba"));
}

TEST(Config, PreprocessingRoundTripsThroughJson) {
  PreprocessConfig c;
  c.chip_size = 64;
  c.detector = "haar";
  c.score_threshold = 0.55f;
  c.max_detect_side = 800;
  c.min_face_size = 12;
  c.border_pad = 0.1f;
  c.padding = 0.3f;
  const nlohmann::json j = c;
  const auto back = j.get<PreprocessConfig>();
  EXPECT_EQ(back.chip_size, 64);
  EXPECT_EQ(back.detector, "haar");
  EXPECT_FLOAT_EQ(back.score_threshold, 0.55f);
  EXPECT_EQ(back.max_detect_side, 800);
  EXPECT_EQ(back.min_face_size, 12);
  EXPECT_FLOAT_EQ(back.border_pad, 0.1f);
  EXPECT_FLOAT_EQ(back.padding, 0.3f);
  EXPECT_EQ(back.fingerprint(), c.fingerprint());
}

TEST(Config, EverySettingThatChangesTheChipsChangesTheFingerprint) {
  const PreprocessConfig base;
  std::vector<PreprocessConfig> changed(8, base);
  changed[0].chip_size = 96;
  changed[1].detector = "yunet";
  changed[2].score_threshold = 0.6f;
  changed[3].max_detect_side = 320;
  changed[4].min_face_size = 30;
  changed[5].border_pad = 0;
  changed[6].padding = 0.2f;
  changed[7].alignment = "dlib";
  std::set<std::string> prints{base.fingerprint()};
  for (const auto& c : changed) prints.insert(c.fingerprint());
  EXPECT_EQ(prints.size(), changed.size() + 1);
  EXPECT_EQ(base.fingerprint(), PreprocessConfig{}.fingerprint());
  EXPECT_EQ(base.fingerprint().size(), 16u);
}

TEST(Config, TheArcFaceTemplateKeepsTheFingerprintItHadBeforeTemplatesWereNamed) {
  // Face caches are keyed by the fingerprint: chips of the ArcFace template made before the
  // template was a setting must still be found.
  const PreprocessConfig c;
  nlohmann::json legacy = c;
  legacy["alignment"] = "5-point similarity to the ArcFace template";
  legacy.erase("template");
  EXPECT_EQ(c.fingerprint(), fnv1a_hex("preprocess-v1" + legacy.dump()));
}

TEST(Config, TheAlignmentTemplateIsStoredAndCheckedOnLoad) {
  PreprocessConfig c;
  c.alignment = "dlib";
  nlohmann::json j = c;
  EXPECT_EQ(j.at("alignment"), "dlib");
  ASSERT_EQ(j.at("template").size(), 5u);
  // dlib's chips put the eyes high: y = 0.216 of the face square, vs ArcFace's 0.46.
  EXPECT_NEAR(j.at("template")[0][1].get<float>(), 0.216f, 1e-3f);
  EXPECT_NEAR(alignment_template("arcface")[0][1], 51.6963f / 112, 1e-6f);
  EXPECT_EQ(j.get<PreprocessConfig>().alignment, "dlib");

  nlohmann::json moved = j;
  moved["template"][0][1] = 0.3f;
  faceid::test::expect_error([&] { (void)moved.get<PreprocessConfig>(); }, ErrorKind::Model,
                             "differs");
  nlohmann::json unknown = j;
  unknown["alignment"] = "mtcnn";
  faceid::test::expect_error([&] { (void)unknown.get<PreprocessConfig>(); }, ErrorKind::Model,
                             "unknown alignment");
  nlohmann::json old = PreprocessConfig{};
  old["alignment"] = "5-point similarity to the ArcFace template";
  old.erase("template");
  EXPECT_EQ(old.get<PreprocessConfig>().alignment, "arcface");
  EXPECT_THROW(alignment_template("mtcnn"), Error);
}

TEST(Config, OldBundlesGetTheDefaultBorderPadAndBadSettingsAreModelErrors) {
  nlohmann::json j = PreprocessConfig{};
  j.erase("border_pad");
  EXPECT_FLOAT_EQ(j.get<PreprocessConfig>().border_pad, PreprocessConfig{}.border_pad);
  const auto bad = [](nlohmann::json k, const std::string& needle) {
    expect_error([&] { k.get<PreprocessConfig>(); }, ErrorKind::Model, needle);
  };
  nlohmann::json missing = PreprocessConfig{};
  missing.erase("detector");
  bad(missing, "preprocessing settings");
  nlohmann::json typed = PreprocessConfig{};
  typed["chip_size"] = "big";
  bad(typed, "chip_size \"big\" is not an integer");
  for (int side : {15, 513, -1}) {
    nlohmann::json k = PreprocessConfig{};
    k["chip_size"] = side;
    bad(k, "chip_size " + std::to_string(side) + " outside [16, 512]");
  }
  for (float pad : {-0.1f, 1.5f}) {
    nlohmann::json k = PreprocessConfig{};
    k["border_pad"] = pad;
    bad(k, "border_pad");
  }
}

TEST(Config, AugmentationReadsWhatIsGivenAndDefaultsTheRest) {
  AugmentConfig c;
  c.enabled = false;
  c.max_rotation_deg = 3;
  c.erase_prob = 0.25f;
  const auto back = nlohmann::json(c).get<AugmentConfig>();
  EXPECT_FALSE(back.enabled);
  EXPECT_FLOAT_EQ(back.max_rotation_deg, 3);
  EXPECT_FLOAT_EQ(back.erase_prob, 0.25f);
  const auto partial = nlohmann::json{{"flip_prob", 0.0}}.get<AugmentConfig>();
  EXPECT_FLOAT_EQ(partial.flip_prob, 0);
  EXPECT_FLOAT_EQ(partial.brightness, AugmentConfig{}.brightness);
  EXPECT_TRUE(partial.enabled);
}
