#include "faceid/annotate.hpp"

#include <opencv2/imgcodecs.hpp>

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;

namespace {

int count_colour(const cv::Mat& image, const cv::Scalar& colour) {
  cv::Mat mask;
  cv::inRange(image, colour, colour, mask);
  return cv::countNonZero(mask);
}

Face face_at(float x, float y, float w, float h) {
  Face f;
  f.box = {x, y, w, h};
  return f;
}

}  // namespace

TEST(Annotate, TheBoxIsDrawnInItsColourAroundTheFaceOnly) {
  cv::Mat img(200, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  draw_face(img, face_at(100, 80, 60, 50), kGreen, "");
  // The outline passes through the box's edges, not its inside nor far outside.
  EXPECT_EQ(img.at<cv::Vec3b>(80, 130), cv::Vec3b(60, 200, 60));   // top edge
  EXPECT_EQ(img.at<cv::Vec3b>(105, 100), cv::Vec3b(60, 200, 60));  // left edge
  EXPECT_EQ(img.at<cv::Vec3b>(105, 130), cv::Vec3b(0, 0, 0));      // inside
  EXPECT_EQ(img.at<cv::Vec3b>(20, 20), cv::Vec3b(0, 0, 0));        // elsewhere
}

TEST(Annotate, TheLabelSitsAboveTheBoxOrBelowItAtTheTopOfThePicture) {
  cv::Mat above(200, 300, CV_8UC3, cv::Scalar(0, 0, 0)), below = above.clone();
  draw_face(above, face_at(100, 100, 80, 60), kRed, "0.93");
  draw_face(below, face_at(100, 2, 80, 60), kRed, "0.93");
  // The label's filled background is in the box's colour, with light (anti-aliased white) text.
  const cv::Mat label = above(cv::Rect(100, 60, 80, 38));
  cv::Mat light;
  cv::inRange(label, cv::Scalar(150, 150, 150), cv::Scalar(255, 255, 255), light);
  EXPECT_GT(count_colour(label, kRed), 100);
  EXPECT_GT(cv::countNonZero(light), 5);
  EXPECT_GT(count_colour(below(cv::Rect(100, 64, 80, 40)), kRed), 100);
  EXPECT_EQ(count_colour(below(cv::Rect(0, 0, 300, 1)), kRed), 0);
}

TEST(Annotate, LandmarksAreDrawnWhenTheDetectorGaveThem) {
  cv::Mat img(200, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  Face f = face_at(100, 80, 60, 50);
  f.landmarks = {cv::Point2f(115, 95), {145, 95}, {130, 105}, {118, 118}, {142, 118}};
  f.has_landmarks = true;
  draw_face(img, f, kYellow, "");
  EXPECT_EQ(img.at<cv::Vec3b>(105, 130), cv::Vec3b(0, 210, 240));  // the nose tip
  cv::Mat without(200, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  f.has_landmarks = false;
  draw_face(without, f, kYellow, "");
  EXPECT_EQ(without.at<cv::Vec3b>(105, 130), cv::Vec3b(0, 0, 0));
}

TEST(Annotate, WriteImageWritesAtomicallyAndNeverOverTheInput) {
  TempDir dir;
  cv::Mat img(20, 30, CV_8UC3, cv::Scalar(10, 20, 30));
  write_image(dir / "out.png", img);
  const cv::Mat back = cv::imread((dir / "out.png").string());
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0);
  EXPECT_FALSE(std::filesystem::exists(dir / ".tmp-out.png"));
  expect_error([&] { write_image(dir / "out.png", img, dir / "out.png"); }, ErrorKind::Usage,
               "refusing to overwrite");
  expect_error([&] { write_image(dir / "out.unknown", img); }, ErrorKind::Input,
               "cannot write image");
  expect_error([&] { write_image(dir / "no" / "such" / "folder.png", img); }, ErrorKind::Input,
               "cannot write image");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);  // only out.png
}

TEST(Annotate, AContactSheetPlacesChipsRowByRow) {
  std::vector<cv::Mat> chips;
  for (int i = 0; i < 5; ++i) chips.emplace_back(8, 8, CV_8UC3, cv::Scalar(i * 40, 0, 0));
  const cv::Mat sheet = contact_sheet(chips, 3);
  EXPECT_EQ(sheet.cols, 24);
  EXPECT_EQ(sheet.rows, 16);
  EXPECT_EQ(sheet.at<cv::Vec3b>(4, 20)[0], 80);    // chip 2: first row, third column
  EXPECT_EQ(sheet.at<cv::Vec3b>(12, 12)[0], 160);  // chip 4: second row, second column
  EXPECT_EQ(sheet.at<cv::Vec3b>(12, 20)[0], 0);    // the empty sixth place stays black
  EXPECT_EQ(contact_sheet(chips, 10).cols, 40);    // fewer chips than columns: one row
  EXPECT_TRUE(contact_sheet({}, 3).empty());
  expect_error([&] { contact_sheet(chips, 0); }, ErrorKind::Internal, "columns");
  chips.emplace_back(9, 9, CV_8UC3);
  expect_error([&] { contact_sheet(chips, 3); }, ErrorKind::Internal, "one size");
}
