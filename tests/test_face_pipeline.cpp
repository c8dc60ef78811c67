#include "faceid/face_pipeline.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/align.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/boxes.hpp"
#include "test_images.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace fs = std::filesystem;

TEST(Align, SimilarityTransformRecoversAKnownOne) {
  // Rotate by 30 degrees, scale 2, shift (5, -3).
  const double a = 2 * std::cos(M_PI / 6), b = 2 * std::sin(M_PI / 6);
  std::array<cv::Point2f, 5> from = {{{0, 0}, {10, 0}, {5, 5}, {2, 9}, {8, 9}}}, to;
  for (int k = 0; k < 5; ++k)
    to[k] = {static_cast<float>(a * from[k].x - b * from[k].y + 5),
             static_cast<float>(b * from[k].x + a * from[k].y - 3)};
  const cv::Mat m = similarity_transform(from, to);
  EXPECT_NEAR(m.at<double>(0, 0), a, 1e-4);
  EXPECT_NEAR(m.at<double>(1, 0), b, 1e-4);
  EXPECT_NEAR(m.at<double>(0, 2), 5, 1e-3);
  EXPECT_NEAR(m.at<double>(1, 2), -3, 1e-3);
}

TEST(Align, TemplateEyesAreLevelAndInsideTheChip) {
  PreprocessConfig config;
  config.chip_size = 100;
  const auto t = chip_template(config);
  EXPECT_NEAR(t[0].y, t[1].y, 0.5);
  EXPECT_LT(t[0].x, t[1].x);
  for (const auto& p : t) {
    EXPECT_GT(p.x, 0);
    EXPECT_LT(p.x, 100);
    EXPECT_GT(p.y, 0);
    EXPECT_LT(p.y, 100);
  }
}

TEST(FacePipeline, YunetFindsOneAlignedFaceInMessi) {
  FACEID_REQUIRE_DATA(image, "scenes/messi5.jpg");
  const FacePipeline pipeline(PreprocessConfig{});
  if (pipeline.config().detector != "yunet")
    GTEST_SKIP() << "YuNet model not found under " << data_dir();
  auto detector = pipeline.make_detector();
  const auto faces = detector->detect(read_image(image));
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_GT(faces[0].score, 0.7f);
  const auto face = pipeline.process(image, *detector);
  EXPECT_EQ(face.status, FaceStatus::Face);
  EXPECT_EQ(face.chip.size(), 100u * 100u * 3u);
}

TEST(FacePipeline, BothDetectorsFindNoFaceInALandscape) {
  TempDir dir;
  faceid::test::write_landscape(dir / "landscape.png");
  for (const char* kind : {"auto", "haar"}) {
    PreprocessConfig config;
    config.detector = kind;
    const FacePipeline pipeline(config);
    auto detector = pipeline.make_detector();
    const auto face = pipeline.process(dir / "landscape.png", *detector);
    EXPECT_EQ(face.status, FaceStatus::NoFace) << pipeline.config().detector;
    EXPECT_EQ(face.faces_found, 0u) << pipeline.config().detector;
  }
}

TEST(FacePipeline, MixedFolderIsCountedAndTheCacheIsReusedAndInvalidated) {
  FACEID_REQUIRE_DATA(messi, "scenes/messi5.jpg");
  TempDir dir;
  const fs::path photos = dir / "photos";
  fs::create_directories(photos);
  fs::copy_file(messi, photos / "messi.jpg");
  cv::imwrite((photos / "wall.jpg").string(), cv::Mat(200, 200, CV_8UC3, cv::Scalar(90, 120, 150)));
  write_file(photos / "empty.jpg", "");
  write_file(photos / "notes.png", "plain text with an image name");
  write_file(photos / "readme.txt", "ignored: not an image name");
  const auto files = list_images(photos);
  ASSERT_EQ(files.size(), 4u);

  const FacePipeline pipeline(PreprocessConfig{});
  CacheUpdate first;
  pipeline.cached_faces(photos, files, dir / "cache", 2, &first);
  EXPECT_EQ(first.images, 4u);
  EXPECT_EQ(first.computed, 4u);
  EXPECT_EQ(first.faces, 1u);
  EXPECT_EQ(first.no_face, 1u);
  EXPECT_EQ(first.unreadable, 2u);
  ASSERT_EQ(first.unreadable_files.size(), 2u);
  EXPECT_NE(first.unreadable_files[0].find("empty.jpg"), std::string::npos);

  CacheUpdate second;
  pipeline.cached_faces(photos, files, dir / "cache", 2, &second);
  EXPECT_EQ(second.hits, 4u);
  EXPECT_EQ(second.computed, 0u);

  // Replace the wall by Messi under the same name: only that file is recomputed.
  fs::copy_file(messi, photos / "wall.jpg", fs::copy_options::overwrite_existing);
  CacheUpdate third;
  const FaceCache cache = pipeline.cached_faces(photos, files, dir / "cache", 1, &third);
  EXPECT_EQ(third.computed, 1u);
  EXPECT_EQ(third.faces, 2u);
  EXPECT_EQ(cache.find(file_key(photos / "wall.jpg"))->status, FaceStatus::Face);
}

TEST(FacePipeline, UnknownDetectorIsAUsageError) {
  PreprocessConfig config;
  config.detector = "mtcnn";
  try {
    FacePipeline pipeline(config);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

TEST(Align, SharpnessFallsWithBlurAndIgnoresTheChipSize) {
  // A textured "face": random gray blocks, as a chip of 100 and of 160 pixels.
  cv::Mat texture(25, 25, CV_8UC3);
  cv::randu(texture, cv::Scalar::all(0), cv::Scalar::all(255));
  PreprocessConfig config;
  cv::Mat chip, big, blurred;
  cv::resize(texture, chip, cv::Size(100, 100), 0, 0, cv::INTER_NEAREST);
  cv::resize(texture, big, cv::Size(160, 160), 0, 0, cv::INTER_NEAREST);
  cv::GaussianBlur(chip, blurred, cv::Size(0, 0), 3);
  const float sharp = face_sharpness(chip, config);
  EXPECT_GT(sharp, 100);
  EXPECT_LT(face_sharpness(blurred, config), sharp / 10);
  EXPECT_NEAR(face_sharpness(big, config), sharp, sharp * 0.35);
  EXPECT_FLOAT_EQ(face_sharpness(cv::Mat(100, 100, CV_8UC3, cv::Scalar::all(128)), config), 0.f);
}
