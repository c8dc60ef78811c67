#include "faceid/model/owner_model.hpp"

#include <chrono>
#include <cmath>
#include <random>

#include <spdlog/spdlog.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/normalization.h>
#include <torch/optim/adamw.h>

#include "detail/json_integer.hpp"
#include "faceid/data/augment.hpp"
#include "faceid/data/pairs.hpp"
#include "faceid/error.hpp"
#include "faceid/log.hpp"

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace faceid {

void to_json(nlohmann::json& j, const OwnerHeadConfig& c) {
  j = {{"embedding_size", c.embedding_size}, {"hidden", c.hidden}};
}

void from_json(const nlohmann::json& j, OwnerHeadConfig& c) {
  try {
    c.embedding_size = detail::json_integer<int>(j, "embedding_size");
    c.hidden = detail::json_integer_or(j, "hidden", 0);
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("owner head config: ") + e.what());
  }
}

void to_json(nlohmann::json& j, const OwnerInfo& o) {
  j = {{"head", o.head}, {"fine_tune", o.fine_tune},         {"fit", o.fit},
       {"from", o.from}, {"from_checksum", o.from_checksum}, {"training", o.training}};
}

void from_json(const nlohmann::json& j, OwnerInfo& o) {
  try {
    j.at("head").get_to(o.head);
    o.fine_tune = j.value("fine_tune", std::string("none"));
    o.fit = j.value("fit", std::string("bce"));
    o.from = j.value("from", std::string());
    o.from_checksum = j.value("from_checksum", std::string());
    o.training = j.value("training", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("owner model description: ") + e.what());
  }
}

void to_json(nlohmann::json& j, const OwnerTrainConfig& c) {
  j = {{"fine_tune", c.fine_tune},
       {"fit", c.fit},
       {"hidden", c.hidden},
       {"owner_copies", c.owner_copies},
       {"stranger_copies", c.stranger_copies},
       {"head_steps", c.head_steps},
       {"head_lr", c.head_lr},
       {"weight_decay", c.weight_decay},
       {"fine_tune_steps", c.fine_tune_steps},
       {"batch_owner", c.batch_owner},
       {"batch_strangers", c.batch_strangers},
       {"fine_tune_lr", c.fine_tune_lr},
       {"augment", c.augment},
       {"seed", c.seed}};
}

void to_json(nlohmann::json& j, const OwnerTrainReport& r) {
  j = {{"owner_faces", r.owner_faces},
       {"stranger_faces", r.stranger_faces},
       {"owner_examples", r.owner_examples},
       {"stranger_examples", r.stranger_examples},
       {"head_loss_first", r.head_loss_first},
       {"head_loss_last", r.head_loss_last},
       {"fine_tune_loss_first", r.fine_tune_loss_first},
       {"fine_tune_loss_last", r.fine_tune_loss_last},
       {"fine_tuned", r.fine_tuned},
       {"embed_seconds", r.embed_seconds},
       {"head_seconds", r.head_seconds},
       {"fine_tune_seconds", r.fine_tune_seconds}};
}

OwnerHeadImpl::OwnerHeadImpl(const OwnerHeadConfig& config) : config_(config) {
  if (config.embedding_size < 1) throw usage_error("owner head: embedding size must be positive");
  if (config.hidden < 0) throw usage_error("owner head: hidden width must be 0 or more");
  int in = config.embedding_size;
  if (config.hidden > 0) {
    hidden_ = register_module("hidden", nn::Linear(in, config.hidden));
    in = config.hidden;
  }
  out_ = register_module("out", nn::Linear(in, 1));
  // Start at "nobody is the owner" with no preference: the class weighting does the rest.
  torch::NoGradGuard no_grad;
  out_->weight.zero_();
  out_->bias.zero_();
}

torch::Tensor OwnerHeadImpl::forward(const torch::Tensor& embeddings) {
  auto x = F::normalize(embeddings, F::NormalizeFuncOptions().dim(1)) *
           std::sqrt(static_cast<double>(config_.embedding_size));
  if (hidden_) x = torch::relu(hidden_(x));
  return out_(x).squeeze(-1);
}

torch::Tensor owner_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const double positives = labels.sum().item<double>();
  const double negatives = static_cast<double>(labels.numel()) - positives;
  if (positives <= 0 || negatives <= 0)
    throw input_error("owner loss: needs owner and stranger examples");
  const auto pos_weight = torch::full({1}, negatives / positives, logits.options());
  return F::binary_cross_entropy_with_logits(
      logits, labels, F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(pos_weight));
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

torch::Device device_of(SiameseNet& net) { return net->parameters().front().device(); }

// Rows `ids` of the chips as float [B, 3, S, S] in [0, 1] on `device`, augmented with one seed
// per (copy, row).
torch::Tensor augmented_batch(const ChipStore& chips, const std::vector<int>& ids,
                              const AugmentConfig& augment, std::uint64_t seed, std::uint64_t copy,
                              torch::Device device) {
  const auto x = chips.gather(ids).to(device).permute({0, 3, 1, 2}).to(torch::kFloat).div(255.0);
  std::vector<std::uint64_t> seeds;
  for (const int id : ids)
    seeds.push_back(mix_seed(mix_seed(seed, copy), static_cast<std::uint64_t>(id)));
  return augment_batch(x.contiguous(), augment, seeds);
}

// Embeddings of `copies` augmented copies of each row of `ids`, through embed_chips (so with the
// net's own flip averaging, exactly as at verification time): [copies * ids.size(), E] on the CPU.
torch::Tensor embed_augmented(SiameseNet& net, const ChipStore& chips, const std::vector<int>& ids,
                              int copies, const AugmentConfig& augment, std::uint64_t seed) {
  constexpr std::size_t kBatch = 64;
  const auto device = device_of(net);
  std::vector<torch::Tensor> out;
  for (int copy = 0; copy < copies; ++copy)
    for (std::size_t i = 0; i < ids.size(); i += kBatch) {
      const std::vector<int> part(
          ids.begin() + static_cast<long>(i),
          ids.begin() + static_cast<long>(std::min(ids.size(), i + kBatch)));
      const auto x =
          augmented_batch(chips, part, augment, seed, static_cast<std::uint64_t>(copy), device);
      // Back to the face cache's uint8 layout: embed_chips is the one inference path.
      const auto u8 =
          x.mul(255.0).round_().clamp_(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
      out.push_back(embed_chips(net, u8, device));
    }
  return torch::cat(out);
}

// The head alone on fixed embeddings: full-batch AdamW on the class-weighted BCE.
void fit_head(OwnerHead& head, const torch::Tensor& x, const torch::Tensor& y,
              const OwnerTrainConfig& c, OwnerTrainReport& report) {
  head->train();
  torch::optim::AdamW opt(head->parameters(),
                          torch::optim::AdamWOptions(c.head_lr).weight_decay(c.weight_decay));
  for (int step = 0; step < c.head_steps; ++step) {
    opt.zero_grad();
    const auto loss = owner_loss(head(x), y);
    loss.backward();
    opt.step();
    const double value = loss.item<double>();
    if (step == 0) report.head_loss_first = value;
    report.head_loss_last = value;
  }
  head->eval();
}

// The head as a template: logit = kScale * (cos(e, owner centroid) - midpoint), the midpoint half
// way between the owner's and the strangers' mean cosine (the calibrated threshold decides; this
// only keeps the sigmoid away from saturation where the decision is).
void set_centroid(OwnerHead& head, const torch::Tensor& owner, const torch::Tensor& strangers) {
  constexpr double kScale = 20;
  torch::NoGradGuard no_grad;
  const auto opts = F::NormalizeFuncOptions().dim(1);
  const auto centroid = F::normalize(F::normalize(owner, opts).mean(0, /*keepdim=*/true), opts);
  const double midpoint =
      0.5 * (torch::mm(F::normalize(owner, opts), centroid.t()).mean().item<double>() +
             torch::mm(F::normalize(strangers, opts), centroid.t()).mean().item<double>());
  // forward() feeds the head sqrt(E) * unit embedding.
  const double e = static_cast<double>(owner.size(1));
  auto out = head->named_parameters();
  out["out.weight"].copy_(centroid * (kScale / std::sqrt(e)));
  out["out.bias"].fill_(-kScale * midpoint);
}

// "features.<last child with parameters>." of the net: its last residual stage (resnet) or last
// convolution (koch).
std::string last_stage_prefix(SiameseNet& net) {
  std::string last;
  for (const auto& child : net->named_children()["features"]->named_children())
    if (!child.value()->parameters().empty()) last = child.key();
  if (last.empty())
    throw internal_error("owner fine-tuning: the net has no feature layer with parameters");
  return "features." + last + ".";
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The net's last stage and embedding layer, together with the head, on fresh augmented batches of
// batch_owner owner photos and batch_strangers stranger faces. BatchNorm keeps its running
// statistics (eval mode): batches this small would only disturb them.
void fine_tune_last(SiameseNet& net, OwnerHead& head, const ChipStore& chips,
                    const std::vector<int>& owner, const std::vector<int>& strangers,
                    const OwnerTrainConfig& c, OwnerTrainReport& report) {
  const std::string stage = last_stage_prefix(net);
  net->train(true);  // drops the folded BatchNorm weights: they are recomputed at the end
  net->eval();
  std::vector<torch::Tensor> trainable;
  for (auto& p : net->named_parameters()) {
    const bool train = starts_with(p.key(), stage) || starts_with(p.key(), "embedding.") ||
                       starts_with(p.key(), "embedding_bn.");
    p.value().set_requires_grad(train);
    if (train) trainable.push_back(p.value());
  }
  report.fine_tuned = stage + "*, embedding.*, embedding_bn.*";
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(trainable,
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(c.fine_tune_lr).weight_decay(c.weight_decay)));
  groups.emplace_back(
      head->parameters(),
      std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(c.fine_tune_lr * 10).weight_decay(c.weight_decay)));
  torch::optim::AdamW opt(std::move(groups));
  head->train();
  const auto device = device_of(net);
  std::mt19937_64 rng(mix_seed(c.seed, 0x0f7e));
  std::uniform_int_distribution<std::size_t> pick_owner(0, owner.size() - 1),
      pick_stranger(0, strangers.size() - 1);
  std::vector<float> labels(static_cast<std::size_t>(c.batch_owner), 1.f);
  labels.resize(static_cast<std::size_t>(c.batch_owner + c.batch_strangers), 0.f);
  const auto y = torch::tensor(labels).to(device);
  for (int step = 0; step < c.fine_tune_steps; ++step) {
    std::vector<int> ids;
    for (int i = 0; i < c.batch_owner; ++i) ids.push_back(owner[pick_owner(rng)]);
    for (int i = 0; i < c.batch_strangers; ++i) ids.push_back(strangers[pick_stranger(rng)]);
    // Copies numbered after the frozen phase's, so no augmentation repeats.
    const auto x = augmented_batch(chips, ids, c.augment, c.seed,
                                   1000 + static_cast<std::uint64_t>(step), device);
    opt.zero_grad();
    const auto loss = owner_loss(head(net->embed(x)), y);
    loss.backward();
    opt.step();
    const double value = loss.item<double>();
    if (step == 0) report.fine_tune_loss_first = value;
    report.fine_tune_loss_last = value;
  }
  for (auto& p : net->parameters()) p.set_requires_grad(true);
  head->eval();
  net->eval();
  net->fold_batch_norm();
}

}  // namespace

OwnerHead train_owner_model(SiameseNet& net, const ChipStore& chips, const std::vector<int>& owner,
                            const std::vector<int>& strangers, const OwnerTrainConfig& c,
                            OwnerTrainReport* out) {
  if (c.fine_tune != "none" && c.fine_tune != "last")
    throw usage_error("unknown fine-tuning mode '" + c.fine_tune + "' (expected none or last)");
  if (c.fit != "bce" && c.fit != "centroid")
    throw usage_error("unknown owner fit '" + c.fit + "' (expected bce or centroid)");
  if (c.fit == "centroid" && (c.fine_tune != "none" || c.hidden != 0))
    throw usage_error(
        "owner fit centroid: the head is the owner's mean embedding (no fine-tuning, no hidden "
        "layer)");
  if (owner.size() < 2 || strangers.empty())
    throw input_error(
        "owner model: needs at least 2 owner photos and one stranger face to train (have " +
        std::to_string(owner.size()) + " and " + std::to_string(strangers.size()) + ")");
  if (c.owner_copies < 1 || c.stranger_copies < 1 || c.head_steps < 1 || c.batch_owner < 1 ||
      c.batch_strangers < 1 || c.fine_tune_steps < 0)
    throw usage_error("owner model: copies, steps and batch sizes must be positive");
  OwnerTrainReport report;
  report.owner_faces = owner.size();
  report.stranger_faces = strangers.size();
  torch::manual_seed(c.seed);
  net->eval();
  net->fold_batch_norm();

  auto t = Clock::now();
  const auto pos =
      embed_augmented(net, chips, owner, c.owner_copies, c.augment, mix_seed(c.seed, 1));
  const auto neg =
      embed_augmented(net, chips, strangers, c.stranger_copies, c.augment, mix_seed(c.seed, 2));
  report.embed_seconds = seconds_since(t);
  report.owner_examples = static_cast<std::size_t>(pos.size(0));
  report.stranger_examples = static_cast<std::size_t>(neg.size(0));

  t = Clock::now();
  OwnerHead head(OwnerHeadConfig{static_cast<int>(pos.size(1)), c.hidden});
  const auto x = torch::cat({pos, neg});
  const auto y = torch::cat({torch::ones({pos.size(0)}), torch::zeros({neg.size(0)})});
  if (c.fit == "centroid") {
    set_centroid(head, pos, neg);
    report.head_loss_first = report.head_loss_last = owner_loss(head(x), y).item<double>();
  } else {
    fit_head(head, x, y, c, report);
  }
  report.head_seconds = seconds_since(t);
  logger()->info(
      "owner head ({}): {} owner and {} stranger examples, class-weighted BCE {:.4f} -> {:.4f} "
      "({:.1f}s embedding, {:.1f}s training)",
      c.fit, report.owner_examples, report.stranger_examples, report.head_loss_first,
      report.head_loss_last, report.embed_seconds, report.head_seconds);

  head->to(device_of(net));
  if (c.fine_tune == "last" && c.fine_tune_steps > 0) {
    t = Clock::now();
    fine_tune_last(net, head, chips, owner, strangers, c, report);
    report.fine_tune_seconds = seconds_since(t);
    logger()->info(
        "fine-tuned {} with the head: {} steps of {}+{} faces, BCE {:.4f} -> {:.4f} ({:.1f}s)",
        report.fine_tuned, c.fine_tune_steps, c.batch_owner, c.batch_strangers,
        report.fine_tune_loss_first, report.fine_tune_loss_last, report.fine_tune_seconds);
  }
  if (out) *out = report;
  return head;
}

torch::Tensor owner_probabilities(OwnerHead& head, const torch::Tensor& embeddings) {
  c10::InferenceMode inference;
  head->eval();
  const auto device = head->parameters().front().device();
  return torch::sigmoid(head(embeddings.to(device))).to(torch::kCPU);
}

torch::Tensor owner_probabilities(SiameseNet& net, OwnerHead& head, const torch::Tensor& chips) {
  return owner_probabilities(head, embed_chips(net, chips, device_of(net)));
}

}  // namespace faceid
