// libFuzzer target: proposal_from_json on arbitrary bytes (faceenroll confirm reads the
// proposal.json a user may have edited). It either refuses with Error(Input) or returns a proposal
// whose every face id (groups, days) is a face of it, and whose JSON reads back the same.
#include <nlohmann/json.hpp>

#include "faceid/enrol.hpp"
#include "faceid/error.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  faceid::Proposal p;
  try {
    p = faceid::proposal_from_json(doc);
  } catch (const faceid::Error& e) {
    FUZZ_CHECK(e.kind() == faceid::ErrorKind::Input);
    return 0;
  }
  const auto valid = [&](const std::vector<int>& ids) {
    for (const int id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= p.faces.size()) return false;
    return true;
  };
  for (const auto& g : p.groups) FUZZ_CHECK(valid(g.faces));
  for (const auto& d : p.days) FUZZ_CHECK(valid(d.faces));
  const nlohmann::json again = faceid::proposal_json(p);
  FUZZ_CHECK(faceid::proposal_json(faceid::proposal_from_json(again)) == again);
  return 0;
}
