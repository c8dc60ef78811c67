// facetrain's parts that need OpenCV: faces detected and aligned through the vision layer, and
// curves.png.

#include <memory>

#include "../common/preprocess_options.hpp"
#include "faceid/annotate.hpp"
#include "faceid/plot.hpp"
#include "facetrain.hpp"

namespace fs = std::filesystem;

namespace faceid::facetrain {

FaceSource face_source(const PreprocessConfig& config, const cli::PipelineOptions& o) {
  auto pipeline = std::make_shared<const FacePipeline>(config, o.yunet_model);
  const fs::path cache_dir = cli::cache_dir(o);
  return {pipeline->config(),
          [pipeline, cache_dir](const fs::path& source, const std::vector<fs::path>& files,
                                int threads, bool progress, CacheUpdate& stats) {
            return cli::cache_faces(*pipeline, source, files, cache_dir, threads, progress, &stats,
                                    ChipLoading::OnDemand);
          }};
}

// Loss and validation curves of the run so far against minutes of training, as one PNG.
void write_curves(const fs::path& file, const std::vector<EpochMetrics>& history) {
  Series pair_loss{"pair BCE", {}, {}, kRed},
      id_loss{"identity loss / 10", {}, {}, cv::Scalar(200, 120, 0)};
  Series train_acc{"train pair acc", {}, {}, kRed},
      val_acc{"val acc (EER point)", {}, {}, cv::Scalar(200, 120, 0)},
      val_auc{"val AUC", {}, {}, kGreen};
  for (const auto& m : history) {
    for (Series* s : {&pair_loss, &id_loss, &train_acc, &val_acc, &val_auc})
      s->x.push_back(m.minutes);
    pair_loss.y.push_back(m.train_pair_loss);
    id_loss.y.push_back(m.train_id_loss / 10);
    train_acc.y.push_back(m.train_accuracy);
    val_acc.y.push_back(m.val_accuracy);
    val_auc.y.push_back(m.val_auc);
  }
  Chart loss{"Training losses", "minutes", "loss", {pair_loss, id_loss}};
  loss.y_min = 0;
  Chart acc{"Pair accuracy in training; validation on people never trained on",
            "minutes",
            "",
            {train_acc, val_acc, val_auc}};
  acc.y_min = 0.5;
  acc.y_max = 1.12;  // room above 1 for the legend
  write_image(file, hconcat_charts({draw_chart(loss), draw_chart(acc)}));
}

}  // namespace faceid::facetrain
