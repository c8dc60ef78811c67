#include "faceid/model/losses.hpp"

#include <cmath>

#include <torch/nn/functional/normalization.h>
#include <torch/torch.h>

#include "faceid/error.hpp"

namespace F = torch::nn::functional;

namespace faceid {

torch::Tensor margin_logits(const torch::Tensor& cosines, const torch::Tensor& labels,
                            const MarginConfig& config) {
  const auto onehot = torch::zeros_like(cosines).scatter_(1, labels.view({-1, 1}), 1.0);
  torch::Tensor target;
  if (config.kind == "cosface") {
    target = cosines - config.margin;
  } else if (config.kind == "arcface") {
    // cos(θ + m), kept monotonic past θ = π - m as in the ArcFace paper (easy-margin off).
    const auto c = cosines.clamp(-1 + 1e-6, 1 - 1e-6);
    const auto sin = (1 - c * c).sqrt();
    const double cm = std::cos(config.margin), sm = std::sin(config.margin);
    const double th = std::cos(M_PI - config.margin),
                 mm = std::sin(M_PI - config.margin) * config.margin;
    target = torch::where(c > th, c * cm - sin * sm, c - mm);
  } else {
    throw usage_error("unknown identity loss '" + config.kind +
                      "' (expected cosface, arcface or none)");
  }
  return (onehot * target + (1 - onehot) * cosines) * config.scale;
}

MarginHeadImpl::MarginHeadImpl(int classes, int embedding_size, MarginConfig config)
    : config_(std::move(config)) {
  if (config_.kind != "cosface" && config_.kind != "arcface")
    throw usage_error("unknown identity loss '" + config_.kind + "' (expected cosface or arcface)");
  if (classes < 2) throw usage_error("an identity loss needs at least 2 identities");
  weight_ = register_parameter("weight", torch::randn({classes, embedding_size}) * 0.01);
}

torch::Tensor MarginHeadImpl::forward(const torch::Tensor& embeddings,
                                      const torch::Tensor& labels) {
  const auto opts = F::NormalizeFuncOptions().dim(1);
  const auto cosines = torch::mm(F::normalize(embeddings, opts), F::normalize(weight_, opts).t());
  return margin_logits(cosines, labels, config_);
}

BatchPairs in_batch_pairs(const torch::Tensor& embeddings, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const auto n = embeddings.size(0);
  const auto e = F::normalize(embeddings.detach(), F::NormalizeFuncOptions().dim(1));
  const auto same = labels.view({-1, 1}) == labels.view({1, -1});
  // Positives: the strict upper triangle of `same`.
  const auto upper = torch::ones({n, n}, torch::kBool).triu(1).to(labels.device());
  const auto pos = (same & upper).nonzero();
  // Hardest negatives: the most similar row of another label, for every row that has one.
  const auto sim = torch::mm(e, e.t()).masked_fill(same, -4.0);
  const auto [best, idx] = sim.max(1);
  const auto has_negative = best > -2.0;
  const auto rows = torch::arange(n, labels.options()).masked_select(has_negative);
  const auto negs = idx.masked_select(has_negative);
  BatchPairs p;
  p.a = torch::cat({pos.select(1, 0), rows});
  p.b = torch::cat({pos.select(1, 1), negs});
  p.target = torch::cat({torch::ones({pos.size(0)}), torch::zeros({rows.size(0)})})
                 .to(embeddings.device());
  return p;
}

void MarginHeadImpl::imprint(const torch::Tensor& centres) {
  if (centres.sizes() != weight_.sizes())
    throw internal_error("MarginHead::imprint: centres of another shape than the class weights");
  torch::NoGradGuard no_grad;
  weight_.copy_(F::normalize(centres.to(weight_.device()), F::NormalizeFuncOptions().dim(1)));
}

}  // namespace faceid
