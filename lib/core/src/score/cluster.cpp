#include "faceid/score/cluster.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include "faceid/error.hpp"

namespace faceid {
namespace {

std::uint64_t pairs_of(std::uint64_t n) { return n * (n - (n > 0 ? 1 : 0)) / 2; }

void check_matrix(const std::vector<float>& similarity, int n) {
  if (n < 0 || similarity.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(n))
    throw internal_error("similarity matrix of " + std::to_string(similarity.size()) +
                         " values is not " + std::to_string(n) + " x " + std::to_string(n));
}

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(static_cast<std::size_t>(n)) {
    std::iota(parent.begin(), parent.end(), 0);
  }
  int find(int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(int a, int b) { parent[find(a)] = find(b); }
};

}  // namespace

std::vector<int> number_by_size(const std::vector<int>& groups) {
  std::map<int, std::pair<int, int>> stats;  // group -> (size, first face)
  for (int i = 0; i < static_cast<int>(groups.size()); ++i) {
    auto [it, added] = stats.try_emplace(groups[i], 0, i);
    ++it->second.first;
  }
  std::vector<std::pair<int, std::pair<int, int>>> order(stats.begin(), stats.end());
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first
                                            : a.second.second < b.second.second;
  });
  std::map<int, int> number;
  for (int k = 0; k < static_cast<int>(order.size()); ++k) number[order[k].first] = k;
  std::vector<int> out(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) out[i] = number[groups[i]];
  return out;
}

std::vector<int> chinese_whispers(const std::vector<float>& similarity, int n, float cut,
                                  int passes, std::uint64_t seed) {
  check_matrix(similarity, n);
  std::vector<std::vector<std::pair<int, float>>> neighbours(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j && similarity[static_cast<std::size_t>(i) * n + j] > cut)
        neighbours[i].emplace_back(j, similarity[static_cast<std::size_t>(i) * n + j]);
  std::vector<int> label(static_cast<std::size_t>(n));
  std::iota(label.begin(), label.end(), 0);
  std::vector<int> order = label;
  std::vector<double> weight(static_cast<std::size_t>(n), 0.0);
  std::vector<int> touched;
  std::mt19937_64 rng(seed);
  for (int pass = 0; pass < passes; ++pass) {
    std::shuffle(order.begin(), order.end(), rng);
    bool changed = false;
    for (int i : order) {
      if (neighbours[i].empty()) continue;
      touched.clear();
      for (const auto& [j, w] : neighbours[i]) {
        if (weight[label[j]] == 0) touched.push_back(label[j]);
        weight[label[j]] += w;
      }
      int best = touched.front();
      for (int l : touched)
        if (weight[l] > weight[best]) best = l;
      for (int l : touched) weight[l] = 0;
      if (best != label[i]) {
        label[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return number_by_size(label);
}

std::vector<int> average_linkage(std::vector<float> similarity, int n, float cut) {
  check_matrix(similarity, n);
  // Distances 1 - similarity, in place; slot i holds the group that face i is in while i stays
  // active.
  std::vector<float>& d = similarity;
  for (float& v : d) v = 1 - v;
  std::vector<char> active(static_cast<std::size_t>(n), 1);
  std::vector<int> size(static_cast<std::size_t>(n), 1), chain;
  struct Merge {
    int a, b;
    float height;
  };
  std::vector<Merge> merges;
  auto at = [&](int i, int j) -> float& { return d[static_cast<std::size_t>(i) * n + j]; };
  for (int remaining = n; remaining > 1;) {
    if (chain.empty())
      chain.push_back(
          static_cast<int>(std::find(active.begin(), active.end(), 1) - active.begin()));
    const int a = chain.back();
    const int previous = chain.size() >= 2 ? chain[chain.size() - 2] : -1;
    int b = previous;  // ties go to the previous link, which keeps the chain finite
    for (int k = 0; k < n; ++k)
      if (active[k] && k != a && (b < 0 || at(a, k) < at(a, b))) b = k;
    if (b != previous) {
      chain.push_back(b);
      continue;
    }
    chain.pop_back();
    chain.pop_back();
    merges.push_back({a, b, at(a, b)});
    const float sa = static_cast<float>(size[a]), sb = static_cast<float>(size[b]);
    for (int k = 0; k < n; ++k)
      if (active[k] && k != a && k != b)
        at(b, k) = at(k, b) = (sa * at(a, k) + sb * at(b, k)) / (sa + sb);
    active[a] = 0;
    size[b] += size[a];
    --remaining;
  }
  // The linkage is reducible, so the groups below a height are the merges below it, in any order.
  UnionFind groups(n);
  for (const auto& m : merges)
    if (m.height < 1 - cut) groups.join(m.a, m.b);
  std::vector<int> label(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) label[i] = groups.find(i);
  return number_by_size(label);
}

std::vector<int> cluster_faces(const std::string& method, std::vector<float> similarity, int n,
                               float cut) {
  if (method == "whispers") return chinese_whispers(similarity, n, cut);
  if (method == "average") return average_linkage(std::move(similarity), n, cut);
  throw usage_error("unknown clustering '" + method + "' (whispers or average)");
}

PairwiseAgreement pairwise_agreement(const std::vector<int>& groups,
                                     const std::vector<int>& labels) {
  if (groups.size() != labels.size())
    throw internal_error("pairwise_agreement: " + std::to_string(groups.size()) + " groups for " +
                         std::to_string(labels.size()) + " labels");
  std::map<int, std::uint64_t> by_group, by_label;
  std::map<std::pair<int, int>, std::uint64_t> by_both;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (labels[i] < 0) continue;
    ++by_group[groups[i]];
    ++by_label[labels[i]];
    ++by_both[{groups[i], labels[i]}];
  }
  PairwiseAgreement a;
  for (const auto& [g, c] : by_group) a.predicted += pairs_of(c);
  for (const auto& [l, c] : by_label) a.truth += pairs_of(c);
  for (const auto& [gl, c] : by_both) a.correct += pairs_of(c);
  return a;
}

}  // namespace faceid
