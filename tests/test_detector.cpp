#include "faceid/detector.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/error.hpp"
#include "faceid/face_pipeline.hpp"
#include "faceid/image.hpp"
#include "faceid/io/boxes.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;
using faceid::test::write_file;

namespace {

float visible_area(const Face& f, const cv::Mat& image) {
  return (f.box & cv::Rect2f(0, 0, static_cast<float>(image.cols), static_cast<float>(image.rows)))
      .area();
}

}  // namespace

TEST(Detector, AMissingOrCorruptModelIsAnInputErrorNamingTheFile) {
  TempDir dir;
  expect_error([&] { find_yunet_model(dir / "none.onnx"); }, ErrorKind::Input,
               "none.onnx: YuNet model file not found");
  write_file(dir / "bad.onnx", "not an onnx graph");
  DetectorOptions yunet;
  yunet.kind = "yunet";
  yunet.yunet_model = dir / "bad.onnx";
  expect_error([&] { Detector::create(yunet); }, ErrorKind::Input,
               "bad.onnx: cannot load YuNet model");
  DetectorOptions haar;
  haar.kind = "haar";
  for (const char* xml : {"<opencv_storage><cascade>junk</cascade></opencv_storage>",
                          "<opencv_storage><cascade><stageType>BOOST"}) {
    write_file(dir / "bad.xml", xml);  // a cascade OpenCV reads as empty, and one it cannot parse
    haar.haar_cascade = dir / "bad.xml";
    expect_error([&] { Detector::create(haar); }, ErrorKind::Input,
                 "bad.xml: cannot load Haar cascade");
  }
}

TEST(Detector, AnUnknownKindIsAUsageError) {
  DetectorOptions o;
  o.kind = "mtcnn";
  expect_error([&] { resolve_detector(o); }, ErrorKind::Usage, "unknown detector 'mtcnn'");
}

TEST(Detector, BothDetectorsReturnTheLargestFaceFirst) {
  // One LFW face pasted twice on a grey canvas, small on the left and three times larger on the
  // right: the larger must come first although it is found second in reading order.
  FACEID_REQUIRE_DATA(file, "lfw/Aaron_Peirsol/Aaron_Peirsol_0001.jpg");
  const cv::Mat face = read_image(file)(cv::Rect(60, 50, 130, 160));
  cv::Mat canvas(600, 900, CV_8UC3, cv::Scalar::all(128));
  cv::Mat small, large;
  cv::resize(face, small, cv::Size(), 0.8, 0.8, cv::INTER_AREA);
  cv::resize(face, large, cv::Size(), 2.4, 2.4, cv::INTER_LINEAR);
  small.copyTo(canvas(cv::Rect(60, 200, small.cols, small.rows)));
  large.copyTo(canvas(cv::Rect(450, 100, large.cols, large.rows)));
  for (const std::string& kind : {std::string("yunet"), std::string("haar")}) {
    DetectorOptions o;
    o.kind = kind;
    if (kind == "yunet" && find_yunet_model().empty()) continue;
    auto detector = Detector::create(resolve_detector(o));
    const auto faces = detector->detect(canvas);
    ASSERT_GE(faces.size(), kind == "yunet" ? 2u : 1u) << kind;
    for (std::size_t i = 1; i < faces.size(); ++i)
      EXPECT_GE(visible_area(faces[i - 1], canvas), visible_area(faces[i], canvas)) << kind;
    EXPECT_GT(faces[0].box.x, 400.f) << kind << ": the large face is on the right";
    EXPECT_EQ(faces[0].has_landmarks, kind == "yunet") << kind;
  }
}

TEST(Detector, FacesCutByThePhotosBorderAreFoundWithPadding) {
  // Every hand-drawn face of scenes/dlib, cut by each of the four borders so that 35 % of it is
  // outside the picture: without padding YuNet finds 28 of these 72 (measured), with the default
  // padding 65. A hit is a box with IoU >= 0.5 with the whole face, its cut-off part included.
  FACEID_REQUIRE_DATA(xml, "scenes/dlib/training.xml");
  PreprocessConfig config;
  const FacePipeline pipeline(config);
  if (pipeline.config().detector != "yunet")
    GTEST_SKIP() << "YuNet model not found under " << data_dir();
  ASSERT_GT(config.border_pad, 0.f);
  DetectorOptions plain = pipeline.detector_options();
  plain.border_pad = 0;
  auto padded_detector = pipeline.make_detector();
  auto plain_detector = Detector::create(plain);
  int faces = 0, found_padded = 0, found_plain = 0;
  for (const auto& labeled : read_imglab(xml)) {
    const cv::Mat image = read_image(labeled.file);
    for (const Box& b : labeled.boxes) {
      if (b.ignore) continue;
      for (int side = 0; side < 4; ++side) {
        const float cut = 0.35f;
        cv::Rect crop(0, 0, image.cols, image.rows);
        if (side == 0) crop.x = static_cast<int>(b.x + cut * b.width);
        if (side == 1) crop.width = static_cast<int>(b.x + (1 - cut) * b.width);
        if (side == 2) crop.y = static_cast<int>(b.y + cut * b.height);
        if (side == 3) crop.height = static_cast<int>(b.y + (1 - cut) * b.height);
        if (side == 0) crop.width = image.cols - crop.x;
        if (side == 2) crop.height = image.rows - crop.y;
        const cv::Mat part = image(crop).clone();
        const Box truth{b.x - crop.x, b.y - crop.y, b.width, b.height};
        auto hit = [&](Detector& d) {
          for (const Face& f : d.detect(part))
            if (iou(truth, Box{f.box.x, f.box.y, f.box.width, f.box.height}) >= 0.5f) return 1;
          return 0;
        };
        ++faces;
        found_padded += hit(*padded_detector);
        found_plain += hit(*plain_detector);
      }
    }
  }
  EXPECT_EQ(faces, 72);
  EXPECT_GE(found_padded, 60) << "of " << faces << " cut faces (without padding: " << found_plain
                              << ")";
  EXPECT_GE(found_padded - found_plain, 20)
      << "padding should find many more cut faces than no padding";
}

TEST(Detector, AThinStripOfAPictureIsNoError) {
  // YuNet's pooling fails on inputs under 32 pixels a side; the detector pads them.
  const FacePipeline pipeline(PreprocessConfig{});
  if (pipeline.config().detector != "yunet")
    GTEST_SKIP() << "YuNet model not found under " << data_dir();
  DetectorOptions plain = pipeline.detector_options();
  plain.border_pad = 0;
  auto detector = Detector::create(plain);
  EXPECT_NO_THROW(detector->detect(cv::Mat(200, 12, CV_8UC3, cv::Scalar::all(90))));
  EXPECT_NO_THROW(detector->detect(cv::Mat(5, 5, CV_8UC3, cv::Scalar::all(90))));
}
