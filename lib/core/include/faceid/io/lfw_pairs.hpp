#pragma once
// The LFW pairs files: View 1 (pairsDevTrain.txt / pairsDevTest.txt, header = N matched pairs)
// and View 2 (pairs.txt, header = "folds per_fold"; each fold is per_fold matched pairs then
// per_fold mismatched pairs). Matched lines are `name n1 n2`, mismatched `name1 n1 name2 n2`,
// separated by tabs or spaces; image indices are 1-based.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace faceid {

struct LfwPair {
  std::string name1;
  int index1 = 0;  ///< 1-based, as in the file
  std::string name2;
  int index2 = 0;
  bool same = false;  ///< matched pair (same person)
  int fold = 0;       ///< 0-based fold (always 0 for View 1)
  int line = 0;       ///< 1-based line in the file, for messages
};

struct PairsFile {
  std::filesystem::path path;
  int folds = 1;     ///< 10 for View 2, 1 for View 1
  int per_fold = 0;  ///< matched (= mismatched) pairs per fold
  std::vector<LfwPair> pairs;
};

/// Parses a View 1 or View 2 file. Throws Error(Input) naming the file and the 1-based line for
/// an unreadable file, a bad header, a malformed line (wrong field count, non-positive or
/// non-numeric index, a matched line where a mismatched one belongs or vice versa), or a pair
/// count that does not match the header.
PairsFile read_pairs_file(const std::filesystem::path& file);

/// Every person named in the file (both sides of every pair).
std::set<std::string> people_in(const PairsFile& file);

}  // namespace faceid
