#include "faceid/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/data.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "faceid/error.hpp"
#include "faceid/log.hpp"
#include "faceid/metrics.hpp"

namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace faceid {

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"epochs", c.epochs}, {"batch_size", c.batch_size}, {"learning_rate", c.learning_rate},
       {"weight_decay", c.weight_decay}, {"owner_pairs_per_epoch", c.owner_pairs},
       {"identity_pairs_per_epoch", c.identity_pairs}, {"val_pairs_per_family", c.val_pairs},
       {"patience", c.patience}, {"workers", c.workers}, {"seed", c.seed}, {"augment", c.augment},
       {"device", c.device}};
}

void to_json(nlohmann::json& j, const EpochMetrics& m) {
  j = {{"epoch", m.epoch}, {"train_loss", m.train_loss}, {"train_accuracy", m.train_accuracy},
       {"val_loss", m.val_loss}, {"val_accuracy", m.val_accuracy}, {"val_precision", m.val_precision},
       {"val_recall", m.val_recall}, {"val_auc", m.val_auc}, {"val_owner_accuracy", m.val_owner_accuracy},
       {"val_score_std", m.val_score_std}, {"seconds", m.seconds}, {"pairs_per_second", m.pairs_per_second},
       {"collapsed", m.collapsed}};
}

void from_json(const nlohmann::json& j, EpochMetrics& m) {
  j.at("epoch").get_to(m.epoch);
  j.at("train_loss").get_to(m.train_loss);
  j.at("train_accuracy").get_to(m.train_accuracy);
  j.at("val_loss").get_to(m.val_loss);
  j.at("val_accuracy").get_to(m.val_accuracy);
  j.at("val_precision").get_to(m.val_precision);
  j.at("val_recall").get_to(m.val_recall);
  j.at("val_auc").get_to(m.val_auc);
  j.at("val_owner_accuracy").get_to(m.val_owner_accuracy);
  j.at("val_score_std").get_to(m.val_score_std);
  j.at("seconds").get_to(m.seconds);
  j.at("pairs_per_second").get_to(m.pairs_per_second);
  j.at("collapsed").get_to(m.collapsed);
}

namespace {

PairCounts counts_for(const PairPool& pool, std::size_t owner, std::size_t identity) {
  return {pool.owner.size() >= 2 && !pool.people.empty() ? owner : 0, identity};
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

// Collapse: the net answers (almost) the same for every pair, or cannot tell pairs apart at all.
bool looks_collapsed(const EpochMetrics& m) {
  return m.val_score_std < 1e-3 || (m.val_auc < 0.52 && std::abs(m.val_accuracy - 0.5) < 0.02);
}

}  // namespace

Trainer::Trainer(SiameseNet net, const FaceSet& faces, const PoolSplit& split, TrainConfig config)
    : net_(std::move(net)), faces_(faces), split_(split), config_(std::move(config)),
      device_(resolve_device(config_.device)) {
  if (config_.batch_size < 1) throw usage_error("batch size must be >= 1");
  if (config_.epochs < 1) throw usage_error("epochs must be >= 1");
  if (faces_.chips.size(1) != net_->config().input_size)
    throw usage_error("chips of " + std::to_string(faces_.chips.size(1)) + " px but the model expects " +
                      std::to_string(net_->config().input_size));
  // Fail now, not after the first epoch, when the split cannot give the pairs.
  sample_pairs(split_.train, counts_for(split_.train, config_.owner_pairs, config_.identity_pairs), 0);
  val_pairs_ = sample_pairs(split_.val, counts_for(split_.val, config_.val_pairs, config_.val_pairs),
                            mix_seed(config_.seed, 0xba1));
  net_->to(device_);
  optimizer_ = std::make_unique<torch::optim::Adam>(
      net_->parameters(), torch::optim::AdamOptions(config_.learning_rate).weight_decay(config_.weight_decay));
}

torch::Tensor Trainer::embed_chips(const std::vector<int>& ids) {
  std::vector<std::int64_t> rows(ids.begin(), ids.end());
  return faceid::embed_chips(net_, faces_.chips.index_select(0, torch::tensor(rows)), device_);
}

void Trainer::validation_scores(std::vector<float>& scores, std::vector<int>& labels, std::vector<PairKind>* kinds) {
  // Embed each distinct chip once, then run the cheap head over the pairs.
  std::vector<int> ids;
  for (const auto& p : val_pairs_) {
    ids.push_back(p.a);
    ids.push_back(p.b);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const auto embeddings = embed_chips(ids);
  auto row = [&](int id) { return std::lower_bound(ids.begin(), ids.end(), id) - ids.begin(); };
  std::vector<long> ia, ib;
  for (const auto& p : val_pairs_) {
    ia.push_back(row(p.a));
    ib.push_back(row(p.b));
  }
  torch::NoGradGuard no_grad;
  const auto e1 = embeddings.index_select(0, torch::tensor(ia)).to(device_);
  const auto e2 = embeddings.index_select(0, torch::tensor(ib)).to(device_);
  const auto p = torch::sigmoid(net_->head(e1, e2)).to(torch::kCPU).contiguous();
  scores.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  labels.clear();
  if (kinds) kinds->clear();
  for (const auto& pair : val_pairs_) {
    labels.push_back(pair.label > 0.5f);
    if (kinds) kinds->push_back(pair.kind);
  }
}

void Trainer::evaluate(EpochMetrics& m) {
  std::vector<float> scores;
  std::vector<int> labels;
  std::vector<PairKind> kinds;
  validation_scores(scores, labels, &kinds);
  const auto c = confusion_at(scores, labels, 0.5f);
  m.val_accuracy = c.accuracy();
  m.val_precision = c.precision();
  m.val_recall = c.recall();
  m.val_auc = auc(scores, labels);
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
      owner_right += (scores[i] >= 0.5f) == (labels[i] == 1);
    }
  m.val_owner_accuracy = owner ? static_cast<double>(owner_right) / owner : -1;
  m.collapsed = looks_collapsed(m);
}

bool Trainer::run_epoch(int epoch, EpochProgress& progress, const TrainHooks& hooks, EpochMetrics& m) {
  const auto start = std::chrono::steady_clock::now();
  const auto pairs = sample_pairs(split_.train, counts_for(split_.train, config_.owner_pairs, config_.identity_pairs),
                                  mix_seed(config_.seed, static_cast<std::uint64_t>(epoch)));
  const std::size_t batch = static_cast<std::size_t>(config_.batch_size);
  const std::size_t batches = (pairs.size() + batch - 1) / batch;
  const std::size_t offset = std::min(progress.next_batch * batch, pairs.size());
  std::vector<Pair> rest(pairs.begin() + static_cast<long>(offset), pairs.end());
  const std::size_t rest_size = rest.size();
  auto loader = torch::data::make_data_loader(
      PairDataset(faces_.chips, std::move(rest), config_.augment, mix_seed(config_.seed, 1'000'000u + epoch), offset)
          .map(torch::data::transforms::Stack<>()),
      torch::data::samplers::SequentialSampler(rest_size),
      torch::data::DataLoaderOptions(batch).workers(static_cast<std::size_t>(std::max(0, config_.workers))).enforce_ordering(true));

  net_->train();
  std::size_t seen = offset;
  for (auto& b : *loader) {
    const auto data = b.data.to(device_), target = b.target.to(device_);
    const auto logits = net_->forward(data.select(1, 0), data.select(1, 1));
    const auto loss = F::binary_cross_entropy_with_logits(logits, target);
    optimizer_->zero_grad();
    loss.backward();
    optimizer_->step();
    const auto n = static_cast<std::size_t>(target.size(0));
    seen += n;
    progress.loss_sum += loss.item<double>() * n;
    progress.correct += ((logits > 0) == (target > 0.5f)).sum().item<double>();
    ++progress.next_batch;
    if (hooks.on_batch) hooks.on_batch(epoch, progress.next_batch, batches, progress.loss_sum / seen);
    if (hooks.stop && hooks.stop->load() && progress.next_batch < batches) return false;
  }
  m = EpochMetrics{};
  m.epoch = epoch;
  m.train_loss = seen ? progress.loss_sum / seen : 0;
  m.train_accuracy = seen ? progress.correct / seen : 0;
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.pairs_per_second = train_seconds > 0 ? (seen - offset) / train_seconds : 0;
  evaluate(m);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

void Trainer::save_checkpoint(int epoch, const EpochProgress& progress, const TrainResult& result) {
  if (config_.checkpoint.empty()) return;
  torch::serialize::OutputArchive archive, model, optimizer, best;
  net_->save(model);
  optimizer_->save(optimizer);
  for (std::size_t i = 0; i < best_weights_.size(); ++i) best.write(std::to_string(i), best_weights_[i]);
  archive.write("model", model);
  archive.write("optimizer", optimizer);
  archive.write("best", best);
  nlohmann::json state = {{"epoch", epoch}, {"next_batch", progress.next_batch}, {"loss_sum", progress.loss_sum},
                          {"correct", progress.correct}, {"best_epoch", result.best_epoch}, {"history", result.history},
                          {"best_count", best_weights_.size()}, {"config", config_}};
  archive.write("state", c10::IValue(state.dump()));
  std::error_code ec;
  fs::create_directories(config_.checkpoint.parent_path(), ec);
  const fs::path tmp = config_.checkpoint.string() + ".tmp";
  archive.save_to(tmp.string());
  fs::rename(tmp, config_.checkpoint, ec);
  if (ec) throw input_error(config_.checkpoint.string() + ": cannot write checkpoint: " + ec.message());
}

void Trainer::load_checkpoint(int& epoch, EpochProgress& progress, TrainResult& result) {
  const auto& file = config_.checkpoint;
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec))
    throw model_error((file.empty() ? std::string("(none)") : file.string()) + ": no checkpoint to resume from");
  try {
    torch::serialize::InputArchive archive, model, optimizer, best;
    archive.load_from(file.string(), device_);
    c10::IValue state_value;
    archive.read("state", state_value);
    const auto state = nlohmann::json::parse(state_value.toStringRef());
    nlohmann::json now = config_;
    for (const char* key : {"batch_size", "seed", "owner_pairs_per_epoch", "identity_pairs_per_epoch", "augment"})
      if (state.at("config").at(key) != now.at(key))
        throw model_error(file.string() + ": checkpoint was made with another " + std::string(key) +
                          " (" + state.at("config").at(key).dump() + ")");
    archive.read("model", model);
    net_->load(model);
    net_->use_channels_last();
    archive.read("optimizer", optimizer);
    optimizer_->load(optimizer);
    archive.read("best", best);
    best_weights_.clear();
    for (std::size_t i = 0; i < state.at("best_count").get<std::size_t>(); ++i) {
      torch::Tensor t;
      best.read(std::to_string(i), t);
      best_weights_.push_back(t);
    }
    epoch = state.at("epoch").get<int>();
    progress.next_batch = state.at("next_batch").get<std::size_t>();
    progress.loss_sum = state.at("loss_sum").get<double>();
    progress.correct = state.at("correct").get<double>();
    result.best_epoch = state.at("best_epoch").get<int>();
    result.history = state.at("history").get<std::vector<EpochMetrics>>();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw model_error(file.string() + ": cannot resume from checkpoint: " + what.substr(0, what.find('\n')));
  }
}

TrainResult Trainer::fit(const TrainHooks& hooks) {
  const auto start = std::chrono::steady_clock::now();
  TrainResult result;
  int epoch = 1;
  EpochProgress progress;
  if (config_.resume) {
    load_checkpoint(epoch, progress, result);
    logger()->info("resuming at epoch {} batch {} from {}", epoch, progress.next_batch, config_.checkpoint.string());
  }
  // The best epoch has the highest validation AUC; among equal AUCs, the lowest validation loss.
  double best_auc = -1, best_loss = INFINITY;
  for (const auto& m : result.history)
    if (m.epoch == result.best_epoch) best_auc = m.val_auc, best_loss = m.val_loss;
  int collapsed_in_a_row = 0;
  for (; epoch <= config_.epochs; ++epoch) {
    EpochMetrics m;
    if (!run_epoch(epoch, progress, hooks, m)) {
      save_checkpoint(epoch, progress, result);
      result.interrupted = true;
      break;
    }
    progress = EpochProgress{};
    result.history.push_back(m);
    if (m.val_auc > best_auc + 1e-9 || (m.val_auc > best_auc - 1e-9 && m.val_loss < best_loss)) {
      best_auc = m.val_auc;
      best_loss = m.val_loss;
      result.best_epoch = epoch;
      best_weights_ = snapshot(net_);
    }
    collapsed_in_a_row = m.collapsed ? collapsed_in_a_row + 1 : 0;
    if (hooks.on_epoch) hooks.on_epoch(m);
    save_checkpoint(epoch + 1, progress, result);
    if (collapsed_in_a_row >= 2) {
      logger()->error("training collapsed: validation P(same) spread {:.2g}, AUC {:.3f} for 2 epochs; try a lower --lr",
                      m.val_score_std, m.val_auc);
      result.collapsed = true;
      break;
    }
    if (epoch - result.best_epoch >= config_.patience) {
      logger()->info("early stop: no better validation AUC for {} epochs (best: epoch {})", config_.patience,
                     result.best_epoch);
      result.early_stopped = true;
      break;
    }
    if (hooks.stop && hooks.stop->load()) {
      result.interrupted = true;
      break;
    }
  }
  if (!best_weights_.empty()) restore(net_, best_weights_);
  net_->eval();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace faceid
