#include "faceid/data/owner_sessions.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "faceid/data/pairs.hpp"
#include "faceid/error.hpp"

namespace faceid {
namespace {

// Union-find with path halving.
int find_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace

std::uint64_t chip_dhash(const std::vector<std::uint8_t>& rgb, int chip_size) {
  if (chip_size < 9 || rgb.size() != static_cast<std::size_t>(chip_size) * chip_size * 3)
    throw internal_error("chip_dhash: " + std::to_string(rgb.size()) + " bytes is not a " +
                         std::to_string(chip_size) + "^2 x 3 chip");
  double cells[8][9] = {};
  int counts[8][9] = {};
  for (int y = 0; y < chip_size; ++y)
    for (int x = 0; x < chip_size; ++x) {
      const std::uint8_t* p = &rgb[(static_cast<std::size_t>(y) * chip_size + x) * 3];
      const int r = y * 8 / chip_size, c = x * 9 / chip_size;
      cells[r][c] += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
      ++counts[r][c];
    }
  std::uint64_t hash = 0;
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      const double left = cells[r][c] / counts[r][c], right = cells[r][c + 1] / counts[r][c + 1];
      hash = (hash << 1) | (left > right ? 1u : 0u);
    }
  return hash;
}

int hamming_distance(std::uint64_t a, std::uint64_t b) {
  std::uint64_t x = a ^ b;
  int n = 0;
  for (; x; x &= x - 1) ++n;
  return n;
}

std::uint64_t file_content_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(path + ": cannot read");
  std::uint64_t h = 1469598103934665603ull;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  return h;
}

std::vector<int> duplicate_groups(const std::vector<OwnerPhoto>& photos, int max_bits) {
  const int n = static_cast<int>(photos.size());
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto join = [&](int a, int b) { parent[find_root(parent, a)] = find_root(parent, b); };
  // A few hundred photos: all pairs are cheap (n^2/2 popcounts).
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (photos[i].file_hash == photos[j].file_hash ||
          hamming_distance(photos[i].chip_hash, photos[j].chip_hash) <= max_bits)
        join(i, j);
  std::map<int, int> number;
  std::vector<int> groups(n);
  for (int i = 0; i < n; ++i) {
    const int root = find_root(parent, i);
    const auto it = number.emplace(root, static_cast<int>(number.size())).first;
    groups[i] = it->second;
  }
  return groups;
}

OwnerSplit split_owner_photos(const std::vector<OwnerPhoto>& photos, const std::vector<int>& groups,
                              double val_fraction, std::uint64_t seed) {
  if (!(val_fraction >= 0 && val_fraction < 1))
    throw usage_error("validation fraction " + std::to_string(val_fraction) + " outside [0, 1)");
  if (groups.size() != photos.size())
    throw usage_error("split_owner_photos: one group per photo expected");
  OwnerSplit split;
  std::map<int, std::vector<int>> members;  // group -> photo indices
  for (std::size_t i = 0; i < photos.size(); ++i) members[groups[i]].push_back(static_cast<int>(i));
  for (const auto& [g, m] : members)
    if (m.size() > 1) {
      ++split.duplicate_groups;
      split.duplicate_photos += m.size();
    }

  std::set<int> sessions;
  for (const auto& p : photos) sessions.insert(p.session);
  std::vector<bool> held(photos.size(), false);
  if (sessions.size() >= 2 && val_fraction > 0) {
    split.by_session = true;
    std::map<int, std::size_t> size;
    for (const auto& p : photos) ++size[p.session];
    std::size_t held_count = 0;
    std::set<int> held_sessions;
    // The last session first: the most recent capture, or the one the user named last.
    for (auto it = sessions.rbegin();
         it != sessions.rend() && held_sessions.size() + 1 < sessions.size(); ++it) {
      if (!held_sessions.empty() && held_count >= val_fraction * static_cast<double>(photos.size()))
        break;
      held_sessions.insert(*it);
      held_count += size[*it];
    }
    split.held_out_sessions.assign(held_sessions.begin(), held_sessions.end());
    for (std::size_t i = 0; i < photos.size(); ++i)
      held[i] = held_sessions.count(photos[i].session) > 0;
    // A duplicate group with a member in training trains whole: no copy of a training photo is
    // held out.
    for (const auto& [g, m] : members) {
      const bool any_train = std::any_of(m.begin(), m.end(), [&](int i) { return !held[i]; });
      if (!any_train) continue;
      for (const int i : m)
        if (held[i]) {
          held[i] = false;
          ++split.moved_to_train;
        }
    }
  } else if (val_fraction > 0) {
    // One session: whole duplicate groups, shuffled, until the share is reached.
    std::vector<int> order;
    for (const auto& [g, m] : members) order.push_back(g);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(mix_seed(seed, 0x5e55)));
    const auto target =
        static_cast<std::size_t>(std::lround(val_fraction * static_cast<double>(photos.size())));
    std::size_t held_count = 0;
    for (const int g : order) {
      if (held_count >= target) break;
      const auto& m = members[g];
      // Skip a group that would overshoot by more than half of itself (a big burst of frames).
      if (held_count + m.size() > target && held_count + m.size() - target > m.size() / 2 &&
          held_count > 0)
        continue;
      for (const int i : m) held[i] = true;
      held_count += m.size();
    }
  }
  for (std::size_t i = 0; i < photos.size(); ++i)
    (held[i] ? split.val : split.train).push_back(photos[i].chip);
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.val.begin(), split.val.end());
  return split;
}

}  // namespace faceid
