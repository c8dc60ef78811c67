#!/usr/bin/env python3
"""Writes the synthetic seed corpora of the newer fuzz targets (scores_csv, face_cache,
embedding_cache, face_index, bundle, proposal) into tests/fuzz/corpus/<target>/; the files are committed, this script
says how they were made. Formats: pair_report.hpp, face_cache.hpp, embedding_cache.hpp,
bundle.hpp; the constants (chip size 2, fingerprint and checksum "fuzz", dimension 3, the weights
"fuzz weights\\n") are the targets' own."""
import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def s(text):  # str = u32 length + bytes
    b = text.encode()
    return struct.pack("<I", len(b)) + b


def fnv1a(data):  # faceid's checksum_bytes: FNV-1a from faceid's own offset basis (config.cpp)
    h = 1469598103934665603
    for c in data:
        h = ((h ^ c) * 1099511628211) % (1 << 64)
    return f"{h:016x}"


# Scores of the target's pairs file: A 1/A 2, B 1/B 3 (same), A 1/B 2, C 1/A 2 (different).
write("scores_csv", "ok.csv", "name1,n1,name2,n2,score\nA,1,A,2,0.9\nB,1,B,3,0.8\nA,1,B,2,0.1\nC,1,A,2,-0.5\n")
write("scores_csv", "swapped_crlf.csv", "A,2,A,1,1e-3\r\nB,3,B,1,2\r\n# comment\r\nB,2,A,1,0\r\nA,2,C,1,-7.25\r\n")
write("scores_csv", "missing_pair.csv", "A,1,A,2,0.9\nB,1,B,3,0.8\nA,1,B,2,0.1\n")

# Face cache: chip size 2 (12 bytes per chip), fingerprint "fuzz"; one entry of each status.
def face(path, status, chip=b""):
    return (s(path) + struct.pack("<QqBIf", 1234, 5678, status, 1 if status == 0 else 0, 0.9)
            + s("yunet") + s("" if status == 0 else "no face") + chip)

entries = [face("/p/a.jpg", 0, bytes(range(12))), face("/p/b.jpg", 1), face("/p/c.jpg", 2)]
head = b"FIDC" + struct.pack("<II", 1, 2) + s("fuzz")
write("face_cache", "three.bin", head + struct.pack("<Q", 3) + b"".join(entries) + b"END.")
write("face_cache", "empty.bin", head + struct.pack("<Q", 0) + b"END.")
write("face_cache", "other_fingerprint.bin", b"FIDC" + struct.pack("<II", 1, 2) + s("other") + struct.pack("<Q", 0) + b"END.")

# Embedding cache: model checksum "fuzz", dimension 3.
def embedding(path, values):
    return s(path) + struct.pack("<Qq", 99, 42) + struct.pack("<3f", *values)

head = b"FIDE" + struct.pack("<I", 1) + s("fuzz") + struct.pack("<I", 3)
write("embedding_cache", "two.bin", head + struct.pack("<Q", 2) + embedding("/r/a.jpg", (0.5, -1, 2))
      + embedding("/r/b.jpg", (0, 0, 1)) + b"END.")
write("embedding_cache", "empty.bin", head + struct.pack("<Q", 0) + b"END.")

# Face index: fingerprint "fuzz"; a photo of two faces, one without a face, an unreadable one.
def photo(path, status, faces, message="", taken="2022-09-10 08:56:01", source="exif"):
    out = s(path) + struct.pack("<QqB", 4321, 8765, status) + s(message) + s(taken) + s(source)
    out += struct.pack("<I", len(faces))
    for x, y, w, h in faces:
        out += struct.pack("<4f", x, y, w, h) + struct.pack("<10f", *range(10)) + struct.pack("<Bf", 1, 0.9)
    return out

photos = [photo("/lib/group.jpg", 0, [(10, 20, 30, 40), (50, 20, 25, 30)]), photo("/lib/sky.png", 1, [], taken="", source=""),
          photo("/lib/cut.jpg", 2, [], "truncated", "2021-01-01 00:00:00", "file time")]
head = b"FIDL" + struct.pack("<I", 1) + s("fuzz")
write("face_index", "three.bin", head + struct.pack("<Q", 3) + b"".join(photos) + b"END.")
write("face_index", "empty.bin", head + struct.pack("<Q", 0) + b"END.")

# A proposal of faceenroll scan: two faces of the owner on two days, a stranger.
faces = [{"id": i, "file": f"/lib/{n}.jpg", "index": 0, "box": [10, 20, 30, 40], "taken": t, "taken_from": "exif",
          "day": t[:10], "group": g, "score": sc, "matches": m}
         for i, (n, t, g, sc, m) in enumerate([("a", "2022-09-07 20:00:00", 0, 1.0, True),
                                                ("b", "2022-09-10 08:00:00", 0, 0.2, False),
                                                ("c", "2022-09-10 09:00:00", 1, 0.0, False)])]
proposal = {"library": "/lib", "seeds": "/seeds", "model": "0123456789abcdef", "rule": "P(same) > 0.96 on > 50% of 5 refs",
            "seed_faces": 5, "clustering": {"method": "average", "cut": 0.96, "groups": 2},
            "scan": {"photos": 3, "detected": 3, "from_cache": 0, "unreadable": 0, "no_face": 0, "faces": 3, "embedded": 3,
                     "unreadable_files": [], "seconds": {"detect": 1, "embed": 1, "cluster": 0}},
            "faces": faces,
            "groups": [{"id": 0, "size": 2, "score": 0.6, "matching": 0.5, "owner": False, "faces": [0, 1]},
                       {"id": 1, "size": 1, "score": 0.0, "matching": 0.0, "owner": False, "faces": [2]}],
            "owner": {"faces": 2, "days": [{"day": "2022-09-07", "taken_from": "exif", "faces": [0]},
                                           {"day": "2022-09-10", "taken_from": "exif", "faces": [1]}]}}
write("proposal", "two_days.json", json.dumps(proposal, indent=1))

# model.json naming the target's weights file.
weights = b"fuzz weights\n"
checksum = fnv1a(weights)
model = {"name": "resnet", "input_size": 32, "channels": 3, "embedding_size": 8, "batch_norm": False,
         "dropout": 0.2, "score": "cosine", "flip_average": True, "input_norm": "face"}
preprocess = {"chip_size": 32, "detector": "auto", "score_threshold": 0.7, "max_detect_side": 640,
              "min_face_size": 20, "padding": 0.25, "border_pad": 0.25}
thresholds = {"pair": 0.5, "detection": 0.6, "ratio": 0.3, "owner": 0.5, "target_far": 0.001,
              "min_face": 24, "min_sharpness": 10, "calibration": {"tar": 0.9}}
bundle = {"format": "faceid-model", "format_version": 1, "faceid_version": "0.1.0", "kind": "siamese",
          "model": model, "preprocess": preprocess, "thresholds": thresholds,
          "training": {"lfw": "/data/lfw", "trained_people": ["A", "B"], "seed": 7, "epochs_run": 3},
          "weights": {"file": f"weights-{checksum}.pt", "bytes": len(weights), "fnv1a64": checksum}}
write("bundle", "siamese.json", json.dumps(bundle, indent=2))
old = dict(bundle)  # a bundle from before the kind, the unsure verdict and the training summary
del old["kind"], old["training"]
old["thresholds"] = {k: v for k, v in thresholds.items() if k in ("pair", "detection", "ratio", "target_far")}
old["model"] = {k: model[k] for k in ("name", "input_size", "channels", "embedding_size")}
write("bundle", "old.json", json.dumps(old))
owner = dict(bundle, format_version=2, kind="owner",
             owner={"head": {"embedding_size": 8, "hidden": 4}, "fine_tune": "last", "fit": "bce", "from": "/m/base"})
write("bundle", "owner.json", json.dumps(owner))

# Found by the bundle target: integers written as floats beyond the field's type (undefined
# behaviour in nlohmann's conversion); now refused.
for name, section, key, value in (("float_input_size", "model", "input_size", 1e10),
                                  ("float_format_version", None, "format_version", 1e300),
                                  ("negative_count", "training", "people_train", -2.5)):
    doc = json.loads(json.dumps(bundle))
    (doc[section] if section else doc)[key] = value
    write("bundle", name + ".json", json.dumps(doc))
