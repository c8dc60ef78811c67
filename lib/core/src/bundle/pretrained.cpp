#include "faceid/bundle/pretrained.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "faceid/bundle/bundle.hpp"
#include "faceid/error.hpp"
#include "faceid/log.hpp"
#include "faceid/model/dlib_resnet.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

const char* kSetupHint = "run scripts/setup.sh (it installs the pinned npm package)";

std::string read_bytes(const fs::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw model_error(file.string() + ": " + what + " not found; " + kSetupHint);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Bytes of one stored value of `dtype`.
int value_bytes(const std::string& dtype, const fs::path& manifest) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "uint16") return 2;
  if (dtype == "uint8") return 1;
  throw model_error(manifest.string() + ": unsupported dtype '" + dtype + "'");
}

torch::Tensor decode(const std::string& bytes, std::size_t offset, std::int64_t count,
                     const nlohmann::json& spec, const fs::path& manifest) {
  const std::string dtype = spec.at("dtype").get<std::string>();
  if (dtype != "float32")
    throw model_error(manifest.string() + ": tensor '" + spec.at("name").get<std::string>() +
                      "' is " + dtype + " (the descriptor's tensors are float32)");
  if (!spec.contains("quantization")) {
    auto t = torch::empty({count}, torch::kFloat32);
    std::memcpy(t.data_ptr<float>(), bytes.data() + offset, static_cast<std::size_t>(count) * 4);
    return t;
  }
  const auto& q = spec.at("quantization");
  const std::string qtype = q.at("dtype").get<std::string>();
  const double min = q.at("min").get<double>(), scale = q.at("scale").get<double>();
  torch::Tensor raw;
  if (qtype == "uint8") {
    raw = torch::empty({count}, torch::kUInt8);
    std::memcpy(raw.data_ptr<std::uint8_t>(), bytes.data() + offset,
                static_cast<std::size_t>(count));
  } else if (qtype == "uint16") {
    // uint16 has no LibTorch 1.13 dtype: widen by hand (little-endian).
    raw = torch::empty({count}, torch::kInt32);
    auto* out = raw.data_ptr<std::int32_t>();
    const auto* in = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
    for (std::int64_t i = 0; i < count; ++i) out[i] = in[2 * i] | (in[2 * i + 1] << 8);
  } else {
    throw model_error(manifest.string() + ": unsupported quantization '" + qtype + "'");
  }
  // As TF.js dequantises: q * scale + min in double precision, then rounded to float32.
  return raw.to(torch::kFloat64).mul_(scale).add_(min).to(torch::kFloat32);
}

// The TF.js name of a DlibResNet parameter: "conv32_1.conv1.conv.weight" ->
// "conv32_1/conv1/conv/filters".
std::string tfjs_name(std::string key) {
  for (auto& c : key)
    if (c == '.') c = '/';
  const std::pair<const char*, const char*> suffixes[] = {{"conv/weight", "conv/filters"},
                                                          {"conv/bias", "conv/bias"},
                                                          {"scale_weights", "scale/weights"},
                                                          {"scale_biases", "scale/biases"}};
  for (const auto& [from, to] : suffixes) {
    const std::string f = from;
    if (key.size() >= f.size() && key.compare(key.size() - f.size(), f.size(), f) == 0)
      return key.substr(0, key.size() - f.size()) + to;
  }
  return key;
}

}  // namespace

std::map<std::string, torch::Tensor> read_tfjs_weights(const fs::path& manifest) {
  nlohmann::json groups;
  try {
    groups = nlohmann::json::parse(read_bytes(manifest, "TF.js weights manifest"));
  } catch (const nlohmann::json::exception& e) {
    throw model_error(manifest.string() + ": not a TF.js weights manifest (" + e.what() + "); " +
                      kSetupHint);
  }
  std::map<std::string, torch::Tensor> out;
  try {
    if (!groups.is_array() || groups.empty())
      throw model_error(manifest.string() + ": not a TF.js weights manifest (no weight groups)");
    for (const auto& group : groups) {
      std::string bytes;
      for (const auto& path : group.at("paths"))
        bytes +=
            read_bytes(manifest.parent_path() / path.get<std::string>(), "TF.js weights shard");
      std::size_t offset = 0;
      for (const auto& spec : group.at("weights")) {
        const std::string name = spec.at("name").get<std::string>();
        std::vector<std::int64_t> shape;
        std::int64_t count = 1;
        for (const auto& d : spec.at("shape")) {
          const auto n = d.get<std::int64_t>();
          if (n < 0 || n > (std::int64_t{1} << 28))
            throw model_error(manifest.string() + ": tensor '" + name + "' has a bad shape");
          shape.push_back(n);
          count *= n;
        }
        const std::string stored = spec.contains("quantization")
                                       ? spec.at("quantization").at("dtype").get<std::string>()
                                       : spec.at("dtype").get<std::string>();
        const std::size_t size = static_cast<std::size_t>(count) *
                                 static_cast<std::size_t>(value_bytes(stored, manifest));
        if (offset + size > bytes.size())
          throw model_error(manifest.string() + ": the weights end before tensor '" + name +
                            "' (truncated shard?); " + kSetupHint);
        out[name] = decode(bytes, offset, count, spec, manifest).view(shape);
        offset += size;
      }
      if (offset != bytes.size())
        throw model_error(manifest.string() + ": " + std::to_string(bytes.size() - offset) +
                          " bytes of the weights are not described by the manifest (corrupt?); " +
                          kSetupHint);
    }
  } catch (const nlohmann::json::exception& e) {
    throw model_error(manifest.string() + ": malformed TF.js weights manifest (" + e.what() + ")");
  }
  return out;
}

fs::path find_face_api_model(const fs::path& hint) {
  const fs::path package_model =
      fs::path("pretrained") / "face-api" / "node_modules" / "@vladmandic" / "face-api" / "model";
  std::vector<fs::path> candidates;
  if (!hint.empty()) {
    candidates.push_back(hint);
  } else if (const char* env = std::getenv("FACEID_FACE_API"); env && *env) {
    candidates.push_back(env);
  } else {
    candidates.push_back(package_model);
#ifdef FACEID_SOURCE_DIR
    candidates.push_back(fs::path(FACEID_SOURCE_DIR) / package_model);
#endif
  }
  for (const auto& dir : candidates)
    if (fs::is_regular_file(dir / kFaceApiManifest)) return dir;
  throw model_error(candidates.front().string() + ": no " + kFaceApiManifest +
                    " (the pretrained face-api model); " + kSetupHint +
                    ", or name its model folder with --pretrained or FACEID_FACE_API");
}

SiameseNet import_face_api(const fs::path& model_dir, nlohmann::json* provenance) {
  const fs::path manifest = model_dir / kFaceApiManifest;
  auto weights = read_tfjs_weights(manifest);
  SiameseNet net(default_model("dlib-resnet"));
  torch::NoGradGuard no_grad;
  auto take = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
    const auto it = weights.find(name);
    if (it == weights.end())
      throw model_error(manifest.string() + ": tensor '" + name + "' missing; " + kSetupHint);
    if (it->second.sizes() != torch::IntArrayRef(shape))
      throw model_error(manifest.string() + ": tensor '" + name + "' has shape " +
                        c10::str(it->second.sizes()) + ", expected " +
                        c10::str(torch::IntArrayRef(shape)));
    auto t = it->second;
    weights.erase(it);
    return t;
  };
  for (auto& item : net->named_parameters()) {
    const std::string& key = item.key();
    auto& p = item.value();
    if (key == "embedding.weight") {  // TF: [256, 128] (in, out)
      p.copy_(take("fc", {p.size(1), p.size(0)}).t());
    } else if (key.rfind("features.0.", 0) == 0) {
      const std::string name = tfjs_name(key.substr(std::strlen("features.0.")));
      if (p.dim() == 4)  // TF filters [h, w, in, out] -> [out, in, h, w]
        p.copy_(take(name, {p.size(2), p.size(3), p.size(1), p.size(0)}).permute({3, 2, 0, 1}));
      else
        p.copy_(take(name, p.sizes().vec()));
    }  // the Siamese head ("classifier") is faceid's own: it keeps its initialisation
  }
  if (!weights.empty())
    throw model_error(manifest.string() + ": unexpected tensor '" + weights.begin()->first +
                      "' (not the face recognition model?)");
  if (provenance) {
    nlohmann::json package = nlohmann::json::object();
    const fs::path package_json = model_dir.parent_path() / "package.json";
    try {
      package = nlohmann::json::parse(read_bytes(package_json, "package.json"));
    } catch (const std::exception&) {
      package = nlohmann::json::object();
    }
    const std::string version = package.value("version", std::string("unknown"));
    if (version != kFaceApiVersion)
      logger()->warn("{}: {} version {}, faceid was checked against {}", package_json.string(),
                     kFaceApiPackage, version, kFaceApiVersion);
    // The weights' identity: the manifest and the shard it names (read_tfjs_weights checked both).
    const std::string weights = read_bytes(manifest, "TF.js weights manifest") +
                                read_bytes(model_dir / "face_recognition_model.bin", "weights");
    *provenance = {{"name", "face-api"},
                   {"package", package.value("name", std::string(kFaceApiPackage))},
                   {"version", version},
                   {"licence", package.value("license", std::string("unknown"))},
                   {"origin",
                    "TF.js port of dlib's face recognition ResNet (dlib_face_recognition_resnet_"
                    "model_v1, public domain); trained on faces outside LFW"},
                   {"manifest", fs::absolute(manifest).string()},
                   {"weights_checksum", checksum_bytes(weights)}};
  }
  net->use_channels_last();
  return net;
}

PreprocessConfig face_api_preprocess(PreprocessConfig base) {
  base.chip_size = 150;
  base.alignment = "dlib";
  base.padding = 0.25f;
  return base;
}

}  // namespace faceid
