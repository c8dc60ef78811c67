#include "faceid/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>
#include <nlohmann/json.hpp>

#include "faceid/bundle/portable.hpp"
#include "faceid/data/augment.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/log.hpp"
#include "faceid/model/autocast.hpp"
#include "faceid/score/metrics.hpp"
#include "faceid/train/schedule.hpp"

namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace faceid {

TrainConfig default_train() {
  TrainConfig c;
  c.time_budget_minutes = 30;
  c.epochs = 1000;
  // AdamW's usual decay, not the 5e-4 of SGD recipes (which AdamW multiplies by the learning rate):
  // measured on three seeds, docs/results.md "Weight decay".
  c.weight_decay = 0.05;
  // A second view of each face, its centre zoomed in 1.6 times: +3 points DevTest on three seeds
  // (docs/results.md "A zoom view").
  c.augment.zoom_view = 1.6f;
  return c;
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"epochs", c.epochs},
       {"time_budget_minutes", c.time_budget_minutes},
       {"batch_people", c.batch.people},
       {"batch_photos", c.batch.photos},
       {"accumulate", c.accumulate},
       {"learning_rate", c.learning_rate},
       {"weight_decay", c.weight_decay},
       {"warmup", c.warmup},
       {"id_loss", c.id_loss.kind},
       {"id_margin", c.id_loss.margin},
       {"id_scale", c.id_loss.scale},
       {"id_weight", c.id_weight},
       {"id_smoothing", c.id_smoothing},
       {"pair_weight", c.pair_weight},
       {"imprint", c.imprint},
       {"ema", c.ema},
       {"val_pairs_per_family", c.val_pairs},
       {"patience", c.patience},
       {"seed", c.seed},
       {"augment", c.augment},
       {"device", c.device},
       {"precision", c.precision}};
}

void to_json(nlohmann::json& j, const EpochMetrics& m) {
  j = {{"epoch", m.epoch},
       {"train_loss", m.train_loss},
       {"train_accuracy", m.train_accuracy},
       {"train_pair_loss", m.train_pair_loss},
       {"train_id_loss", m.train_id_loss},
       {"learning_rate", m.learning_rate},
       {"minutes", m.minutes},
       {"val_loss", m.val_loss},
       {"val_accuracy", m.val_accuracy},
       {"val_precision", m.val_precision},
       {"val_recall", m.val_recall},
       {"val_auc", m.val_auc},
       {"val_auc_head", m.val_auc_head},
       {"val_auc_cosine", m.val_auc_cosine},
       {"val_owner_accuracy", m.val_owner_accuracy},
       {"val_score_std", m.val_score_std},
       {"seconds", m.seconds},
       {"images_per_second", m.images_per_second},
       {"data_wait_share", m.data_wait_share},
       {"collapsed", m.collapsed}};
}

void from_json(const nlohmann::json& j, EpochMetrics& m) {
  j.at("epoch").get_to(m.epoch);
  j.at("train_loss").get_to(m.train_loss);
  j.at("train_accuracy").get_to(m.train_accuracy);
  m.train_pair_loss = j.value("train_pair_loss", 0.0);
  m.train_id_loss = j.value("train_id_loss", 0.0);
  m.learning_rate = j.value("learning_rate", 0.0);
  m.minutes = j.value("minutes", 0.0);
  j.at("val_loss").get_to(m.val_loss);
  j.at("val_accuracy").get_to(m.val_accuracy);
  j.at("val_precision").get_to(m.val_precision);
  j.at("val_recall").get_to(m.val_recall);
  j.at("val_auc").get_to(m.val_auc);
  m.val_auc_head = j.value("val_auc_head", m.val_auc);
  m.val_auc_cosine = j.value("val_auc_cosine", 0.0);
  j.at("val_owner_accuracy").get_to(m.val_owner_accuracy);
  j.at("val_score_std").get_to(m.val_score_std);
  j.at("seconds").get_to(m.seconds);
  m.images_per_second = j.value("images_per_second", j.value("pairs_per_second", 0.0));
  m.data_wait_share = j.value("data_wait_share", 0.0);
  j.at("collapsed").get_to(m.collapsed);
}

namespace {

PairCounts counts_for(const PairPool& pool, std::size_t owner, std::size_t identity) {
  return {pool.owner.size() >= 2 && !pool.people.empty() ? owner : 0, identity};
}

// The training identities: the owner (class 0, when there are owner photos), then the people.
std::vector<std::vector<int>> training_classes(const PairPool& pool) {
  std::vector<std::vector<int>> classes;
  if (!pool.owner.empty()) classes.push_back(pool.owner);
  for (const auto& p : pool.people) classes.push_back(p.chips);
  return classes;
}

std::vector<torch::Tensor> snapshot(SiameseNet& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) out.push_back(b.detach().clone());
  return out;
}

void restore(SiameseNet& net, const std::vector<torch::Tensor>& weights) {
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& p : net->parameters()) p.copy_(weights.at(i++));
  for (auto& b : net->buffers()) b.copy_(weights.at(i++));
}

constexpr double kAucTie = 0.002;

// Collapse: neither score kind tells the validation pairs apart, and the scores are (almost)
// constant or no better than a coin. (A constant head beside a separating cosine is not one.)
bool looks_collapsed(const EpochMetrics& m) {
  return m.val_auc < 0.55 && (m.val_score_std < 1e-3 || std::abs(m.val_accuracy - 0.5) < 0.02);
}

}  // namespace

Trainer::Trainer(SiameseNet net, const FaceSet& faces, const PoolSplit& split, TrainConfig config,
                 std::shared_ptr<Collective> group)
    : group_(std::move(group)),
      rank_(group_ ? group_->rank() : 0),
      world_size_(group_ ? group_->world_size() : 1),
      net_(std::move(net)),
      faces_(faces),
      split_(split),
      config_(std::move(config)),
      device_(resolve_device(config_.device)) {
  if (config_.epochs < 1) throw usage_error("epochs must be >= 1");
  if (config_.accumulate < 1) throw usage_error("accumulate must be >= 1 batch per step");
  if (config_.time_budget_minutes < 0) throw usage_error("the time budget must be >= 0 minutes");
  if (config_.precision != "fp32" && config_.precision != "bf16")
    throw usage_error("precision must be fp32 or bf16, not '" + config_.precision + "'");
  if (!(config_.ema >= 0 && config_.ema < 1))
    throw usage_error("the weights' moving average needs a decay in [0, 1)");
  if (faces_.chips.chip_size() != net_->config().input_size)
    throw usage_error("chips of " + std::to_string(faces_.chips.chip_size()) +
                      " px but the model expects " + std::to_string(net_->config().input_size));
  auto classes = training_classes(split_.train);
  const int n_classes = static_cast<int>(classes.size());
  torch::Tensor centres;  // --imprint: the classes' mean embeddings, before training moves them
  if (config_.imprint && config_.id_loss.kind != "none" && config_.id_weight > 0) {
    std::vector<int> ids, class_of;
    for (int c = 0; c < n_classes; ++c)
      for (const int id : classes[static_cast<std::size_t>(c)]) {
        ids.push_back(id);
        class_of.push_back(c);
      }
    const auto e = embed_rows(net_, faces_.chips, ids, device_);
    centres = torch::zeros({n_classes, e.size(1)})
                  .index_add_(0, torch::tensor(class_of, torch::kLong), e);
  }
  sampler_ =
      std::make_unique<PKSampler>(std::move(classes), config_.batch, mix_seed(config_.seed, 0x5a3));
  const auto per_step = static_cast<std::size_t>(world_size_ * config_.accumulate);
  if (sampler_->batches_per_epoch() < per_step)
    throw input_error(per_step == 1
                          ? std::string("too few training photos for one batch")
                          : fmt::format("too few training photos for one step of {} batches ({} "
                                        "rank(s) x {}): {} batch(es) per epoch",
                                        per_step, world_size_, config_.accumulate,
                                        sampler_->batches_per_epoch()));
  val_pairs_ =
      sample_pairs(split_.val, counts_for(split_.val, config_.val_pairs, config_.val_pairs),
                   mix_seed(config_.seed, 0xba1));
  net_->to(device_);
  feeder_ = std::make_unique<ChipFeeder>(faces_.chips, device_);
  std::vector<torch::Tensor> params = net_->parameters();
  if (config_.id_loss.kind != "none" && config_.id_weight > 0) {
    id_head_ = MarginHead(n_classes, net_->config().embedding_size, config_.id_loss);
    id_head_->to(device_);
    if (centres.defined()) id_head_->imprint(centres);
    for (const auto& p : id_head_->parameters()) params.push_back(p);
  }
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      params, torch::optim::AdamWOptions(config_.learning_rate).weight_decay(config_.weight_decay));
  if (world_size_ > 1) {
    check_ranks_agree();
    group_->broadcast(trained_tensors());  // every rank starts from rank 0's weights
  }
  if (config_.ema > 0) average_ = snapshot(net_);
}

void Trainer::update_average() {
  if (average_.empty()) return;
  ++average_steps_;
  // Early on a fixed decay would remember the random start: it grows towards the configured one
  // (as TensorFlow's ExponentialMovingAverage with num_updates).
  const double decay = std::min(config_.ema, (1.0 + static_cast<double>(average_steps_)) /
                                                 (10.0 + static_cast<double>(average_steps_)));
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (const auto& p : net_->parameters()) average_.at(i++).lerp_(p, 1 - decay);
  for (const auto& b : net_->buffers()) {
    auto& a = average_.at(i++);
    if (a.is_floating_point())
      a.lerp_(b, 1 - decay);
    else
      a.copy_(b);  // BatchNorm's batch counter
  }
}

std::vector<torch::Tensor> Trainer::judged_weights() {
  if (average_.empty()) return snapshot(net_);
  std::vector<torch::Tensor> out;
  for (const auto& t : average_) out.push_back(t.clone());
  return out;
}

void Trainer::check_ranks_agree() {
  // Each rank gathered its own faces: a rank with other folders, another detector (YuNet not
  // found there) or other flags would make other exchanges, or average unlike buffers.
  std::size_t tensors = 0;
  for (const auto& t : trained_tensors()) tensors += static_cast<std::size_t>(t.numel());
  const std::vector<double> mine = {
      static_cast<double>(faces_.chips.count()), static_cast<double>(sampler_->batches_per_epoch()),
      static_cast<double>(val_pairs_.size()), static_cast<double>(tensors)};
  std::vector<double> both = mine;
  for (const double v : mine) both.push_back(-v);
  const auto agreed = group_->max(both);
  for (std::size_t i = 0; i < mine.size(); ++i)
    if (agreed[i] != -agreed[i + mine.size()])
      throw usage_error(fmt::format(
          "the ranks disagree on the training data (faces {} to {}, batches per epoch, validation "
          "pairs or model size differ): give every rank the same folders, flags and detector",
          -agreed[mine.size()], agreed[0]));
}

std::vector<torch::Tensor> Trainer::trained_tensors() {
  std::vector<torch::Tensor> out = net_->parameters();
  for (const auto& b : net_->buffers()) out.push_back(b);
  if (id_head_)
    for (const auto& p : id_head_->parameters()) out.push_back(p);
  return out;
}

std::pair<double, bool> Trainer::agree(bool stop_requested) {
  double seconds = elapsed_seconds();
  if (world_size_ > 1) {
    const auto agreed = group_->max({seconds, stop_requested ? 1.0 : 0.0});
    seconds = agreed[0];
    stop_requested = agreed[1] > 0;
  }
  agreed_seconds_ = seconds;
  return {seconds, stop_requested};
}

Trainer::EpochProgress Trainer::total(const EpochProgress& progress) {
  if (world_size_ == 1) return progress;
  const auto sums =
      group_->sum({progress.loss_sum, progress.pair_loss_sum, progress.id_loss_sum,
                   progress.correct, progress.pairs, static_cast<double>(progress.images)});
  EpochProgress t = progress;
  t.loss_sum = sums[0];
  t.pair_loss_sum = sums[1];
  t.id_loss_sum = sums[2];
  t.correct = sums[3];
  t.pairs = sums[4];
  t.images = static_cast<std::size_t>(sums[5]);
  return t;
}

double Trainer::elapsed_seconds() const {
  return seconds_before_ +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
}

torch::Tensor Trainer::embed_chips(const std::vector<int>& ids) {
  return embed_rows(net_, faces_.chips, ids, device_);
}

Trainer::ValidationSet Trainer::embed_validation() {
  // Embed each distinct chip once; the pairs then index into the embeddings.
  std::vector<int> ids;
  for (const auto& p : val_pairs_) {
    ids.push_back(p.a);
    ids.push_back(p.b);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const auto embeddings = embed_chips(ids);
  auto row = [&](int id) {
    return static_cast<std::int64_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
  };
  std::vector<std::int64_t> ia, ib;
  ValidationSet v;
  for (const auto& p : val_pairs_) {
    ia.push_back(row(p.a));
    ib.push_back(row(p.b));
    v.labels.push_back(p.label > 0.5f);
    v.kinds.push_back(p.kind);
  }
  v.e1 = embeddings.index_select(0, torch::tensor(ia)).to(device_);
  v.e2 = embeddings.index_select(0, torch::tensor(ib)).to(device_);
  return v;
}

std::vector<float> Trainer::ValidationSet::scores(SiameseNet& net, const std::string& kind) const {
  const ModelConfig before = net->config();
  net->set_scoring(kind, before.flip_average);
  torch::Tensor p;
  {
    torch::NoGradGuard no_grad;
    p = net->score(e1, e2).to(torch::kCPU).contiguous();
  }
  net->set_scoring(before.score, before.flip_average);
  return {p.data_ptr<float>(), p.data_ptr<float>() + p.numel()};
}

void Trainer::validation_scores(std::vector<float>& scores, std::vector<int>& labels,
                                std::vector<PairKind>* kinds) {
  const auto v = embed_validation();
  scores = v.scores(net_, net_->config().score);
  labels = v.labels;
  if (kinds) *kinds = v.kinds;
}

std::pair<double, double> Trainer::validation_auc_by_score() {
  const auto v = embed_validation();
  return {auc(v.scores(net_, "head"), v.labels), auc(v.scores(net_, "cosine"), v.labels)};
}

nlohmann::json Trainer::choose_scoring(double switch_margin) {
  nlohmann::json aucs;
  double best = -1;
  const std::string configured = net_->config().score;
  std::string best_kind = configured;
  bool best_flip = false;
  for (const bool flip : {false, true}) {
    net_->set_scoring(configured, flip);
    const auto [head, cosine] = validation_auc_by_score();
    aucs[flip ? "head+mirror" : "head"] = head;
    aucs[flip ? "cosine+mirror" : "cosine"] = cosine;
    // The net's own kind first; another kind must beat the best so far by switch_margin, the
    // mirror (a second forward per face) by 0.001 more.
    const double margin = flip ? 1e-3 : 0;
    const std::string other = configured == "head" ? "cosine" : "head";
    for (const std::string* kind : {&configured, &other}) {
      const double v = *kind == "head" ? head : cosine;
      const double needed = best + margin + (*kind == configured ? 0 : switch_margin);
      if (v > needed) best = v, best_kind = *kind, best_flip = flip;
    }
  }
  net_->set_scoring(best_kind, best_flip);
  return aucs;
}

void Trainer::evaluate(EpochMetrics& m) {
  const auto v = embed_validation();
  const auto& labels = v.labels;
  const auto& kinds = v.kinds;
  const auto head = v.scores(net_, "head"), cosine = v.scores(net_, "cosine");
  m.val_auc_head = auc(head, labels);
  m.val_auc_cosine = auc(cosine, labels);
  const auto& scores = net_->config().score == "head" ? head : cosine;
  float threshold = 0.5f;
  equal_error_rate(scores, labels, &threshold);
  const auto c = confusion_at(scores, labels, threshold);
  m.val_accuracy = c.accuracy();
  m.val_precision = c.precision();
  m.val_recall = c.recall();
  m.val_auc = std::max(m.val_auc_head, m.val_auc_cosine);  // facetrain keeps the better kind
  double loss = 0, mean = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const double p = std::clamp(static_cast<double>(scores[i]), 1e-7, 1 - 1e-7);
    loss -= labels[i] ? std::log(p) : std::log(1 - p);
    mean += scores[i];
  }
  const double n = std::max<std::size_t>(1, scores.size());
  m.val_loss = loss / n;
  mean /= n;
  double var = 0;
  for (float s : scores) var += (s - mean) * (s - mean);
  m.val_score_std = std::sqrt(var / n);
  std::size_t owner = 0, owner_right = 0;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (kinds[i] == PairKind::OwnerPositive || kinds[i] == PairKind::OwnerNegative) {
      ++owner;
      owner_right += (scores[i] >= threshold) == (labels[i] == 1);
    }
  m.val_owner_accuracy = owner ? static_cast<double>(owner_right) / owner : -1;
  m.collapsed = looks_collapsed(m);
}

void Trainer::train_step(const std::vector<Batch>& batches, const std::vector<std::size_t>& mine,
                         std::size_t next, int epoch, EpochProgress& progress) {
  const auto rows_of = [&](std::size_t index) {
    const auto& chips = batches[index].chips;
    return std::vector<std::int64_t>(chips.begin(), chips.end());
  };
  optimizer_->zero_grad();
  for (std::size_t k = 0; k < mine.size(); ++k) {
    const std::size_t index = mine[k];
    const Batch& batch = batches[index];
    // Seeded by the batch's place in the epoch: the same images whichever rank trains it.
    const std::uint64_t seed =
        mix_seed(config_.seed, (static_cast<std::uint64_t>(epoch) << 32) + index);
    const auto rows = rows_of(index);
    std::vector<std::uint64_t> seeds;
    for (std::size_t i = 0; i < rows.size(); ++i) seeds.push_back(mix_seed(seed, i));
    const auto images = feeder_->take(rows);  // on the device
    const std::size_t following = k + 1 < mine.size() ? mine[k + 1] : next;
    if (following < batches.size()) feeder_->prefetch(rows_of(following));
    const auto x = augment_batch(images, config_.augment, seeds);
    const auto labels =
        torch::tensor(std::vector<std::int64_t>(batch.labels.begin(), batch.labels.end()))
            .to(device_);
    // Dropout draws from the global generator: seed it per batch so that a resumed run repeats
    // it.
    torch::manual_seed(mix_seed(seed, 0xd0));

    torch::Tensor e;
    {
      Bf16Autocast bf16(device_, config_.precision == "bf16");
      e = net_->embed(x);
    }
    e = e.to(torch::kFloat);  // the heads and losses in fp32
    const auto pairs = in_batch_pairs(e, labels);
    const auto logits = net_->head(e.index_select(0, pairs.a), e.index_select(0, pairs.b));
    const auto pair_loss = F::binary_cross_entropy_with_logits(logits, pairs.target);
    auto loss = pair_loss * config_.pair_weight;
    torch::Tensor id_loss;
    if (id_head_) {
      id_loss =
          F::cross_entropy(id_head_(e, labels), labels,
                           F::CrossEntropyFuncOptions().label_smoothing(config_.id_smoothing));
      loss = loss + id_loss * config_.id_weight;
    }
    // The step's gradient is the mean over its batches (of every rank).
    (mine.size() == 1 ? loss : loss / static_cast<double>(mine.size())).backward();

    // One read-back per batch (each a wait for the device): the losses and the right pairs.
    const auto sums =
        torch::stack({loss.detach(), pair_loss.detach(),
                      id_loss.defined() ? id_loss.detach() : torch::zeros_like(loss),
                      ((logits > 0) == (pairs.target > 0.5f)).sum().to(loss.scalar_type())})
            .to(torch::kCPU, torch::kDouble);
    const auto* v = sums.data_ptr<double>();
    const auto n = static_cast<double>(rows.size());
    progress.images += rows.size();
    progress.loss_sum += v[0] * n;
    progress.pair_loss_sum += v[1] * n;
    progress.id_loss_sum += v[2] * n;
    progress.correct += v[3];
    progress.pairs += static_cast<double>(pairs.target.size(0));
  }
  if (world_size_ > 1) {
    std::vector<torch::Tensor> grads;
    for (const auto& group : optimizer_->param_groups())
      for (auto p : group.params()) {
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.grad());
      }
    group_->average(grads);
  }
  optimizer_->step();
  update_average();
}

bool Trainer::run_epoch(int epoch, EpochProgress& progress, const TrainHooks& hooks,
                        EpochMetrics& m) {
  const auto start = std::chrono::steady_clock::now();
  const auto batches = sampler_->epoch(epoch);
  // A step takes `per_step` consecutive batches of the epoch, rank r the r-th `accumulate` of them.
  const auto accumulate = static_cast<std::size_t>(config_.accumulate);
  const std::size_t per_step = static_cast<std::size_t>(world_size_) * accumulate;
  const std::size_t epoch_steps = batches.size() / per_step;
  const double budget_s = config_.time_budget_minutes * 60;
  const long steps = static_cast<long>(epoch_steps) * config_.epochs;
  const std::size_t images_before = progress.images;
  feeder_->reset_wait();
  Schedule schedule{config_.learning_rate, config_.warmup, 0.0};
  net_->train();
  if (id_head_) id_head_->train();
  for (bool first = true; progress.next_step < epoch_steps; first = false) {
    const auto [seconds, stop] = agree(hooks.stop && hooks.stop->load());
    if (!first && budget_s > 0 && seconds >= budget_s) break;  // the epoch ends here
    if (!first && stop) return false;
    const long step = static_cast<long>(epoch - 1) * static_cast<long>(epoch_steps) +
                      static_cast<long>(progress.next_step);
    learning_rate_ = schedule.at(training_progress(seconds, budget_s, step, steps));
    for (auto& group : optimizer_->param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate_);
    std::vector<std::size_t> mine;
    for (std::size_t j = 0; j < accumulate; ++j)
      mine.push_back(progress.next_step * per_step + static_cast<std::size_t>(rank_) * accumulate +
                     j);
    const std::size_t next =
        progress.next_step + 1 < epoch_steps
            ? (progress.next_step + 1) * per_step + static_cast<std::size_t>(rank_) * accumulate
            : batches.size();
    train_step(batches, mine, next, epoch, progress);
    ++progress.next_step;
    if (hooks.on_batch)
      hooks.on_batch(epoch, progress.next_step, epoch_steps,
                     progress.loss_sum / static_cast<double>(progress.images),
                     training_progress(elapsed_seconds(), budget_s, step + 1, steps));
  }
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const EpochProgress all = total(progress);
  const double seen = static_cast<double>(std::max<std::size_t>(1, all.images));
  m = EpochMetrics{};
  m.epoch = epoch;
  m.train_loss = all.loss_sum / seen;
  m.train_pair_loss = all.pair_loss_sum / seen;
  m.train_id_loss = all.id_loss_sum / seen;
  m.train_accuracy = all.pairs > 0 ? all.correct / all.pairs : 0;
  m.learning_rate = learning_rate_;
  m.images_per_second = train_seconds > 0 ? static_cast<double>(progress.images - images_before) *
                                                world_size_ / train_seconds
                                          : 0;
  m.data_wait_share = train_seconds > 0 ? feeder_->wait_seconds() / train_seconds : 0;
  // Validation judges the moving average's weights with --ema; the net's own come back after.
  std::vector<torch::Tensor> live;
  if (!average_.empty()) {
    live = snapshot(net_);
    restore(net_, average_);
  }
  if (world_size_ > 1) {  // one set of BatchNorm running statistics: the ranks' mean
    std::vector<torch::Tensor> stats;
    for (const auto& b : net_->buffers())
      if (b.is_floating_point()) stats.push_back(b);
    group_->average(stats);
  }
  if (rank_ == 0) evaluate(m);
  if (!average_.empty()) {
    average_ = snapshot(net_);
    restore(net_, live);
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.minutes = elapsed_seconds() / 60;
  return true;
}

void Trainer::save_checkpoint(int epoch, const EpochProgress& progress, const TrainResult& result) {
  if (config_.checkpoint.empty() || rank_ != 0) return;
  // Every tensor a CPU copy (portable.hpp): a run started on a GPU resumes on any device.
  torch::serialize::OutputArchive archive, model, optimizer, best, ids, average;
  save_portable(*net_, model);
  if (id_head_) save_portable(*id_head_, ids);
  archive.write("identities", ids);
  save_portable(*optimizer_, optimizer);
  for (std::size_t i = 0; i < best_weights_.size(); ++i)
    best.write(std::to_string(i), cpu_copy(best_weights_[i]));
  archive.write("model", model);
  archive.write("optimizer", optimizer);
  archive.write("best", best);
  for (std::size_t i = 0; i < average_.size(); ++i)
    average.write(std::to_string(i), cpu_copy(average_[i]));
  archive.write("average", average);
  nlohmann::json state = {{"epoch", epoch},
                          {"next_step", progress.next_step},
                          {"world_size", world_size_},
                          {"loss_sum", progress.loss_sum},
                          {"pair_loss_sum", progress.pair_loss_sum},
                          {"id_loss_sum", progress.id_loss_sum},
                          {"correct", progress.correct},
                          {"pairs", progress.pairs},
                          {"images", progress.images},
                          {"seconds", elapsed_seconds()},
                          {"best_epoch", result.best_epoch},
                          {"history", result.history},
                          {"best_count", best_weights_.size()},
                          {"average_count", average_.size()},
                          {"average_steps", average_steps_},
                          {"config", config_}};
  archive.write("state", c10::IValue(state.dump()));
  create_folder(config_.checkpoint.parent_path(), "the checkpoint folder");
  write_file_atomically(config_.checkpoint, "checkpoint",
                        [&](std::ostream& out) { archive.save_to(out); });
}

void Trainer::load_checkpoint(int& epoch, EpochProgress& progress, TrainResult& result) {
  const auto& file = config_.checkpoint;
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec))
    throw model_error((file.empty() ? std::string("(none)") : file.string()) +
                      ": no checkpoint to resume from");
  try {
    torch::serialize::InputArchive archive, model, optimizer, best, ids, average;
    archive.load_from(file.string(), device_);
    c10::IValue state_value;
    archive.read("state", state_value);
    const auto state = nlohmann::json::parse(state_value.toStringRef());
    nlohmann::json now = config_;
    for (const char* key : {"batch_people", "batch_photos", "seed", "id_loss", "augment"})
      if (state.at("config").value(key, nlohmann::json()) != now.at(key))
        throw model_error(file.string() + ": checkpoint was made with another " + std::string(key) +
                          " (" + state.at("config").at(key).dump() + ")");
    // A step's batches depend on both: the position in the epoch means another batch otherwise.
    const int world = state.value("world_size", 1);
    const int accumulate = state.at("config").value("accumulate", 1);
    if (world != world_size_ || accumulate != config_.accumulate)
      throw model_error(fmt::format(
          "{}: checkpoint was made with {} rank(s) x {} batch(es) per step; resume it so",
          file.string(), world, accumulate));
    archive.read("model", model);
    net_->load(model);
    net_->use_channels_last();
    if (id_head_) {
      archive.read("identities", ids);
      id_head_->load(ids);
    }
    archive.read("optimizer", optimizer);
    optimizer_->load(optimizer);
    archive.read("best", best);
    best_weights_.clear();
    for (std::size_t i = 0; i < state.at("best_count").get<std::size_t>(); ++i) {
      torch::Tensor t;
      best.read(std::to_string(i), t);
      best_weights_.push_back(t);
    }
    if (!average_.empty()) {
      // A checkpoint without an average (made without --ema) starts one from its weights.
      average_ = snapshot(net_);
      average_steps_ = 0;
      if (state.value("average_count", std::size_t{0}) == average_.size()) {
        archive.read("average", average);
        for (std::size_t i = 0; i < average_.size(); ++i)
          average.read(std::to_string(i), average_[i]);
        average_steps_ = state.value("average_steps", 0L);
      }
    }
    epoch = state.at("epoch").get<int>();
    progress.next_step = state.value("next_step", state.value("next_batch", std::size_t{0}));
    progress.loss_sum = state.at("loss_sum").get<double>();
    progress.correct = state.at("correct").get<double>();
    progress.pair_loss_sum = state.at("pair_loss_sum").get<double>();
    progress.id_loss_sum = state.at("id_loss_sum").get<double>();
    progress.pairs = state.at("pairs").get<double>();
    progress.images = state.at("images").get<std::size_t>();
    seconds_before_ = state.at("seconds").get<double>();
    result.best_epoch = state.at("best_epoch").get<int>();
    result.history = state.at("history").get<std::vector<EpochMetrics>>();
    if (rank_ != 0) progress = EpochProgress{progress.next_step};  // rank 0 holds the run's sums
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw model_error(file.string() +
                      ": cannot resume from checkpoint: " + what.substr(0, what.find('\n')));
  }
}

TrainResult Trainer::fit(const TrainHooks& hooks) {
  const auto start = std::chrono::steady_clock::now();
  session_start_ = start;
  seconds_before_ = 0;
  TrainResult result;
  int epoch = 1;
  EpochProgress progress;
  if (config_.resume) {
    load_checkpoint(epoch, progress, result);
    logger()->info("resuming at epoch {} step {} from {}", epoch, progress.next_step,
                   config_.checkpoint.string());
  }
  // The best epoch has the highest validation AUC; an AUC within kAucTie of the best counts as a
  // tie, which goes to the later epoch (a decaying schedule's last weights are rarely worse, and
  // 2,000 validation pairs cannot tell 0.002 apart).
  double best_auc = -1;
  for (const auto& m : result.history) best_auc = std::max(best_auc, m.val_auc);
  int collapsed_in_a_row = 0;
  // Why training ends after an epoch: rank 0 decides, the other ranks can only ask to stop.
  enum Verdict { kGoOn, kStop, kEarlyStop, kBudget, kCollapsed };
  for (; epoch <= config_.epochs; ++epoch) {
    EpochMetrics m;
    // (When another rank fails, the exchange throws; the last epoch's checkpoint is the
    // consistent one to resume from.)
    if (!run_epoch(epoch, progress, hooks, m)) {
      save_checkpoint(epoch, total(progress), result);
      result.interrupted = true;
      break;
    }
    progress = EpochProgress{};
    result.history.push_back(m);
    if (rank_ == 0 && m.val_auc > best_auc - kAucTie) {
      best_auc = std::max(best_auc, m.val_auc);
      result.best_epoch = epoch;
      best_weights_ = judged_weights();
    }
    collapsed_in_a_row = m.collapsed ? collapsed_in_a_row + 1 : 0;
    if (hooks.on_epoch) hooks.on_epoch(m);
    save_checkpoint(epoch + 1, progress, result);
    const bool stop_requested = hooks.stop && hooks.stop->load();
    int verdict = kGoOn;
    if (rank_ == 0) {
      if (collapsed_in_a_row >= 2)
        verdict = kCollapsed;
      else if (config_.time_budget_minutes > 0 &&
               std::max(elapsed_seconds(), agreed_seconds_) >= config_.time_budget_minutes * 60)
        verdict = kBudget;
      else if (config_.patience > 0 && epoch - result.best_epoch >= config_.patience)
        verdict = kEarlyStop;
      else if (stop_requested)
        verdict = kStop;
    }
    if (world_size_ > 1) {
      const auto agreed = group_->max({static_cast<double>(verdict), stop_requested ? 1.0 : 0.0});
      verdict = static_cast<int>(agreed[0]);
      if (verdict == kGoOn && agreed[1] > 0) verdict = kStop;
    }
    if (verdict == kGoOn) continue;
    if (verdict == kCollapsed) {
      logger()->error(
          "training collapsed: validation score spread {:.2g}, AUC {:.3f} for 2 epochs; try a "
          "lower --lr",
          m.val_score_std, m.val_auc);
      result.collapsed = true;
    } else if (verdict == kBudget) {
      logger()->info("time budget of {:g} min spent after epoch {}", config_.time_budget_minutes,
                     epoch);
      result.budget_reached = true;
    } else if (verdict == kEarlyStop) {
      logger()->info("early stop: no better validation AUC for {} epochs (best: epoch {})",
                     config_.patience, result.best_epoch);
      result.early_stopped = true;
    } else {
      result.interrupted = true;
    }
    break;
  }
  if (!best_weights_.empty()) restore(net_, best_weights_);
  net_->eval();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace faceid
