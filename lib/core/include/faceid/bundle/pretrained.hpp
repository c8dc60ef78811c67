#pragma once
// Pretrained weights from outside: the face descriptor of the npm package @vladmandic/face-api
// (MIT; a TF.js port of dlib's public-domain face-recognition ResNet, trained on ~3 million
// faces), installed by scripts/setup.sh from a lock file into pretrained/face-api/.
//
//   const auto dir = find_face_api_model({});          // flag, $FACEID_FACE_API, or the default
//   nlohmann::json provenance;
//   SiameseNet net = import_face_api(dir, &provenance);  // a dlib-resnet, descriptors as face-api
//
// The TF.js format: a weights manifest (JSON: groups of "paths" to binary shards and "weights",
// each with a name, shape, dtype and optional "quantization" {dtype uint8/uint16, min, scale})
// and the shards' bytes, the tensors one after the other in manifest order, row-major, filters
// in TF's [h, w, in, out] layout. Quantised values are min + scale * q.
//
// The model trained on faces outside LFW (FaceScrub, VGG, scraped photos): LFW figures of a model
// started from it belong to LFW's "labeled outside data" protocol.

#include <filesystem>
#include <map>
#include <string>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "faceid/config.hpp"
#include "faceid/model/model.hpp"

namespace faceid {

/// The npm package and version scripts/setup.sh installs (pretrained/face-api/package.json).
inline constexpr const char* kFaceApiPackage = "@vladmandic/face-api";
inline constexpr const char* kFaceApiVersion = "1.7.15";
/// The descriptor's files inside the package's model/ folder.
inline constexpr const char* kFaceApiManifest = "face_recognition_model-weights_manifest.json";

/// Every tensor of a TF.js weights manifest, dequantised to float32 on the CPU, by name, in the
/// manifest's shape. Throws Error(Model) naming the file for: a missing or unparsable manifest,
/// a missing or short shard, an unknown dtype or quantisation, a malformed entry.
std::map<std::string, torch::Tensor> read_tfjs_weights(const std::filesystem::path& manifest);

/// The face-api model folder: `hint` when given, else $FACEID_FACE_API, else
/// pretrained/face-api/node_modules/@vladmandic/face-api/model under the working directory or
/// under this source tree. Throws Error(Model) when none holds the manifest, saying to run
/// scripts/setup.sh.
std::filesystem::path find_face_api_model(const std::filesystem::path& hint);

/// A dlib-resnet SiameseNet (default_model("dlib-resnet")) holding the face-api descriptor's
/// weights from `model_dir`: its descriptor() equals face-api's computeFaceDescriptor on the same
/// chip. Fills `provenance` (when given) with the package, version, licence, the weights file and
/// its checksum. Throws Error(Model) naming the file for a missing or corrupt package, a tensor
/// missing, unexpected or of another shape.
SiameseNet import_face_api(const std::filesystem::path& model_dir,
                           nlohmann::json* provenance = nullptr);

/// `base` with what the descriptor expects: 150 px chips aligned to dlib's face chip (the "dlib"
/// template, padding 0.25).
PreprocessConfig face_api_preprocess(PreprocessConfig base);

}  // namespace faceid
