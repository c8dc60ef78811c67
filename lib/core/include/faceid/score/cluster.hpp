#pragma once
// Grouping faces into people without labels (docs/enrol.md): two graph clusterings over a
// symmetric similarity matrix (the model's score of every pair of faces, higher = more alike),
// and the pairwise precision/recall that measures a clustering against known names. No LibTorch.
//
//   std::vector<int> people = chinese_whispers(similarity, n, cut);
//   PairwiseAgreement a = pairwise_agreement(people, names);

#include <cstdint>
#include <string>
#include <vector>

namespace faceid {

/// Chinese whispers (Biemann 2006, as in dlib): every face starts as its own group; in random
/// order, each takes the group with the largest summed similarity among its neighbours (the faces
/// it scores above `cut` with), `passes` times over all faces. `similarity` is n x n, row-major.
/// Returns a group per face, numbered from 0 by size, largest first (ties: first face first).
std::vector<int> chinese_whispers(const std::vector<float>& similarity, int n, float cut,
                                  int passes = 20, std::uint64_t seed = 1);

/// Agglomerative clustering with average linkage (UPGMA, by the nearest-neighbour chain: O(n^2)
/// time, working in the matrix it is given): groups merge while the mean similarity of their
/// faces' pairs is above `cut`. Numbered like chinese_whispers.
std::vector<int> average_linkage(std::vector<float> similarity, int n, float cut);

/// The clustering named by `method`: "whispers" or "average". Throws Error(Usage) for another.
std::vector<int> cluster_faces(const std::string& method, std::vector<float> similarity, int n,
                               float cut);

/// Renumbers groups by size, largest first (ties: the group of the earliest face first).
std::vector<int> number_by_size(const std::vector<int>& groups);

/// How a clustering agrees with the truth over all pairs of faces: a pair is "predicted" when
/// both are in one group, "true" when both have the same label.
struct PairwiseAgreement {
  std::uint64_t predicted = 0, truth = 0, correct = 0;
  double precision() const { return predicted ? static_cast<double>(correct) / predicted : 1.0; }
  double recall() const { return truth ? static_cast<double>(correct) / truth : 1.0; }
};

/// Counts by group sizes, not by listing pairs. `groups` and `labels` have one entry per face;
/// faces with a negative label (unknown identity) are left out of both counts.
PairwiseAgreement pairwise_agreement(const std::vector<int>& groups,
                                     const std::vector<int>& labels);

}  // namespace faceid
