#include "faceid/verifier.hpp"

#include <torch/torch.h>

#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/score/decision.hpp"
#include "fixture_model.hpp"
#include "test_images.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;

namespace fs = std::filesystem;

using faceid::test::copy_owner_photos;
using faceid::test::write_fixture_model;

TEST(Verifier, OwnerPhotoIsTheOwnerAndAStrangerIsNot) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(stranger, "lfw/George_W_Bush/George_W_Bush_0001.jpg");
  TempDir dir;
  write_fixture_model(dir / "model");
  const auto refs = copy_owner_photos(owner, dir / "refs", 3);
  Verifier verifier(dir / "model", "cpu");
  const ReferenceReport report = verifier.load_references(dir / "refs", dir / "cache", 1);
  ASSERT_EQ(report.used, 3u);
  ASSERT_EQ(verifier.reference_count(), 3u);

  // The first reference photo itself: identical embedding for reference 0 only.
  const auto mine = verifier.verify(read_image(refs[0]));
  ASSERT_EQ(mine.size(), 1u);
  ASSERT_EQ(mine[0].scores.size(), 3u);
  EXPECT_NEAR(mine[0].scores[0], 0.982f, 0.01f);
  EXPECT_LT(mine[0].scores[1], 0.5f);
  EXPECT_LT(mine[0].scores[2], 0.5f);
  EXPECT_FLOAT_EQ(mine[0].share, 1.0f / 3.0f);
  EXPECT_TRUE(mine[0].owner);  // 1/3 > ratio 0.2
  EXPECT_GT(mine[0].face.box.area(), 0.f);

  const auto other = verifier.verify(read_image(stranger));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_FLOAT_EQ(other[0].share, 0.f);
  EXPECT_FALSE(other[0].owner);

  // Overridden thresholds change the decision, not the scores.
  verifier.thresholds().ratio = 0.5f;
  const auto strict = verifier.verify(read_image(refs[0]));
  EXPECT_FALSE(strict[0].owner);
  EXPECT_EQ(strict[0].scores, mine[0].scores);

  // No face: no verdicts.
  test::write_landscape(dir / "landscape.png");
  EXPECT_TRUE(verifier.verify(read_image(dir / "landscape.png")).empty());
}

TEST(Verifier, EachSubFolderOfTheReferencesIsACaptureSessionAndTheBestSessionDecides) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  TempDir dir;
  write_fixture_model(dir / "model");
  // Four photos at the top (one session) and two in "day2": the fixture matches a photo only
  // with itself, so a day-2 photo matches 1 of the 2 references of its session (share 0.5) and
  // 1 of all 6 (0.17).
  const auto photos = copy_owner_photos(owner, dir / "spare", 6);
  fs::create_directories(dir / "refs" / "day2");
  for (int i = 0; i < 4; ++i) fs::copy_file(photos[i], dir / "refs" / photos[i].filename());
  for (int i = 4; i < 6; ++i)
    fs::copy_file(photos[i], dir / "refs" / "day2" / photos[i].filename());
  fs::create_directories(dir / "refs" / ".hidden");
  fs::copy_file(photos[0],
                dir / "refs" / ".hidden" / "copy.jpg");  // hidden folders are not references
  Verifier verifier(dir / "model", "cpu");
  verifier.thresholds().ratio = 0.3f;
  const ReferenceReport report = verifier.load_references(dir / "refs", dir / "cache", 1);
  EXPECT_EQ(report.used, 6u);
  EXPECT_EQ(report.sessions, 2u);

  const auto day2 = verifier.verify(read_image(photos[4]));
  ASSERT_EQ(day2.size(), 1u);
  EXPECT_FLOAT_EQ(day2[0].share, 0.5f);
  EXPECT_TRUE(day2[0].owner);  // 0.5 > 0.3; pooled over all six it would be 1/6 < 0.3
  const auto day1 = verifier.verify(read_image(photos[0]));
  EXPECT_FLOAT_EQ(day1[0].share, 0.25f);
  EXPECT_FALSE(day1[0].owner);  // 1 of the 4 of its session
}

TEST(Verifier, TheDetectionThresholdIsFittedToTheReferencesOnTheBundlesStrangers) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  TempDir dir;
  // A head that says P(same) = 0.5 for every pair, a bundle threshold of 0.3 and 40 stranger
  // embeddings: every stranger matches every reference at 0.3, so for FAR 0.001 the threshold
  // must rise to 0.5, for one session of references as for two; the bundle keeps the strangers.
  BundleInfo info;
  info.preprocess = FacePipeline(PreprocessConfig{}).config();
  info.model.name = "koch-small";
  info.model.embedding_size = 32;
  info.model.input_size = info.preprocess.chip_size;
  info.thresholds.detection = 0.3f;
  info.thresholds.ratio = 0.5f;
  torch::manual_seed(3);
  SiameseNet net(info.model);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters())
      if (p.key() == "classifier.weight" || p.key() == "classifier.bias") p.value().zero_();
  }
  const auto strangers = torch::randn({40, 32});
  save_bundle(dir / "model", info, net, nullptr, strangers);
  EXPECT_TRUE(torch::allclose(load_bundle(dir / "model").strangers, strangers));

  const auto photos = copy_owner_photos(owner, dir / "spare", 4);
  fs::create_directories(dir / "one");
  fs::create_directories(dir / "two" / "day2");
  for (int i = 0; i < 4; ++i) fs::copy_file(photos[i], dir / "one" / photos[i].filename());
  for (int i = 0; i < 4; ++i)
    fs::copy_file(photos[i], (i < 2 ? dir / "two" : dir / "two" / "day2") / photos[i].filename());
  {
    Verifier one_session(dir / "model", "cpu");
    const auto report = one_session.load_references(dir / "one", dir / "cache", 1);
    EXPECT_EQ(report.sessions, 1u);
    EXPECT_NEAR(report.recalibrated_detection, 0.5f, 1e-4);
    EXPECT_NEAR(one_session.thresholds().detection, 0.5f, 1e-4);
  }
  {
    Verifier two_sessions(dir / "model", "cpu");
    const auto report = two_sessions.load_references(dir / "two", dir / "cache", 1);
    EXPECT_EQ(report.sessions, 2u);
    EXPECT_NEAR(two_sessions.thresholds().detection, 0.5f, 1e-4);
    EXPECT_NEAR(report.recalibrated_detection, 0.5f, 1e-4);
  }
  {
    // A bundle stricter than these references need: the fitted threshold is lower (0.5, the
    // strangers' score, is the lowest that accepts none of them).
    info.thresholds.detection = 0.9f;
    save_bundle(dir / "strict", info, net, nullptr, strangers);
    Verifier strict(dir / "strict", "cpu");
    strict.load_references(dir / "one", dir / "cache", 1);
    EXPECT_NEAR(strict.thresholds().detection, 0.5f, 1e-4);
  }
  {
    Verifier chosen(dir / "model", "cpu");
    chosen.thresholds().detection = 0.31f;  // --threshold: kept
    chosen.load_references(dir / "two", dir / "cache", 1);
    EXPECT_FLOAT_EQ(chosen.thresholds().detection, 0.31f);
  }
}

TEST(Verifier, ReferenceEmbeddingsAreCachedAndOnlyChangedPhotosRecomputed) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  TempDir dir;
  write_fixture_model(dir / "model");
  const auto spare = copy_owner_photos(owner, dir / "spare", 5);
  const auto refs = copy_owner_photos(owner, dir / "refs", 3);
  auto load = [&](const fs::path& model = {}) {
    Verifier verifier(model.empty() ? dir / "model" : model, "cpu");
    return verifier.load_references(dir / "refs", dir / "cache", 1);
  };
  EXPECT_EQ(load().embedded, 3u);
  EXPECT_EQ(load().embedded, 0u);

  fs::copy_file(spare[4], refs[1], fs::copy_options::overwrite_existing);  // a changed photo
  auto r = load();
  EXPECT_EQ(r.used, 3u);
  EXPECT_EQ(r.embedded, 1u);

  fs::remove(refs[2]);  // a removed photo
  r = load();
  EXPECT_EQ(r.used, 2u);
  EXPECT_EQ(r.embedded, 0u);

  fs::copy_file(spare[3], dir / "refs" / "added.jpg");  // an added photo
  EXPECT_EQ(load().embedded, 1u);

  write_fixture_model(dir / "other_model", 2);  // another model: everything anew
  EXPECT_EQ(load(dir / "other_model").embedded, 3u);
}

TEST(Verifier, MissingEmptyOrFacelessReferenceFoldersAreInputErrors) {
  TempDir dir;
  write_fixture_model(dir / "model");
  Verifier verifier(dir / "model", "cpu");
  expect_error([&] { verifier.load_references(dir / "absent", dir / "cache", 1); },
               ErrorKind::Input, "references folder not found");
  fs::create_directories(dir / "empty");
  expect_error([&] { verifier.load_references(dir / "empty", dir / "cache", 1); }, ErrorKind::Input,
               "no reference photos");
  fs::create_directories(dir / "faceless");
  test::write_landscape(dir / "faceless" / "landscape.png");
  test::write_file(dir / "faceless" / "broken.jpg", "not a JPEG");
  expect_error([&] { verifier.load_references(dir / "faceless", dir / "cache", 1); },
               ErrorKind::Input, "no face found in any of its 2 photo(s)");
  EXPECT_EQ(verifier.reference_count(), 0u);
}

TEST(Verifier, CorruptModelIsAModelError) {
  TempDir dir;
  write_fixture_model(dir / "model");
  for (const auto& f : fs::directory_iterator(dir / "model"))
    if (f.path().extension() == ".pt") fs::resize_file(f.path(), 100);
  expect_error([&] { Verifier verifier(dir / "model", "cpu"); }, ErrorKind::Model, "weights");
}

TEST(Decision, UnsureReasonNamesTheSmallOrBlurredFaceAndZeroTurnsAChecksOff) {
  Thresholds t;
  t.min_face = 64;
  t.min_sharpness = 30;
  EXPECT_EQ(unsure_reason(47, 61, 500, t), "47x61 px face < 64 px");
  EXPECT_EQ(unsure_reason(80, 90, 12.34f, t), "blur: sharpness 12.3 < 30");
  EXPECT_EQ(unsure_reason(80, 90, 31, t), "");
  EXPECT_EQ(unsure_reason(80, 90, -1, t), "");  // sharpness unknown: not checked
  EXPECT_EQ(unsure_reason(0, 0, 100, t), "");   // size unknown (cached chips): not checked
  t.min_face = 0;
  EXPECT_EQ(unsure_reason(47, 61, 500, t), "");
  t.min_sharpness = 0;
  EXPECT_EQ(unsure_reason(80, 90, 1, t), "");
}

TEST(Verifier, ASmallOrBlurredFaceIsUnsureNeverTheOwner) {
  FACEID_REQUIRE_DATA(owner, "owners/oshoura");
  TempDir dir;
  write_fixture_model(dir / "model");
  Verifier verifier(dir / "model");
  const auto refs = copy_owner_photos(owner, dir / "refs", 3);
  verifier.load_references(dir / "refs", dir / "cache", 1);
  Face face;
  face.box = cv::Rect2f(10, 10, 16, 18);
  // Scores that the rule would accept: all references match.
  const FaceVerdict small = verifier.decide(face, {0.99f, 0.99f, 0.99f}, 200.f);
  EXPECT_TRUE(small.unsure);
  EXPECT_FALSE(small.owner);
  EXPECT_STREQ(small.decision(), "unsure");
  EXPECT_NE(small.unsure_reason.find("16x18 px face <"), std::string::npos) << small.unsure_reason;
  face.box = cv::Rect2f(10, 10, 120, 140);
  const FaceVerdict blurred = verifier.decide(face, {0.99f, 0.99f, 0.99f}, 1.f);
  EXPECT_TRUE(blurred.unsure);
  EXPECT_NE(blurred.unsure_reason.find("blur: sharpness 1.0 <"), std::string::npos)
      << blurred.unsure_reason;
  const FaceVerdict sharp = verifier.decide(face, {0.99f, 0.99f, 0.99f}, 500.f);
  EXPECT_FALSE(sharp.unsure);
  EXPECT_TRUE(sharp.owner);
  EXPECT_STREQ(sharp.decision(), "owner");
  verifier.thresholds().min_face = 0;
  verifier.thresholds().min_sharpness = 0;
  EXPECT_TRUE(verifier.decide(face, {0.99f, 0.99f, 0.99f}, 1.f).owner);
}
