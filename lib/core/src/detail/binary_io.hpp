#pragma once
// Little-endian binary records for faceid's cache files (face cache, embedding cache).
// Reading throws a plain std::runtime_error on any inconsistency; the caches turn it into
// "ignore the file and rebuild".

#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

namespace faceid::detail {

template <typename T>
void put_pod(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

inline void put_str(std::ostream& out, const std::string& s) {
  put_pod(out, static_cast<std::uint32_t>(s.size()));
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

struct Reader {
  std::istream& in;
  template <typename T>
  T pod() {
    T v{};
    if (!in.read(reinterpret_cast<char*>(&v), sizeof v)) throw std::runtime_error("truncated");
    return v;
  }
  std::string str() {
    const auto n = pod<std::uint32_t>();
    if (n > (1u << 20)) throw std::runtime_error("implausible string length");
    std::string s(n, '\0');
    if (n && !in.read(s.data(), n)) throw std::runtime_error("truncated");
    return s;
  }
  void bytes(char* dst, std::size_t n) {
    if (!in.read(dst, static_cast<std::streamsize>(n))) throw std::runtime_error("truncated");
  }
  /// Reads a 4-byte marker and throws unless it is `expected`.
  void marker(const char (&expected)[4], const char* what) {
    char m[4];
    bytes(m, 4);
    if (std::memcmp(m, expected, 4) != 0) throw std::runtime_error(what);
  }
};

}  // namespace faceid::detail
