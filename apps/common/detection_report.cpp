#include "detection_report.hpp"

#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/boxes.hpp"
#include "faceid/log.hpp"

namespace faceid::cli {

nlohmann::json detection_report(const std::string& boxes_file, const PipelineOptions& o,
                                float min_iou) {
  const auto images = read_imglab(boxes_file);
  const bool all = o.preprocess.detector == "all";
  const std::vector<std::string> kinds = all ? std::vector<std::string>{"yunet", "haar"}
                                             : std::vector<std::string>{o.preprocess.detector};
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& kind : kinds) {
    PipelineOptions po = o;
    po.preprocess.detector = kind;
    std::unique_ptr<Detector> detector;
    try {
      detector = make_pipeline(po).make_detector();
    } catch (const Error& e) {
      if (!all || e.kind() != ErrorKind::Input) throw;
      logger()->warn("{} left out: {}", kind, e.what());
      continue;
    }
    BoxMatch total;
    double ms = 0;
    nlohmann::json per_image = nlohmann::json::array();
    for (const auto& image : images) {
      const cv::Mat bgr = read_image(image.file);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<Box> found;
      for (const auto& f : detector->detect(bgr))
        found.push_back({f.box.x, f.box.y, f.box.width, f.box.height, false});
      ms +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const BoxMatch m = match_boxes(image.boxes, found, min_iou);
      total.true_positives += m.true_positives;
      total.false_positives += m.false_positives;
      total.false_negatives += m.false_negatives;
      per_image.push_back({{"file", image.file.filename().string()},
                           {"boxes", image.boxes.size()},
                           {"found", found.size()},
                           {"hits", m.true_positives},
                           {"false_boxes", m.false_positives},
                           {"misses", m.false_negatives}});
    }
    const int truth = total.true_positives + total.false_negatives;
    const int found = total.true_positives + total.false_positives;
    rows.push_back({{"detector", detector->name()},
                    {"boxes", truth},
                    {"hits", total.true_positives},
                    {"false_boxes", total.false_positives},
                    {"misses", total.false_negatives},
                    {"recall", truth ? double(total.true_positives) / truth : 0.0},
                    {"precision", found ? double(total.true_positives) / found : 0.0},
                    {"ms_per_image", images.empty() ? 0.0 : ms / images.size()},
                    {"images", per_image}});
  }
  return {{"boxes_file", boxes_file}, {"min_iou", min_iou}, {"detectors", rows}};
}

void print_detection_report(const nlohmann::json& report) {
  std::cout << fmt::format("Detection vs {} (IoU >= {:.2f})\n",
                           report["boxes_file"].get<std::string>(),
                           report["min_iou"].get<double>());
  std::cout << fmt::format("{:<9} {:>6} {:>5} {:>7} {:>12} {:>7} {:>10} {:>9}\n", "detector",
                           "boxes", "hits", "misses", "false boxes", "recall", "precision",
                           "ms/image");
  for (const auto& r : report["detectors"]) {
    std::cout << fmt::format("{:<9} {:>6} {:>5} {:>7} {:>12} {:>7.3f} {:>10.3f} {:>9.1f}\n",
                             r["detector"].get<std::string>(), r["boxes"].get<int>(),
                             r["hits"].get<int>(), r["misses"].get<int>(),
                             r["false_boxes"].get<int>(), r["recall"].get<double>(),
                             r["precision"].get<double>(), r["ms_per_image"].get<double>());
    for (const auto& i : r["images"])
      if (i["false_boxes"].get<int>() > 0 || i["misses"].get<int>() > 0)
        std::cout << fmt::format("  {}: {} boxes, {} found, {} missed, {} false\n",
                                 i["file"].get<std::string>(), i["boxes"].get<int>(),
                                 i["found"].get<int>(), i["misses"].get<int>(),
                                 i["false_boxes"].get<int>());
  }
}

}  // namespace faceid::cli
