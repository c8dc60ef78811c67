#include "faceid/train/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace faceid {

double Schedule::at(double progress) const {
  const double p = std::clamp(progress, 0.0, 1.0);
  if (warmup > 0 && p < warmup) return base * std::max(p / warmup, 1e-3);
  const double t = warmup < 1 ? (p - warmup) / (1 - warmup) : 1.0;
  return base * (floor + (1 - floor) * 0.5 * (1 + std::cos(M_PI * t)));
}

double training_progress(double elapsed_s, double budget_s, long step, long steps) {
  if (budget_s > 0) return std::clamp(elapsed_s / budget_s, 0.0, 1.0);
  return steps > 0 ? std::clamp(static_cast<double>(step) / static_cast<double>(steps), 0.0, 1.0)
                   : 1.0;
}

}  // namespace faceid
