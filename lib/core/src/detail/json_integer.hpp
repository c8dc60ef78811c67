#pragma once
// Integers read from faceid's JSON files (model.json). nlohmann's get<int>() converts a float
// number such as 1e10 with undefined behaviour (found with the UBSan of fuzz_bundle): integer
// fields are read through these instead.

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "faceid/error.hpp"

namespace faceid::detail {

/// `j[key]` as the integer type T. Throws nlohmann's out_of_range when `key` is missing, and
/// Error(Model) naming the key when the value is not an integer number that T can hold.
template <typename T>
T json_integer(const nlohmann::json& j, const char* key) {
  static_assert(std::is_integral_v<T>);
  const nlohmann::json& v = j.at(key);
  using Limits = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(Limits::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if constexpr (std::is_signed_v<T>) {
      if (i >= Limits::min() && i <= Limits::max()) return static_cast<T>(i);
    } else if (i >= 0 && static_cast<std::uint64_t>(i) <= Limits::max()) {
      return static_cast<T>(i);
    }
  }
  throw model_error(std::string(key) + " " + v.dump().substr(0, 40) + " is not an integer from " +
                    std::to_string(Limits::min()) + " to " + std::to_string(Limits::max()));
}

/// json_integer, or `fallback` when `j` has no `key`.
template <typename T>
T json_integer_or(const nlohmann::json& j, const char* key, T fallback) {
  return j.contains(key) ? json_integer<T>(j, key) : fallback;
}

}  // namespace faceid::detail
