#include "faceid/bundle/bundle.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <torch/serialize.h>

#include "detail/json_integer.hpp"
#include "faceid/bundle/portable.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace faceid {

namespace {

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw model_error(file.string() + ": cannot read");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::string checksum_bytes(const std::string& bytes) { return fnv1a_hex(bytes); }

void save_bundle(const fs::path& dir, const BundleInfo& info, SiameseNet& net,
                 OwnerHead* owner_head, const torch::Tensor& strangers) {
  const auto& c = net->config();
  if (c.name != info.model.name || c.input_size != info.model.input_size ||
      c.embedding_size != info.model.embedding_size || c.input_norm != info.model.input_norm)
    throw usage_error("save_bundle: network and model config differ");
  const bool owner = info.kind == kOwnerKind;
  if (!owner && info.kind != kSiameseKind)
    throw usage_error("save_bundle: unknown kind '" + info.kind + "'");
  if (owner != (owner_head != nullptr && !owner_head->is_empty()))
    throw usage_error(owner ? "save_bundle: an owner bundle needs its owner head"
                            : "save_bundle: a siamese bundle has no owner head");
  create_folder(dir, "the model folder");

  std::ostringstream weights;
  {
    // CPU copies (portable.hpp): a bundle trained on a GPU loads anywhere.
    torch::serialize::OutputArchive archive;
    save_portable(*net, archive);
    if (owner) {
      torch::serialize::OutputArchive head;
      save_portable(**owner_head, head);
      archive.write("owner_head", head);
    }
    if (strangers.defined()) {
      if (strangers.dim() != 2 || strangers.size(1) != c.embedding_size)
        throw usage_error("save_bundle: stranger embeddings must be [N, embedding size]");
      archive.write("calibration_strangers", cpu_copy(strangers.to(torch::kFloat).contiguous()));
    }
    archive.save_to(weights);
  }
  const std::string bytes = weights.str();
  const std::string checksum = checksum_bytes(bytes);
  const std::string weights_file = "weights-" + checksum + ".pt";
  write_file_atomically(dir / weights_file, "the model weights", bytes);

  write_file_atomically(dir / "model.json", "the model description",
                        bundle_json({info, weights_file, bytes.size(), checksum}).dump(2) + "\n");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("weights-", 0) == 0 && name != weights_file) fs::remove(entry.path(), ec);
  }
}

void to_json(nlohmann::json& j, const TrainingSummary& t) {
  j = {{"lfw", t.lfw},
       {"faces", t.faces},
       {"self", t.self},
       {"owner_photos_train", t.owner_photos_train},
       {"owner_photos_val", t.owner_photos_val},
       {"people_train", t.people_train},
       {"faces_train", t.faces_train},
       {"people_val", t.people_val},
       {"faces_val", t.faces_val},
       {"trained_people", t.trained_people},
       {"validation_people", t.validation_people},
       {"excluded_by", t.excluded_by},
       {"excluded_people", t.excluded_people},
       {"seed", t.seed},
       {"epochs_run", t.epochs_run},
       {"best_epoch", t.best_epoch},
       {"train_seconds", t.train_seconds},
       {"interrupted", t.interrupted},
       {"early_stopped", t.early_stopped},
       {"collapsed", t.collapsed},
       {"budget_reached", t.budget_reached},
       {"date", t.date},
       {"faceid_version", t.faceid_version},
       {"run_dir", t.run_dir},
       {"device", t.device},
       {"best", t.best},
       {"config", t.config},
       {"scoring", t.scoring},
       {"pretrained", t.pretrained}};
}

void from_json(const nlohmann::json& j, TrainingSummary& t) {
  try {
    const TrainingSummary d;
    t.lfw = j.value("lfw", d.lfw);
    t.faces = j.value("faces", d.faces);
    t.self = j.value("self", d.self);
    t.owner_photos_train = detail::json_integer_or(j, "owner_photos_train", d.owner_photos_train);
    t.owner_photos_val = detail::json_integer_or(j, "owner_photos_val", d.owner_photos_val);
    t.people_train = detail::json_integer_or(j, "people_train", d.people_train);
    t.faces_train = detail::json_integer_or(j, "faces_train", d.faces_train);
    t.people_val = detail::json_integer_or(j, "people_val", d.people_val);
    t.faces_val = detail::json_integer_or(j, "faces_val", d.faces_val);
    t.trained_people = j.value("trained_people", d.trained_people);
    t.validation_people = j.value("validation_people", d.validation_people);
    t.excluded_by = j.value("excluded_by", d.excluded_by);
    t.excluded_people = detail::json_integer_or(j, "excluded_people", d.excluded_people);
    t.seed = detail::json_integer_or(j, "seed", d.seed);
    t.epochs_run = detail::json_integer_or(j, "epochs_run", d.epochs_run);
    t.best_epoch = detail::json_integer_or(j, "best_epoch", d.best_epoch);
    t.train_seconds = j.value("train_seconds", d.train_seconds);
    t.interrupted = j.value("interrupted", d.interrupted);
    t.early_stopped = j.value("early_stopped", d.early_stopped);
    t.collapsed = j.value("collapsed", d.collapsed);
    t.budget_reached = j.value("budget_reached", d.budget_reached);
    t.date = j.value("date", d.date);
    t.faceid_version = j.value("faceid_version", d.faceid_version);
    t.run_dir = j.value("run_dir", d.run_dir);
    t.device = j.value("device", d.device);
    t.best = j.value("best", d.best);
    t.config = j.value("config", d.config);
    t.scoring = j.value("scoring", d.scoring);
    t.pretrained = j.value("pretrained", d.pretrained);
  } catch (const nlohmann::json::exception& e) {
    throw model_error(std::string("training summary: ") + e.what());
  }
}

nlohmann::json bundle_json(const BundleManifest& m) {
  const bool owner = m.info.kind == kOwnerKind;
  nlohmann::json j = {
      {"format", "faceid-model"},
      {"format_version", owner ? kOwnerBundleFormatVersion : kBundleFormatVersion},
      {"faceid_version", FACEID_VERSION},
      {"kind", m.info.kind},
      {"model", m.info.model},
      {"preprocess", m.info.preprocess},
      {"thresholds", m.info.thresholds},
      {"training", m.info.training},
      {"weights", {{"file", m.weights_file}, {"bytes", m.weights_bytes}, {"fnv1a64", m.checksum}}}};
  if (owner) j["owner"] = m.info.owner;
  return j;
}

namespace {

// The checks of model.json beyond its fields' types: what would otherwise fail later, deep in
// LibTorch (a net of absurd size) or outside the bundle (a weights path leaving the folder).
void check_manifest(const BundleManifest& m, const std::string& json_file) {
  const auto fail = [&](const std::string& what) { throw model_error(json_file + ": " + what); };
  const ModelConfig& c = m.info.model;
  if (c.input_size != m.info.preprocess.chip_size)
    fail("model input size and preprocessing chip size differ");
  if (c.channels != 3)
    fail("model channels " + std::to_string(c.channels) + ", faceid's chips are RGB (3)");
  if (c.embedding_size < 1 || c.embedding_size > kMaxEmbeddingSize)
    fail("embedding size " + std::to_string(c.embedding_size) + " outside [1, " +
         std::to_string(kMaxEmbeddingSize) + "]");
  if (!(c.dropout >= 0 && c.dropout < 1))
    fail("dropout " + std::to_string(c.dropout) + " outside [0, 1)");
  if (m.info.kind == kOwnerKind) {
    const OwnerHeadConfig& h = m.info.owner.head;
    if (h.embedding_size != c.embedding_size)
      fail("the owner head's embedding size differs from the model's");
    if (h.hidden < 0 || h.hidden > kMaxEmbeddingSize)
      fail("owner head hidden width " + std::to_string(h.hidden) + " outside [0, " +
           std::to_string(kMaxEmbeddingSize) + "]");
  }
  const Thresholds& t = m.info.thresholds;
  for (const auto& [name, value] : {std::pair{"pair", double(t.pair)},
                                    {"detection", double(t.detection)},
                                    {"ratio", double(t.ratio)},
                                    {"owner", double(t.owner)},
                                    {"target_far", t.target_far}})
    if (!(value >= 0 && value <= 1))
      fail(std::string("threshold ") + name + " " + std::to_string(value) + " outside [0, 1]");
  if (t.min_face < 0 || !(t.min_sharpness >= 0)) fail("negative min_face or min_sharpness");
  const fs::path name(m.weights_file);
  if (m.weights_file.empty() || name != name.filename() || name == "." || name == "..")
    fail("weights file '" + m.weights_file + "' is not a file name in the model folder");
}

}  // namespace

BundleManifest read_bundle_manifest(const fs::path& dir) {
  const fs::path json_file = dir / "model.json";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw model_error(dir.string() + ": no such model folder (train one with facetrain)");
  if (!fs::is_regular_file(json_file, ec))
    throw model_error(json_file.string() + ": missing (not a faceid model folder?)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_all(json_file));
  } catch (const nlohmann::json::exception& e) {
    throw model_error(json_file.string() + ": not valid JSON (truncated or corrupt): " + e.what());
  }
  BundleManifest m;
  try {
    // The field errors of the config parsers name the section, not the file: add it.
    try {
      if (j.at("format").get<std::string>() != "faceid-model")
        throw model_error("not a faceid model");
      const int version = detail::json_integer<int>(j, "format_version");
      if (version != kBundleFormatVersion && version != kOwnerBundleFormatVersion)
        throw model_error("format version " + std::to_string(version) + ", this faceid reads " +
                          std::to_string(kBundleFormatVersion) + " and " +
                          std::to_string(kOwnerBundleFormatVersion));
      // Bundles from before the owner kind are siamese.
      m.info.kind = j.value("kind", std::string(kSiameseKind));
      if (m.info.kind != kSiameseKind && m.info.kind != kOwnerKind)
        throw model_error("unknown model kind '" + m.info.kind + "' (expected siamese or owner)");
      if (m.info.kind == kOwnerKind) m.info.owner = j.at("owner").get<OwnerInfo>();
      m.info.model = j.at("model").get<ModelConfig>();
      m.info.preprocess = j.at("preprocess").get<PreprocessConfig>();
      m.info.thresholds = j.at("thresholds").get<Thresholds>();
      m.info.training = j.value("training", nlohmann::json::object()).get<TrainingSummary>();
      m.weights_file = j.at("weights").at("file").get<std::string>();
      m.weights_bytes = detail::json_integer<std::size_t>(j.at("weights"), "bytes");
      m.checksum = j.at("weights").at("fnv1a64").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      throw model_error(std::string("incomplete model description: ") + e.what());
    }
  } catch (const Error& e) {
    throw model_error(json_file.string() + ": " + e.what());
  }
  check_manifest(m, json_file.string());
  return m;
}

std::string read_bundle_weights(const fs::path& dir, const BundleManifest& m) {
  const fs::path weights_path = dir / m.weights_file;
  std::error_code ec;
  if (!fs::is_regular_file(weights_path, ec))
    throw model_error(weights_path.string() + ": weights file missing");
  const std::string bytes = read_all(weights_path);
  if (bytes.size() != m.weights_bytes)
    throw model_error(weights_path.string() + ": " + std::to_string(bytes.size()) +
                      " bytes, expected " + std::to_string(m.weights_bytes) + " (truncated?)");
  if (checksum_bytes(bytes) != m.checksum)
    throw model_error(weights_path.string() + ": checksum mismatch (corrupt weights)");
  return bytes;
}

LoadedBundle load_bundle(const fs::path& dir, torch::Device device) {
  BundleManifest manifest = read_bundle_manifest(dir);
  const std::string bytes = read_bundle_weights(dir, manifest);
  const fs::path weights_path = dir / manifest.weights_file;
  LoadedBundle loaded;
  loaded.info = std::move(manifest.info);
  loaded.checksum = std::move(manifest.checksum);
  try {
    loaded.net = SiameseNet(loaded.info.model);
    // Module::load replaces each tensor wholesale (shape included): check the shapes ourselves.
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (const auto& p : loaded.net->named_parameters())
      expected[p.key()] = p.value().sizes().vec();
    torch::serialize::InputArchive archive;
    std::istringstream in(bytes);
    archive.load_from(in, torch::kCPU);  // moved to `device` below, whatever it was saved from
    loaded.net->load(archive);
    loaded.net->use_channels_last();
    for (const auto& p : loaded.net->named_parameters())
      if (p.value().sizes().vec() != expected.at(p.key()))
        throw model_error(weights_path.string() + ": weights do not fit the '" +
                          loaded.info.model.name + "' architecture of model.json (" + p.key() +
                          " has another shape)");
    if (torch::Tensor strangers; archive.try_read("calibration_strangers", strangers)) {
      if (strangers.dim() != 2 || strangers.size(1) != loaded.info.model.embedding_size)
        throw model_error(weights_path.string() +
                          ": the stranger embeddings do not fit the model's embedding size");
      loaded.strangers = strangers.to(torch::kFloat);
    }
    if (loaded.is_owner()) {
      loaded.owner_head = OwnerHead(loaded.info.owner.head);
      std::map<std::string, std::vector<std::int64_t>> head_shapes;
      for (const auto& p : loaded.owner_head->named_parameters())
        head_shapes[p.key()] = p.value().sizes().vec();
      torch::serialize::InputArchive head;
      if (!archive.try_read("owner_head", head))
        throw model_error(weights_path.string() +
                          ": an owner model's weights without the owner head");
      loaded.owner_head->load(head);
      for (const auto& p : loaded.owner_head->named_parameters())
        if (p.value().sizes().vec() != head_shapes.at(p.key()))
          throw model_error(weights_path.string() +
                            ": the owner head's weights do not fit model.json (" + p.key() +
                            " has another shape)");
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw model_error(weights_path.string() + ": weights do not fit the '" +
                      loaded.info.model.name + "' architecture: " + what);
  }
  loaded.net->to(device);
  loaded.net->eval();
  loaded.net->fold_batch_norm();
  if (loaded.owner_head) {
    loaded.owner_head->to(device);
    loaded.owner_head->eval();
  }
  return loaded;
}

void require_siamese(const LoadedBundle& bundle, const fs::path& dir, const std::string& what) {
  if (!bundle.is_owner()) return;
  std::string hint;
  if (!bundle.info.owner.from.empty())
    hint = "; use the model it was trained from, " + bundle.info.owner.from;
  throw model_error(dir.string() + ": an owner model (one person's classifier, kind \"owner\"); " +
                    what + " needs a siamese model" + hint);
}

}  // namespace faceid
