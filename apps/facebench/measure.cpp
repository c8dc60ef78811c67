// facebench's measurements (facebench.hpp), each filling the JSON line's fields.

#include <sys/resource.h>

#include <chrono>
#include <iostream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "facebench.hpp"
#include "faceid/data/augment.hpp"
#include "faceid/data/pair_dataset.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/model/autocast.hpp"
#include "faceid/model/model.hpp"
#include "faceid/train/trainer.hpp"
#include "faceid/train/training_run.hpp"

namespace F = torch::nn::functional;

namespace faceid::facebench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void train_step(SiameseNet& net, torch::optim::Optimizer& opt, const torch::Tensor& a,
                const torch::Tensor& b, const torch::Tensor& y) {
  const auto loss = F::binary_cross_entropy_with_logits(net->forward(a, b), y);
  opt.zero_grad();
  loss.backward();
  opt.step();
}

template <typename F>
double ms_per_call(int reps, F&& f) {
  f();  // warm-up
  const auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  return seconds_since(t) * 1000.0 / reps;
}

}  // namespace

// The from-scratch recipe's training steps as facetrain runs them: the library's Trainer with
// scratch_recipe("resnet") (P x K batches gathered and prefetched, augmented on the device,
// in-batch pair BCE + CosFace, AdamW), one epoch of --steps + 1 batches over random chips of 2
// photos a person. images/s leaves out the first step (allocations); the data-wait share is the
// epoch's.
void recipe_steps(const Options& o, const cli::CommonOptions& common, nlohmann::json& out) {
  const Recipe recipe = scratch_recipe("resnet");  // what facetrain --init none trains
  TrainConfig train = recipe.train;
  train.time_budget_minutes = 0;
  train.epochs = 1;
  train.batch = {o.batch / 2, 2};
  train.val_pairs = 50;
  train.device = common.device;
  train.precision = o.bf16 ? "bf16" : "fp32";
  train.seed = common.seed;
  ModelConfig model = recipe.model;
  model.input_size = o.size;
  const int people = (o.steps + 1) * train.batch.people;
  FaceSet faces;
  faces.chips = torch::randint(0, 256, {people * 2, o.size, o.size, 3}, torch::kUInt8);
  for (int p = 0; p < people; ++p)
    faces.pool.people.push_back({"p" + std::to_string(p), {2 * p, 2 * p + 1}});
  const PoolSplit split{faces.pool, faces.pool};
  SiameseNet net(model);
  Trainer trainer(net, faces, split, train);
  std::chrono::steady_clock::time_point first, last;
  std::size_t steps = 0;
  TrainHooks hooks;
  hooks.on_batch = [&](int, std::size_t done, std::size_t, double, double) {
    (done == 1 ? first : last) = std::chrono::steady_clock::now();
    steps = done;
  };
  EpochMetrics epoch;
  hooks.on_epoch = [&](const EpochMetrics& m) { epoch = m; };
  trainer.fit(hooks);
  out["device"] = trainer.device().str();
  out["precision"] = train.precision;
  out["classes"] = people;
  out["images_per_second"] = static_cast<double>(o.batch * (steps - 1)) /
                             std::chrono::duration<double>(last - first).count();
  out["data_wait_share"] = epoch.data_wait_share;
}

void verify_latency(const ModelConfig& config, const Options& o, nlohmann::json& out) {
  constexpr int kRefs = 50;
  SiameseNet net(config);
  net->eval();
  net->fold_batch_norm();  // as load_bundle does
  const int s = config.input_size;
  const auto query = torch::randint(0, 256, {1, s, s, 3}, torch::kUInt8);
  const auto refs =
      embed_chips(net, torch::randint(0, 256, {kRefs, s, s, 3}, torch::kUInt8), torch::kCPU);
  const auto ref_chips = torch::rand({kRefs, 1, 3, s, s});
  const auto query_float = torch::rand({1, 3, s, s});
  c10::InferenceMode inference;
  const double embed_ms = ms_per_call(o.steps, [&] { embed_chips(net, query, torch::kCPU); });
  const auto e = embed_chips(net, query, torch::kCPU);
  const double head_ms = ms_per_call(o.steps * 10, [&] { net->score(e, refs); });
  const double cached_ms =
      ms_per_call(o.steps, [&] { net->score(embed_chips(net, query, torch::kCPU), refs); });
  // The seed: one forward of (query, reference) per reference, each embedding both pictures.
  const double seed_ms = ms_per_call(std::max(1, o.steps / 4), [&] {
    for (int r = 0; r < kRefs; ++r) torch::sigmoid(net->forward(query_float, ref_chips[r]));
  });
  out["references"] = kRefs;
  out["embed_ms"] = embed_ms;
  out["head_ms"] = head_ms;
  out["cached_ms_per_face"] = cached_ms;
  out["seed_ms_per_face"] = seed_ms;
  out["speedup"] = seed_ms / cached_ms;
  if (o.image.empty()) return;
  const FacePipeline pipeline = cli::make_pipeline(o.pipeline);
  const auto detector = pipeline.make_detector();
  const cv::Mat image = read_image(o.image);
  std::vector<Face> faces;
  out["detector"] = detector->name();
  out["detect_ms"] = ms_per_call(o.steps, [&] { faces = detector->detect(image); });
  if (faces.empty()) throw input_error(o.image + ": no face to align");
  out["faces"] = faces.size();
  out["align_ms_per_face"] = ms_per_call(o.steps,
                                         [&] {
                                           for (const auto& f : faces) pipeline.chip(image, f);
                                         }) /
                             static_cast<double>(faces.size());
}

// synth: <out>/p<i>/<j>.jpg, --photos per person, are copies of one LFW image; the face cache
// of <out> holds, for each, an augmented copy of LFW face (i mod the faces of LFW) as if faceprep
// had found it there. Written entry by entry: memory does not grow with --faces.
void synthetic_set(const Options& o, const cli::CommonOptions& common, nlohmann::json& out) {
  namespace fs = std::filesystem;
  if (o.lfw.empty() || o.out.empty()) throw usage_error("synth needs --lfw DIR and --out DIR");
  if (o.faces < 1 || o.photos < 1) throw usage_error("synth needs --faces and --photos >= 1");
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_empty(o.out, ec))
    throw usage_error("--out " + o.out + ": must be new or empty");
  const auto t0 = std::chrono::steady_clock::now();
  const FacePipeline pipeline = cli::make_pipeline(o.pipeline);
  const auto people = scan_people(o.lfw);
  std::vector<fs::path> files;
  for (const auto& p : people) files.insert(files.end(), p.images.begin(), p.images.end());
  const auto cache_dir = cli::cache_dir(o.pipeline);
  const FaceCache lfw =
      cli::cache_faces(pipeline, o.lfw, files, cache_dir, cli::resolve_threads(common.threads),
                       !common.quiet, nullptr, ChipLoading::OnDemand);
  const FaceSet source = make_face_set(people, lfw, {}, nullptr, {});
  if (source.chips.count() == 0) throw input_error(o.lfw + ": no face in its cache");
  const std::int64_t n_people = (o.faces + o.photos - 1) / o.photos;
  const auto name = [&](std::int64_t person, std::int64_t photo) {
    return fs::path(o.out) / ("p" + std::to_string(person)) / (std::to_string(photo) + ".jpg");
  };
  for (std::int64_t i = 0; i < n_people; ++i) {
    create_folder(name(i, 0).parent_path(), "--out");
    fs::copy_file(files.front(), name(i, 0));  // (a file has at most ~65,000 links)
    for (std::int64_t j = 1; j < std::min<std::int64_t>(o.photos, o.faces - i * o.photos); ++j)
      fs::create_hard_link(name(i, 0), name(i, j));
  }
  const std::string fingerprint = pipeline.config().fingerprint();
  const int size = source.chips.chip_size();
  const fs::path cache_file = cache_file_for(cache_dir, o.out, fingerprint);
  write_file_atomically(cache_file, "the face cache", [&](std::ostream& stream) {
    FaceCacheWriter writer(stream, size, fingerprint, static_cast<std::uint64_t>(o.faces));
    for (std::int64_t i = 0; i < n_people; ++i) {
      const std::int64_t k = std::min<std::int64_t>(o.photos, o.faces - i * o.photos);
      const std::vector<std::int64_t> rows(static_cast<std::size_t>(k), i % source.chips.count());
      std::vector<std::uint64_t> seeds;
      for (std::int64_t j = 0; j < k; ++j)
        seeds.push_back(mix_seed(common.seed, static_cast<std::uint64_t>(i * o.photos + j)));
      const auto chips =
          augment_batch(
              source.chips.gather(rows).permute({0, 3, 1, 2}).to(torch::kFloat).div(255.0),
              AugmentConfig{}, seeds)
              .mul(255.0)
              .round()
              .to(torch::kUInt8)
              .permute({0, 2, 3, 1})
              .contiguous();
      for (std::int64_t j = 0; j < k; ++j) {
        CachedFace face;
        face.key = file_key(name(i, j));
        face.status = FaceStatus::Face;
        face.faces_found = 1;
        face.score = 1;
        face.detector = "synthetic";
        const auto* bytes = chips[j].data_ptr<std::uint8_t>();
        face.chip.assign(bytes, bytes + chips[j].numel());
        writer.add(face);
      }
    }
    writer.finish();
  });
  out["faces"] = o.faces;
  out["people"] = n_people;
  out["cache_file"] = cache_file.string();
  out["cache_bytes"] = fs::file_size(cache_file);
  out["seconds"] = seconds_since(t0);
}

void gemm(nlohmann::json& out) {
  const int n = 2048;
  const auto x = torch::rand({n, n}), y = torch::rand({n, n});
  torch::mm(x, y);
  const auto t = std::chrono::steady_clock::now();
  const int reps = 10;
  for (int i = 0; i < reps; ++i) torch::mm(x, y);
  out["gflops"] = 2.0 * n * n * n * reps / seconds_since(t) / 1e9;
}

void train_compute(const ModelConfig& config, const Options& o, nlohmann::json& out) {
  const int s = config.input_size;
  SiameseNet net(config);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-4));
  auto batch = [&] {
    return std::make_tuple(torch::rand({o.batch, 3, s, s}), torch::rand({o.batch, 3, s, s}),
                           torch::randint(0, 2, {o.batch}).to(torch::kFloat));
  };
  auto [a, b, y] = batch();
  train_step(net, opt, a, b, y);  // warm-up
  const auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < o.steps; ++i) {
    auto [a2, b2, y2] = batch();
    train_step(net, opt, a2, b2, y2);
  }
  out["pairs_per_second"] = o.batch * o.steps / seconds_since(t);
}

void train_end_to_end(const ModelConfig& config, const Options& o, const cli::CommonOptions& common,
                      nlohmann::json& out) {
  const int s = config.input_size;
  if (o.lfw.empty()) throw usage_error("e2e needs --lfw DIR");
  cli::PipelineOptions chips_for_the_net = o.pipeline;
  chips_for_the_net.preprocess.chip_size = s;
  const FacePipeline pipeline = cli::make_pipeline(chips_for_the_net);
  const auto people = scan_people(o.lfw);
  std::vector<std::filesystem::path> files;
  for (const auto& p : people) files.insert(files.end(), p.images.begin(), p.images.end());
  const auto t_cache = std::chrono::steady_clock::now();
  const FaceCache cache = pipeline.cached_faces(o.lfw, files, cli::cache_dir(o.pipeline), 2);
  const FaceSet faces = make_face_set(people, cache, {}, nullptr, {});
  out["cache_load_seconds"] = seconds_since(t_cache);
  const auto pairs =
      sample_pairs(faces.pool, {0, static_cast<std::size_t>(o.batch * (o.steps + 1))}, common.seed);
  auto loader = torch::data::make_data_loader(
      PairDataset(faces.chips.all(), pairs, AugmentConfig{}, common.seed)
          .map(torch::data::transforms::Stack<>()),
      torch::data::samplers::SequentialSampler(pairs.size()),
      torch::data::DataLoaderOptions(o.batch).workers(o.workers).enforce_ordering(true));
  SiameseNet net(config);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-4));
  int step = 0;
  auto t = std::chrono::steady_clock::now();
  for (auto& b : *loader) {
    train_step(net, opt, b.data.select(1, 0), b.data.select(1, 1), b.target);
    if (step++ == 0) t = std::chrono::steady_clock::now();  // after the warm-up step
  }
  out["pairs_per_second"] = o.batch * (step - 1) / seconds_since(t);
}

void embed(const ModelConfig& config, const Options& o, nlohmann::json& out) {
  const int s = config.input_size;
  SiameseNet net(config);
  net->eval();
  net->fold_batch_norm();  // as load_bundle does
  const auto chips = torch::randint(0, 256, {64, s, s, 3}, torch::kUInt8);
  const auto fp32 = embed_chips(net, chips, torch::kCPU);
  Bf16Autocast bf16(torch::kCPU, o.bf16);
  if (o.bf16) {
    // How far bfloat16 moves the embeddings (the accuracy side of the trade).
    const auto e = embed_chips(net, chips, torch::kCPU).to(torch::kFloat);
    out["bf16_min_cosine_to_fp32"] = torch::cosine_similarity(e, fp32, 1).min().item<double>();
  }
  out["bf16"] = o.bf16;
  const auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < o.steps; ++i) embed_chips(net, chips, torch::kCPU);
  out["faces_per_second"] = 64.0 * o.steps / seconds_since(t);
}

}  // namespace faceid::facebench
