// facebench: one throughput measurement of faceid's C++ path, printed as a JSON line, for
// scripts/bench.sh, which runs it beside the PyTorch (Python) reference and prints the table.
//   gemm   fp32 matrix product GFLOP/s (the machine's ceiling for this BLAS)
//   train  training steps on random tensors (compute only), pairs/s
//   e2e    training steps fed by the real loader: face cache -> pairs -> augmentation, pairs/s
//   recipe the from-scratch recipe's training steps, run by the library's Trainer exactly as
//          facetrain runs them, on random chips: images/s and the share of time waiting for data
//          (--device cuda on a GPU build)
//   embed  inference embeddings, faces/s
//   verify faceverify's cost per face with 50 references: cached reference embeddings (one
//          embedding + the head over 50) vs the seed's 50 full pair-forwards; with --image also
//          detection per image and alignment per face
//   synth  not a measurement: writes a folder-per-person set of --faces faces made from LFW's
//          cached chips (--out DIR and its face cache), for memory measurements at scale

#include <sys/resource.h>

#include <iostream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "facebench.hpp"
#include "faceid/model/model.hpp"

using namespace faceid;
using namespace faceid::facebench;

namespace {

int run(const Options& o, const cli::CommonOptions& common) {
  torch::manual_seed(0);
  nlohmann::json out = {
      {"impl", "faceid-c++"},
      {"what", o.what},
      {"arch", o.arch},
      {"batch", o.batch},
      {"threads", cli::resolve_threads(common.threads)},
      {"openblas_coretype",
       std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "auto"}};
  ModelConfig config = default_model(o.what == "recipe" ? "resnet" : o.arch);
  if (config.name != "dlib-resnet") config.input_size = o.size;  // dlib's net: its own 150 px
  out["size"] = config.input_size;
  out["arch"] = config.name;
  if (o.what == "gemm")
    gemm(out);
  else if (o.what == "train")
    train_compute(config, o, out);
  else if (o.what == "e2e")
    train_end_to_end(config, o, common, out);
  else if (o.what == "recipe")
    recipe_steps(o, common, out);
  else if (o.what == "verify")
    verify_latency(config, o, out);
  else if (o.what == "synth")
    synthetic_set(o, common, out);
  else
    embed(config, o, out);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  out["peak_rss_mb"] = usage.ru_maxrss / 1024.0;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  return cli::run_main(
      argc, argv,
      {"facebench", "One throughput measurement as a JSON line (see scripts/bench.sh).",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("--what", o.what, "gemm, train, e2e, recipe, embed, verify or synth")
             ->check(CLI::IsMember({"gemm", "train", "e2e", "recipe", "embed", "verify", "synth"}))
             ->capture_default_str();
         app.add_option("--size", o.size, "Chip side of the net's input")->capture_default_str();
         app.add_option("--arch", o.arch, "resnet, koch, koch-small or dlib-resnet")
             ->capture_default_str();
         app.add_option("--batch", o.batch, "Pairs per step")->capture_default_str();
         app.add_flag("--bf16", o.bf16,
                      "embed, recipe: bfloat16 autocast (embed also reports the lowest cosine of "
                      "its embeddings to the float32 ones)");
         app.add_option("--steps", o.steps, "Measured steps")->capture_default_str();
         app.add_option("--workers", o.workers, "Loader threads (e2e)")->capture_default_str();
         app.add_option("--lfw", o.lfw, "LFW root (e2e)");
         app.add_option("--image", o.image, "Picture for detection and alignment times (verify)");
         app.add_option("-o,--out", o.out,
                        "Folder of the synthetic face set (synth; new or empty)");
         app.add_option("--faces", o.faces, "Faces of the synthetic set (synth)")
             ->capture_default_str();
         app.add_option("--photos", o.photos, "Photos per person of the synthetic set (synth)")
             ->capture_default_str();
         cli::add_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
