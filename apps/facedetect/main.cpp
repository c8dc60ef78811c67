// facedetect: find faces in images (boxes, landmarks, scores), draw them, and score a detector
// against hand-drawn boxes (dlib imglab XML): recall, precision and false boxes at IoU >= 0.5.

#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "faceid/annotate.hpp"
#include "faceid/boxes.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/log.hpp"
#include "faceid/sources.hpp"

namespace fs = std::filesystem;
using namespace faceid;

namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string output;
  std::string boxes;
  float min_iou = 0.5f;
  cli::PipelineOptions pipeline;
};

Box to_box(const Face& f) { return {f.box.x, f.box.y, f.box.width, f.box.height, false}; }

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Scores each detector on the imglab file; one row per detector.
int evaluate(const Options& o, const cli::CommonOptions& common) {
  const auto images = read_imglab(o.boxes);
  const std::vector<std::string> kinds =
      o.pipeline.preprocess.detector == "all" ? std::vector<std::string>{"yunet", "haar"}
                                              : std::vector<std::string>{o.pipeline.preprocess.detector};
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& kind : kinds) {
    cli::PipelineOptions po = o.pipeline;
    po.preprocess.detector = kind;
    const auto detector = cli::make_pipeline(po).make_detector();
    BoxMatch total;
    double ms = 0;
    nlohmann::json per_image = nlohmann::json::array();
    for (const auto& image : images) {
      const cv::Mat bgr = read_image(image.file);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<Box> found;
      for (const auto& f : detector->detect(bgr)) found.push_back(to_box(f));
      ms += ms_since(t0);
      const BoxMatch m = match_boxes(image.boxes, found, o.min_iou);
      total.true_positives += m.true_positives;
      total.false_positives += m.false_positives;
      total.false_negatives += m.false_negatives;
      per_image.push_back({{"file", image.file.filename().string()}, {"boxes", image.boxes.size()},
                           {"found", found.size()}, {"hits", m.true_positives},
                           {"false_boxes", m.false_positives}, {"misses", m.false_negatives}});
    }
    const int truth = total.true_positives + total.false_negatives;
    const int found = total.true_positives + total.false_positives;
    rows.push_back({{"detector", detector->name()}, {"boxes", truth}, {"hits", total.true_positives},
                    {"false_boxes", total.false_positives}, {"misses", total.false_negatives},
                    {"recall", truth ? double(total.true_positives) / truth : 0.0},
                    {"precision", found ? double(total.true_positives) / found : 0.0},
                    {"ms_per_image", ms / images.size()}, {"images", per_image}});
  }
  if (common.json) {
    cli::print_json({{"boxes_file", o.boxes}, {"min_iou", o.min_iou}, {"detectors", rows}});
    return 0;
  }
  std::cout << fmt::format("Detection vs {} (IoU >= {:.2f})\n", o.boxes, o.min_iou);
  std::cout << fmt::format("{:<9} {:>6} {:>5} {:>7} {:>12} {:>7} {:>10} {:>9}\n", "detector", "boxes", "hits",
                           "misses", "false boxes", "recall", "precision", "ms/image");
  for (const auto& r : rows)
    std::cout << fmt::format("{:<9} {:>6} {:>5} {:>7} {:>12} {:>7.3f} {:>10.3f} {:>9.1f}\n",
                             r["detector"].get<std::string>(), r["boxes"].get<int>(), r["hits"].get<int>(),
                             r["misses"].get<int>(), r["false_boxes"].get<int>(), r["recall"].get<double>(),
                             r["precision"].get<double>(), r["ms_per_image"].get<double>());
  return 0;
}

int detect(const Options& o, const cli::CommonOptions& common) {
  if (o.inputs.empty()) throw usage_error("give images or folders (or --boxes FILE.xml)");
  std::vector<fs::path> files;
  for (const auto& in : o.inputs) {
    if (fs::is_directory(in)) {
      const auto listed = list_images(in);
      files.insert(files.end(), listed.begin(), listed.end());
    } else {
      files.emplace_back(in);
    }
  }
  const bool out_dir = !o.output.empty() && (files.size() > 1 || fs::is_directory(o.output));
  if (out_dir) fs::create_directories(o.output);
  if (o.pipeline.preprocess.detector == "all") throw usage_error("--detector all only goes with --boxes");
  const FacePipeline pipeline = cli::make_pipeline(o.pipeline);
  const auto detector = pipeline.make_detector();
  nlohmann::json results = nlohmann::json::array();
  int failures = 0, total_faces = 0;
  for (const auto& file : files) {
    nlohmann::json entry = {{"path", file.string()}};
    try {
      cv::Mat image = read_image(file);
      const auto t0 = std::chrono::steady_clock::now();
      const auto faces = detector->detect(image);
      entry["detect_ms"] = ms_since(t0);
      entry["faces"] = nlohmann::json::array();
      for (const auto& f : faces) entry["faces"].push_back(cli::face_json(f));
      total_faces += static_cast<int>(faces.size());
      if (!common.json)
        std::cout << fmt::format("{}: {} face(s)\n", file.string(), faces.size());
      if (!o.output.empty()) {
        for (const auto& f : faces) draw_face(image, f, kYellow, fmt::format("{:.2f}", f.score));
        write_image(out_dir ? fs::path(o.output) / file.filename() : fs::path(o.output), image, file);
      }
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Input || files.size() == 1) throw;
      ++failures;
      entry["error"] = e.what();
      logger()->warn("skipped {}", e.what());
    }
    results.push_back(entry);
  }
  if (common.json) cli::print_json({{"detector", detector->name()}, {"images", results}});
  if (failures > 0) return static_cast<int>(ErrorKind::Input);
  return total_faces > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  return cli::run_main(
      argc, argv,
      {"facedetect", "Find faces in images; or score detectors against hand-drawn boxes (--boxes).",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("inputs", o.inputs, "Images or folders of images");
         app.add_option("-o,--output", o.output, "Annotated image (one input) or folder (several)");
         app.add_option("--boxes", o.boxes, "dlib imglab XML with hand-drawn face boxes: print recall/precision")
             ->check(CLI::ExistingFile);
         app.add_option("--min-iou", o.min_iou, "IoU for a detection to count as a hit")->capture_default_str();
         cli::add_pipeline_options(app, o.pipeline, false, /*allow_all=*/true);
       },
       [&](const cli::CommonOptions& common) { return o.boxes.empty() ? detect(o, common) : evaluate(o, common); }});
}
