#!/usr/bin/env bash
# The benchmark (docs/design.md §8): faceid's C++ path and the reference PyTorch (Python) implementation
# of the same network, measured side by side in one run on this machine, as one table.
#   scripts/bench.sh [STEPS]      (build first: scripts/build.sh; data: $FACEID_DATA)
# Rows: fp32 GEMM GFLOP/s (the ceiling), training pairs/s on random tensors (compute only),
# inference faces/s of each architecture (the pretrained dlib-resnet also in bfloat16),
# training pairs/s end to end (faceid: face cache -> pairs -> augmentation; reference: the seed's
# decode + resize of two JPEGs per pair every step), inference embeddings/s, peak RSS, and
# faceverify's cost per face with 50 references: cached embeddings vs the seed's 50 pair-forwards.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-8}
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
threads=$(nproc)
bench=build/bin/facebench
ref="/usr/bin/python3 scripts/bench_reference.py"
out=$(mktemp)
run() { echo "+ $*" >&2; "$@" | tail -n 1 | sed "s/^{/{\"label\": \"$label\", /" >> "$out"; }

label="faceid (OpenBLAS SkylakeX)";  run $bench --what gemm --threads "$threads" -q
label="faceid (OpenBLAS as detected)"; FACEID_NO_TUNE=1 run $bench --what gemm --threads "$threads" -q
label="pytorch (as detected)";       run $ref --what gemm --threads "$threads"
for arch in koch koch-small; do
  label="faceid";                         run $bench --what train --arch $arch --batch 16 --steps "$steps" --threads "$threads" -q
  label="faceid (OpenBLAS as detected)";  FACEID_NO_TUNE=1 run $bench --what train --arch $arch --batch 16 --steps "$steps" --threads "$threads" -q
  label="pytorch";                        run $ref --what train --arch $arch --batch 16 --steps "$steps" --threads "$threads"
  label="pytorch (OpenBLAS SkylakeX)";    OPENBLAS_CORETYPE=SkylakeX run $ref --what train --arch $arch --batch 16 --steps "$steps" --threads "$threads"
  label="faceid";                         run $bench --what e2e --arch $arch --batch 16 --steps "$steps" --threads "$threads" --lfw "$data/lfw" -q
  label="pytorch";                        run $ref --what e2e --arch $arch --batch 16 --steps "$steps" --threads "$threads" --lfw "$data/lfw"
done
# The from-scratch recipe (resnet, P x K = 64 x 2, CosFace + in-batch pair BCE, AdamW), random chips:
# faceid runs its own Trainer (the step facetrain runs, zoom view included).
# glibc's default allocator returns big blocks to the kernel on free, so each step faults in
# fresh pages; faceid keeps freed memory (FACEID_NO_TUNE=1 shows it without). The reference is
# run both as is and with the same allocator setting through GLIBC_TUNABLES.
keep="glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"
label="faceid";                          run $bench --what recipe --batch 128 --steps "$steps" --threads "$threads" -q
label="faceid (glibc allocator as is)";  FACEID_NO_TUNE=1 run $bench --what recipe --batch 128 --steps "$steps" --threads "$threads" -q
label="pytorch";                         run $ref --what recipe --batch 128 --steps "$steps" --threads "$threads"
label="pytorch (freed memory kept)";     GLIBC_TUNABLES=$keep run $ref --what recipe --batch 128 --steps "$steps" --threads "$threads"
for arch in koch resnet dlib-resnet; do
  label="faceid";  run $bench --what embed --arch $arch --steps 4 --threads "$threads" -q
  label="pytorch"; run $ref --what embed --arch $arch --steps 4 --threads "$threads"
done
# The pretrained descriptor in bfloat16 (autocast; AVX512-BF16 where the CPU has it).
label="faceid (bf16 autocast)"; run $bench --what embed --arch dlib-resnet --bf16 --steps 4 --threads "$threads" -q
label="faceid"; run $bench --what verify --arch koch --steps 20 --threads "$threads" --image "$data/scenes/faceapi/bbt1.jpg" -q
label="faceid"; run $bench --what verify --arch resnet --steps 20 --threads "$threads" -q

/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
gemm = max(r["gflops"] for r in rows if r["what"] == "gemm")
flop_per_pair = {"koch": 2 * 3 * 2 * 0.8755e9, "koch-small": 2 * 3 * 2 * 0.2653e9}  # fwd+bwd (~3x fwd) of 2 images
import platform, subprocess
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"machine: {cpu}, {rows[0]['threads']} threads; OPENBLAS_CORETYPE of the faceid rows: {rows[0].get('openblas_coretype')}; "
      f"fp32 GEMM ceiling {gemm:.0f} GFLOP/s (best of the GEMM rows)")
print(f"{'measurement':<34} {'implementation':<32} {'value':>10} {'unit':<9} {'vs pytorch':>10} {'of ceiling':>10} {'peak RSS':>9}")
ref = {}
for r in rows:
    if r["label"] == "pytorch":
        ref[(r["what"], r.get("arch"))] = r
for r in rows:
    what, arch = r["what"], r.get("arch")
    if what == "verify":
        n = f'{r["references"]} ({arch})'
        print(f"{'verify ' + str(n) + ' refs: seed pair-forwards':<34} {'faceid (2 embeddings per ref)':<32} {r['seed_ms_per_face']:>10.1f} {'ms/face':<9}")
        print(f"{'verify ' + str(n) + ' refs: cached refs':<34} {'faceid (1 embedding + head)':<32} {r['cached_ms_per_face']:>10.2f} {'ms/face':<9} {r['speedup']:>9.0f}x {'(vs seed)':>10}")
        print(f"{'  of which embedding / head':<34} {'faceid':<32} {r['embed_ms']:>5.2f} / {r['head_ms']:.3f} {'ms':<9}")
        if "detect_ms" in r:
            print(f"{'detect (' + r['detector'] + ') per image':<34} {'faceid, ' + str(r['faces']) + '-face picture':<32} {r['detect_ms']:>10.1f} {'ms':<9}")
            print(f"{'align per face':<34} {'faceid':<32} {r['align_ms_per_face']:>10.2f} {'ms':<9}")
        continue
    key = {"gemm": "gflops", "train": "pairs_per_second", "e2e": "pairs_per_second", "embed": "faces_per_second",
           "recipe": "images_per_second"}[what]
    unit = {"gemm": "GFLOP/s", "train": "pairs/s", "e2e": "pairs/s", "embed": "faces/s", "recipe": "images/s"}[what]
    name = {"gemm": "GEMM 2048^2 fp32", "train": f"train {arch} b16 compute-only", "e2e": f"train {arch} b16 end-to-end",
            "embed": f"embed {arch} b64 inference", "recipe": "train resnet recipe b128 (faceid: the Trainer step)"}[what]
    base = ref.get((what, arch))
    ratio = f"{r[key] / base[key]:.2f}x" if base and base is not r and what != "gemm" else ""
    util = f"{r[key] * flop_per_pair[arch] / 1e9 / gemm * 100:.0f}%" if what in ("train", "e2e") else ""
    print(f"{name:<34} {r['label']:<32} {r[key]:>10.1f} {unit:<9} {ratio:>10} {util:>10} {r['peak_rss_mb']:>7.0f}MB")
    if "bf16_min_cosine_to_fp32" in r:
        print(f"{'  bf16 embeddings vs fp32':<34} {'lowest cosine over 64 faces':<32} {r['bf16_min_cosine_to_fp32']:>10.5f}")
PY
rm -f "$out"
