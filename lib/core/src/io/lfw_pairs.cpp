#include "faceid/io/lfw_pairs.hpp"

#include <fstream>
#include <sstream>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

[[noreturn]] void fail(const fs::path& file, int line, const std::string& what) {
  throw input_error(file.string() + ":" + std::to_string(line) + ": " + what);
}

int parse_index(const fs::path& file, int line, const std::string& token) {
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(token, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != token.size() || value < 1)
    fail(file, line, "image index '" + token + "' is not a positive integer");
  return value;
}

std::vector<std::string> split_fields(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

}  // namespace

PairsFile read_pairs_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw input_error(file.string() + ": cannot open pairs file");
  PairsFile result;
  result.path = file;

  std::string text;
  int line = 0;
  // Skip leading blank lines; the first non-blank line is the header.
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, text)) {
    ++line;
    header = split_fields(text);
  }
  if (header.empty()) throw input_error(file.string() + ": empty pairs file");
  if (header.size() > 2) fail(file, line, "header must be 'N' (View 1) or 'folds N' (View 2)");
  if (header.size() == 2) result.folds = parse_index(file, line, header[0]);
  result.per_fold = parse_index(file, line, header.back());

  const std::size_t expected =
      static_cast<std::size_t>(result.folds) * static_cast<std::size_t>(result.per_fold) * 2;
  while (std::getline(in, text)) {
    ++line;
    const auto fields = split_fields(text);
    if (fields.empty()) continue;
    if (result.pairs.size() == expected)
      fail(file, line, "more pairs than the header's " + std::to_string(expected));
    const std::size_t k = result.pairs.size();
    const std::size_t in_fold = k % (2 * static_cast<std::size_t>(result.per_fold));
    const bool want_same = in_fold < static_cast<std::size_t>(result.per_fold);
    LfwPair p;
    p.line = line;
    p.fold = static_cast<int>(k / (2 * static_cast<std::size_t>(result.per_fold)));
    if (fields.size() == 3) {
      p.name1 = p.name2 = fields[0];
      p.index1 = parse_index(file, line, fields[1]);
      p.index2 = parse_index(file, line, fields[2]);
      p.same = true;
    } else if (fields.size() == 4) {
      p.name1 = fields[0];
      p.index1 = parse_index(file, line, fields[1]);
      p.name2 = fields[2];
      p.index2 = parse_index(file, line, fields[3]);
      p.same = false;
    } else {
      fail(file, line,
           "expected 'name n1 n2' or 'name1 n1 name2 n2', got " + std::to_string(fields.size()) +
               " fields");
    }
    if (p.same != want_same)
      fail(file, line,
           std::string("expected a ") + (want_same ? "matched" : "mismatched") +
               " pair here (fold " + std::to_string(p.fold + 1) + ")");
    result.pairs.push_back(std::move(p));
  }
  if (result.pairs.size() != expected)
    throw input_error(file.string() + ": header promises " + std::to_string(expected) +
                      " pairs, found " + std::to_string(result.pairs.size()));
  return result;
}

std::set<std::string> people_in(const PairsFile& file) {
  std::set<std::string> people;
  for (const auto& p : file.pairs) {
    people.insert(p.name1);
    people.insert(p.name2);
  }
  return people;
}

}  // namespace faceid
