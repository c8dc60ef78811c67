#!/usr/bin/env python3
"""Build "a library nobody labelled" from the shared data, with its truth, for faceenroll.

    scripts/enrol_library.py OUT [--lfw-people 300] [--seed 1] [--data DIR]

OUT/library/ gets copies under random names (12 hex digits + the original extension) of:
owners/stads/anchor + positive (the owner), owners/oshoura (another person), all photos of
--lfw-people LFW people drawn at random among those with 2+ photos who are not in
lfw_pairs/pairsDevTest.txt (the strangers of a later test), every image under scenes/ (group
photos), and 2 broken files (a JPEG cut to its first 40%, a zero-byte .png).
Capture times come from the owners' version-1 UUID file names (UTC, as scripts/split_sessions.py):
stads copies get an EXIF DateTimeOriginal of it (an APP1 segment written right after SOI), oshoura
copies get no EXIF but a file mtime of it (the file-time fallback). LFW and scene copies keep the
copy's mtime. OUT/truth.json maps each library name to {"source", "identity" ("stads", "oshoura",
an LFW name, "scene" or "broken"), "day" and, for stads, "session"}. OUT/seeds/ gets 5 of the
library's anchor copies (same names, they stay in the library too).
"""
import argparse
import collections
import datetime
import json
import os
import random
import shutil
import struct
import sys
import time
import uuid

UUID_EPOCH = datetime.datetime(1582, 10, 15, tzinfo=datetime.timezone.utc)
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


def uuid_time(path):
    u = uuid.UUID(os.path.splitext(os.path.basename(path))[0])
    if u.version != 1:
        raise ValueError(f"{path}: not a version-1 UUID name")
    return UUID_EPOCH + datetime.timedelta(microseconds=u.time // 10)


def exif_app1(taken):
    """A minimal little-endian APP1/Exif segment: IFD0 holding only the ExifIFDPointer; an Exif
    IFD holding ExifVersion "0230" and DateTimeOriginal (ASCII, 20 bytes with the NUL)."""
    date = taken.strftime("%Y:%m:%d %H:%M:%S").encode() + b"\0"
    exif_ifd = 8 + 2 + 12 + 4                     # after the header and the 1-entry IFD0
    date_at = exif_ifd + 2 + 2 * 12 + 4           # after the 2-entry Exif IFD
    tiff = b"II" + struct.pack("<HI", 42, 8)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, exif_ifd) + struct.pack("<I", 0)
    tiff += struct.pack("<H", 2) + struct.pack("<HHI", 0x9000, 7, 4) + b"0230"
    tiff += struct.pack("<HHII", 0x9003, 2, len(date), date_at) + struct.pack("<I", 0) + date
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def lfw_people(data, rng, n):
    strangers = set()
    with open(os.path.join(data, "lfw_pairs/pairsDevTest.txt")) as f:
        next(f)
        for line in f:
            p = line.split()
            strangers.update([p[0]] if len(p) == 3 else [p[0], p[2]])
    lfw = os.path.join(data, "lfw")
    eligible = sorted(p for p in os.listdir(lfw) if p not in strangers and len(os.listdir(os.path.join(lfw, p))) >= 2)
    if n > len(eligible):
        sys.exit(f"error: --lfw-people {n}: only {len(eligible)} eligible people")
    return rng.sample(eligible, n), len(eligible), len(strangers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--lfw-people", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=os.environ.get("FACEID_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    a = ap.parse_args()
    start = time.time()
    rng = random.Random(a.seed)
    lib, seeds = os.path.join(a.out, "library"), os.path.join(a.out, "seeds")
    if os.path.exists(lib) or os.path.exists(seeds):
        sys.exit(f"error: {a.out} already holds library/ or seeds/: pick a new OUT")
    os.makedirs(lib), os.makedirs(seeds)

    # (source relative to data, truth entry) for every photo, then names drawn for all at once.
    items = []
    for session in ("anchor", "positive"):
        for f in sorted(os.listdir(os.path.join(a.data, "owners/stads", session))):
            items.append((f"owners/stads/{session}/{f}", {"identity": "stads", "session": session}))
    for f in sorted(os.listdir(os.path.join(a.data, "owners/oshoura"))):
        items.append((f"owners/oshoura/{f}", {"identity": "oshoura"}))
    people, eligible, strangers = lfw_people(a.data, rng, a.lfw_people)
    for p in people:
        for f in sorted(os.listdir(os.path.join(a.data, "lfw", p))):
            items.append((f"lfw/{p}/{f}", {"identity": p}))
    for root, _, files in sorted(os.walk(os.path.join(a.data, "scenes"))):
        for f in sorted(files):
            if os.path.splitext(f)[1].lower() in IMAGE_EXT:
                items.append((os.path.relpath(os.path.join(root, f), a.data), {"identity": "scene"}))
    cut = rng.choice([s for s, t in items if s.startswith("lfw/")])
    items.append((cut + " (first 40%)", {"identity": "broken"}))
    items.append(("(zero bytes)", {"identity": "broken"}))

    names = set()
    while len(names) < len(items):
        names.add("%012x" % rng.getrandbits(48))
    names = rng.sample(sorted(names), len(items))
    truth = {}
    for (source, entry), stem in zip(items, names):
        ext = ".png" if source == "(zero bytes)" else os.path.splitext(source.split(" ")[0])[1].lower()
        dst = os.path.join(lib, stem + ext)
        entry = {"source": source, **entry}
        if entry["identity"] == "broken":
            data = b"" if ext == ".png" else open(os.path.join(a.data, cut), "rb").read()
            open(dst, "wb").write(data[: int(len(data) * 0.4)])
        elif entry["identity"] in ("stads", "oshoura"):
            taken = uuid_time(source)
            entry["day"] = taken.strftime("%Y-%m-%d")
            jpeg = open(os.path.join(a.data, source), "rb").read()
            if entry["identity"] == "stads":
                assert jpeg[:2] == b"\xff\xd8", source
                open(dst, "wb").write(jpeg[:2] + exif_app1(taken) + jpeg[2:])
            else:
                open(dst, "wb").write(jpeg)
                os.utime(dst, (taken.timestamp(), taken.timestamp()))
        else:
            shutil.copyfile(os.path.join(a.data, source), dst)
        truth[stem + ext] = entry

    anchors = sorted(n for n, t in truth.items() if t.get("session") == "anchor")
    chosen = rng.sample(anchors, 5)
    for n in chosen:
        shutil.copy2(os.path.join(lib, n), os.path.join(seeds, n))
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)

    kinds = collections.Counter(t["identity"] if t["identity"] in ("stads", "oshoura", "scene", "broken") else "lfw"
                                for t in truth.values())
    print(f"{lib}: {len(truth)} files (seed {a.seed})")
    for k in ("stads", "oshoura", "lfw", "scene", "broken"):
        extra = f" of {a.lfw_people} people (drawn from {eligible} with 2+ photos; {strangers} DevTest people excluded)" if k == "lfw" else ""
        print(f"  {k:8} {kinds[k]:5}{extra}")
    for who in ("stads", "oshoura"):
        days = collections.Counter((t["day"], t.get("session", "-")) for t in truth.values() if t["identity"] == who)
        how = "EXIF DateTimeOriginal" if who == "stads" else "file mtime, no EXIF"
        print(f"  {who} days ({how}): " + ", ".join(f"{d} {s} {c}" for (d, s), c in sorted(days.items())))
    print(f"{seeds}: {len(chosen)} anchor photos: {' '.join(chosen)}")
    print(f"{os.path.join(a.out, 'truth.json')}; {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
