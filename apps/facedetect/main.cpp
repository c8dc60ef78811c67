// facedetect: find faces in images (boxes, landmarks, scores), draw them, and score a detector
// against hand-drawn boxes (dlib imglab XML): recall, precision and false boxes at IoU >= 0.5.

#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/detection_report.hpp"
#include "../common/preprocess_options.hpp"
#include "faceid/annotate.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"

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

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

int evaluate(const Options& o, const cli::CommonOptions& common) {
  const auto report = cli::detection_report(o.boxes, o.pipeline, o.min_iou);
  if (common.json)
    cli::print_json(report);
  else
    cli::print_detection_report(report);
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
  if (out_dir) create_folder(o.output, "the output folder");
  if (o.pipeline.preprocess.detector == "all")
    throw usage_error("--detector all only goes with --boxes");
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
      if (!common.json) std::cout << fmt::format("{}: {} face(s)\n", file.string(), faces.size());
      if (!o.output.empty()) {
        for (const auto& f : faces) draw_face(image, f, kYellow, fmt::format("{:.2f}", f.score));
        write_image(out_dir ? fs::path(o.output) / file.filename() : fs::path(o.output), image,
                    file);
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
         app.add_option("-o,--out", o.output, "Annotated image (one input) or folder (several)");
         cli::add_old_spelling(app, "--output", "-o/--out", o.output);
         app.add_option("--boxes", o.boxes,
                        "dlib imglab XML with hand-drawn face boxes: print recall/precision")
             ->check(CLI::ExistingFile);
         app.add_option("--min-iou", o.min_iou, "IoU for a detection to count as a hit")
             ->capture_default_str();
         cli::add_pipeline_options(app, o.pipeline, false, /*allow_all=*/true);
       },
       [&](const cli::CommonOptions& common) {
         return o.boxes.empty() ? detect(o, common) : evaluate(o, common);
       }});
}
