#pragma once
// Shared by the caches keyed by file path (embedding cache, face index): dropping the entries of
// files no longer asked for.

#include <set>
#include <string>
#include <vector>

namespace faceid::detail {

/// Erases the entries of `entries` (a map keyed by path) whose path is not the `path` of one of
/// `keep` (FileKeys); returns how many.
template <typename Map, typename Key>
std::size_t retain_paths(Map& entries, const std::vector<Key>& keep) {
  std::set<std::string> paths;
  for (const auto& k : keep) paths.insert(k.path);
  std::size_t dropped = 0;
  for (auto it = entries.begin(); it != entries.end();) {
    if (paths.count(it->first)) {
      ++it;
    } else {
      it = entries.erase(it);
      ++dropped;
    }
  }
  return dropped;
}

}  // namespace faceid::detail
