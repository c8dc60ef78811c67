#pragma once
// The learning-rate schedule (docs/design.md §4): a linear warm-up, then a cosine decay to a floor.
// Progress is a fraction in [0, 1]: of the planned steps, or of the time budget when training
// runs against the clock (facetrain --time-budget), so the decay ends when the budget does.

namespace faceid {

struct Schedule {
  double base = 2e-3;    ///< peak learning rate
  double warmup = 0.03;  ///< fraction of the run spent warming up linearly from ~0
  double floor = 0.0;    ///< final learning rate, as a fraction of `base`

  /// The learning rate at `progress` (clamped into [0, 1]).
  double at(double progress) const;
};

/// Training progress in [0, 1]: elapsed / budget seconds when budget_s > 0, else step / steps.
double training_progress(double elapsed_s, double budget_s, long step, long steps);

}  // namespace faceid
