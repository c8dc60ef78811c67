#include "faceid/detector.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <spdlog/spdlog.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/objdetect/face.hpp>

#include "faceid/error.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

constexpr const char* kYunetFile = "face_detection_yunet_2022mar.onnx";
constexpr int kMinYunetSide = 64;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec);
}

// Scale that brings the longer side down to max_side (never up).
double detection_scale(const cv::Mat& image, int max_side) {
  const int side = std::max(image.cols, image.rows);
  return side > max_side ? static_cast<double>(max_side) / side : 1.0;
}

// Largest visible part first: a face mostly outside the picture should not win "the largest face"
// (the training chip of an image) over a whole one.
void sort_largest_first(std::vector<Face>& faces, const cv::Size& image) {
  const cv::Rect2f inside(0, 0, static_cast<float>(image.width), static_cast<float>(image.height));
  std::stable_sort(faces.begin(), faces.end(), [&](const Face& a, const Face& b) {
    return (a.box & inside).area() > (b.box & inside).area();
  });
}

class YuNetDetector : public Detector {
 public:
  explicit YuNetDetector(const DetectorOptions& o) : options_(o) {
    try {
      net_ = cv::FaceDetectorYN::create(o.yunet_model.string(), "", cv::Size(320, 320),
                                        o.score_threshold, 0.3f, 5000);
    } catch (const cv::Exception& e) {
      throw input_error(o.yunet_model.string() + ": cannot load YuNet model: " + e.err);
    }
    if (!net_) throw input_error(o.yunet_model.string() + ": cannot load YuNet model");
  }

  std::vector<Face> detect(const cv::Mat& bgr) override {
    const double scale = detection_scale(bgr, options_.max_side);
    cv::Mat input = bgr;
    if (scale < 1.0) cv::resize(bgr, input, cv::Size(), scale, scale, cv::INTER_AREA);
    // Pad after downscaling, so that the faces keep the resolution they had without padding.
    const int pad =
        static_cast<int>(std::lround(options_.border_pad * std::max(input.cols, input.rows)));
    // YuNet's pooling fails on inputs under 32 px a side (a thin strip of a picture): pad those
    // on the right and bottom too.
    const int extra_x = std::max(0, kMinYunetSide - input.cols - 2 * pad);
    const int extra_y = std::max(0, kMinYunetSide - input.rows - 2 * pad);
    if (pad > 0 || extra_x > 0 || extra_y > 0) {
      cv::Mat padded;
      cv::copyMakeBorder(input, padded, pad, pad + extra_y, pad, pad + extra_x, cv::BORDER_CONSTANT,
                         cv::Scalar::all(0));
      input = padded;
    }
    cv::Mat out;
    net_->setInputSize(input.size());
    net_->detect(input, out);
    std::vector<Face> faces;
    for (int r = 0; r < out.rows; ++r) {
      const float* v = out.ptr<float>(r);
      Face f;
      f.box = cv::Rect2f(static_cast<float>((v[0] - pad) / scale),
                         static_cast<float>((v[1] - pad) / scale), static_cast<float>(v[2] / scale),
                         static_cast<float>(v[3] / scale));
      for (int k = 0; k < 5; ++k)
        f.landmarks[k] = cv::Point2f(static_cast<float>((v[4 + 2 * k] - pad) / scale),
                                     static_cast<float>((v[5 + 2 * k] - pad) / scale));
      f.has_landmarks = true;
      f.score = v[14];
      // A box wholly in the padding is no face of this picture.
      const cv::Rect2f inside(0, 0, static_cast<float>(bgr.cols), static_cast<float>(bgr.rows));
      if ((f.box & inside).area() <= 0) continue;
      if (std::min(f.box.width, f.box.height) >= options_.min_face_size) faces.push_back(f);
    }
    sort_largest_first(faces, bgr.size());
    return faces;
  }

  std::string name() const override { return "yunet"; }

 private:
  DetectorOptions options_;
  cv::Ptr<cv::FaceDetectorYN> net_;
};

class HaarDetector : public Detector {
 public:
  explicit HaarDetector(const DetectorOptions& o) : options_(o) {
    bool loaded = false;
    try {
      loaded = cascade_.load(o.haar_cascade.string());
    } catch (const cv::Exception& e) {  // a file OpenCV's XML reader cannot parse
      throw input_error(o.haar_cascade.string() + ": cannot load Haar cascade: " + e.err);
    }
    if (!loaded) throw input_error(o.haar_cascade.string() + ": cannot load Haar cascade");
  }

  std::vector<Face> detect(const cv::Mat& bgr) override {
    const double scale = detection_scale(bgr, options_.max_side);
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    if (scale < 1.0) cv::resize(gray, gray, cv::Size(), scale, scale, cv::INTER_AREA);
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> boxes;
    const int min_side = std::max(1, static_cast<int>(options_.min_face_size * scale));
    cascade_.detectMultiScale(gray, boxes, 1.1, 4, 0, cv::Size(min_side, min_side));
    std::vector<Face> faces;
    for (const auto& b : boxes) {
      Face f;
      f.box = cv::Rect2f(b.x / scale, b.y / scale, b.width / scale, b.height / scale);
      // The cascade gives no landmarks; place them where they sit in its boxes on average, so
      // that alignment has one code path.
      static const float kRel[5][2] = {
          {0.31f, 0.40f}, {0.69f, 0.40f}, {0.50f, 0.60f}, {0.35f, 0.78f}, {0.65f, 0.78f}};
      for (int k = 0; k < 5; ++k)
        f.landmarks[k] = {f.box.x + kRel[k][0] * f.box.width, f.box.y + kRel[k][1] * f.box.height};
      f.has_landmarks = false;
      f.score = 1.0f;
      faces.push_back(f);
    }
    sort_largest_first(faces, bgr.size());
    return faces;
  }

  std::string name() const override { return "haar"; }

 private:
  DetectorOptions options_;
  cv::CascadeClassifier cascade_;
};

}  // namespace

DetectorOptions detector_options(const PreprocessConfig& c) {
  DetectorOptions o;
  o.kind = c.detector;
  o.score_threshold = c.score_threshold;
  o.max_side = c.max_detect_side;
  o.min_face_size = c.min_face_size;
  o.border_pad = c.border_pad;
  return o;
}

fs::path find_yunet_model(const fs::path& hint) {
  if (!hint.empty()) {
    if (!is_file(hint)) throw input_error(hint.string() + ": YuNet model file not found");
    return hint;
  }
  if (const char* env = std::getenv("FACEID_YUNET"); env && *env) {
    if (!is_file(env))
      throw input_error(std::string(env) + ": YuNet model file ($FACEID_YUNET) not found");
    return env;
  }
  for (const fs::path& dir :
       {data_dir() / "models", fs::path("models"), fs::path("/usr/share/faceid/models")})
    if (is_file(dir / kYunetFile)) return dir / kYunetFile;
  return {};
}

fs::path find_haar_cascade(const fs::path& hint) {
  if (!hint.empty()) return is_file(hint) ? hint : fs::path();
  for (const fs::path& dir :
       {fs::path("/usr/share/opencv4/haarcascades"), fs::path("/usr/share/opencv/haarcascades"),
        fs::path("/usr/local/share/opencv4/haarcascades")})
    if (is_file(dir / "haarcascade_frontalface_default.xml"))
      return dir / "haarcascade_frontalface_default.xml";
  return {};
}

DetectorOptions resolve_detector(DetectorOptions o) {
  if (o.kind != "auto" && o.kind != "yunet" && o.kind != "haar")
    throw usage_error("unknown detector '" + o.kind + "' (expected auto, yunet or haar)");
  if (o.kind != "haar") {
    o.yunet_model = find_yunet_model(o.yunet_model);
    if (!o.yunet_model.empty()) {
      o.kind = "yunet";
      return o;
    }
    if (o.kind == "yunet")
      throw input_error(std::string("YuNet model ") + kYunetFile +
                        " not found (give --yunet FILE, set FACEID_YUNET or FACEID_DATA)");
  }
  const auto cascade = find_haar_cascade(o.haar_cascade);
  if (cascade.empty())
    throw input_error(
        "no face detector: YuNet model not found and no Haar cascade (apt-get install "
        "opencv-data)");
  if (o.kind == "auto") {
    // Said once per process: a run started far from the data gets Haar without asking for it.
    [[maybe_unused]] static const bool warned = [] {
      logger()->warn(
          "YuNet model {} not found (--yunet FILE, FACEID_YUNET, FACEID_DATA/models or "
          "./models): detecting with the Haar cascade, which misses more faces and aligns them "
          "worse",
          kYunetFile);
      return true;
    }();
  }
  o.haar_cascade = cascade;
  o.kind = "haar";
  return o;
}

std::unique_ptr<Detector> Detector::create(const DetectorOptions& options) {
  const DetectorOptions o = resolve_detector(options);
  if (o.kind == "yunet") return std::make_unique<YuNetDetector>(o);
  return std::make_unique<HaarDetector>(o);
}

}  // namespace faceid
