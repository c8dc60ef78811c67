// faceid's dlib-resnet with the imported face-api weights against the original: the same chips
// through @vladmandic/face-api's own TF.js code in node (pretrained/face-api/descriptors.cjs,
// tfjs's pure-JS cpu backend) and through faceid. Skips, saying why, without node or the
// package (scripts/setup.sh installs it).

#include <cstdio>
#include <cstdlib>

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

#include "faceid/bundle/pretrained.hpp"
#include "faceid/face_pipeline.hpp"
#include "faceid/image.hpp"
#include "test_support.hpp"

using namespace faceid;
namespace fs = std::filesystem;

namespace {

// Up to `n` aligned faces of the LFW people whose name starts with "A" (dlib's geometry).
std::vector<std::vector<std::uint8_t>> lfw_chips(std::size_t n) {
  std::vector<std::vector<std::uint8_t>> chips;
  const fs::path lfw = data_dir() / "lfw";
  if (!fs::is_directory(lfw)) return chips;
  FacePipeline pipeline(face_api_preprocess(PreprocessConfig{}));
  auto detector = pipeline.make_detector();
  for (const auto& person : {"Aaron_Peirsol", "Abdullah_Gul", "Adrien_Brody"}) {
    for (const auto& file :
         {std::string(person) + "_0001.jpg", std::string(person) + "_0002.jpg"}) {
      const fs::path path = lfw / person / file;
      if (chips.size() >= n || !fs::is_regular_file(path)) continue;
      const cv::Mat image = read_image(path);
      const auto faces = detector->detect(image);
      if (!faces.empty()) chips.push_back(chip_to_rgb_bytes(pipeline.chip(image, faces.front())));
    }
  }
  return chips;
}

}  // namespace

TEST(FaceApi, DescriptorsEqualTheOriginalTfjsModelsInNode) {
  fs::path model;
  try {
    model = find_face_api_model({});
  } catch (const Error& e) {
    GTEST_SKIP() << "face-api package not installed (scripts/setup.sh): " << e.what();
  }
  if (std::system("node --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no node on PATH";
  faceid::test::TempDir dir;
  // Real faces where the data is (4; 0.9 s each in node), and two synthetic chips: a gradient
  // with noise and a flat grey.
  auto chips = lfw_chips(4);
  const std::size_t real = chips.size();
  std::mt19937 rng(7);
  std::vector<std::uint8_t> synthetic(150 * 150 * 3), grey(150 * 150 * 3, 128);
  for (std::size_t i = 0; i < synthetic.size(); ++i)
    synthetic[i] = static_cast<std::uint8_t>(((i / 3) % 150 + (i / 450) + rng() % 40) % 256);
  chips.push_back(synthetic);
  chips.push_back(grey);
  std::string bytes;
  for (const auto& c : chips) bytes.append(c.begin(), c.end());
  faceid::test::write_file(dir / "chips.bin", bytes);

  const std::string command = "node '" FACEID_SOURCE_DIR "/pretrained/face-api/descriptors.cjs' '" +
                              model.string() + "' '" + (dir / "chips.bin").string() + "' " +
                              std::to_string(chips.size()) + " '" + (dir / "out.bin").string() +
                              "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::string out = faceid::test::read_file(dir / "out.bin");
  const auto n = static_cast<long>(chips.size());
  ASSERT_EQ(out.size(), static_cast<std::size_t>(n) * 128 * 4);
  const auto expected = torch::from_blob(const_cast<char*>(out.data()), {n, 128}).clone();

  SiameseNet net = import_face_api(model);
  net->eval();
  net->fold_batch_norm();  // as faceverify runs it: the scale layers folded
  auto input = torch::from_blob(const_cast<char*>(bytes.data()), {n, 150, 150, 3}, torch::kUInt8)
                   .permute({0, 3, 1, 2})
                   .to(torch::kFloat)
                   .div(255.0);
  c10::InferenceMode guard;
  const auto got = net->descriptor(input);
  // Descriptors have norm ~1 (dlib calls faces with distance < 0.6 the same person): agreement
  // to 1e-5 in every component (measured: 3.4e-7, float32 rounding) is far below that decision.
  const float max_diff = (got - expected).abs().max().item<float>();
  const float min_cos = torch::cosine_similarity(got, expected, 1).min().item<float>();
  std::printf(
      "face-api vs faceid on %ld chips (%zu real faces): max |diff| %.3g, min cosine %.9f\n", n,
      real, max_diff, min_cos);
  EXPECT_LT(max_diff, 1e-5f);
  EXPECT_GT(min_cos, 0.999999f);
  EXPECT_GT(expected.norm(2, 1).min().item<float>(), 0.1f);  // not a zero descriptor
}
