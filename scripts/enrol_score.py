#!/usr/bin/env python3
"""Score a faceenroll proposal against the truth of scripts/enrol_library.py; print markdown.

    scripts/enrol_score.py OUT/proposal.json OUT/truth.json [--json]

Faces are matched to the truth by their file's name. Owner: the faces of owner.days are the
proposal; one is correct when its photo is a stads photo. Precision counts proposed faces, recall
counts stads photos (one face each) of the library with at least one proposed face, overall and per
capture day (the truth's day; a proposed face counts under the day the proposal gave it). Clustering:
pairwise precision and recall of the groups against the LFW names, on the largest face (index 0)
of each LFW photo only (an LFW photo may show a second person), then with stads and oshoura as two
more identities. Also: the wrong proposals by identity, the groups, the unreadable files, the scan's
times, and where the dates of stads and oshoura faces came from. --json prints the numbers as JSON instead.
"""
import argparse
import collections
import json
import os

OWN = ("stads", "oshoura", "scene", "broken")


def ratio(a, b):
    return round(a / b, 4) if b else None


def pairwise(faces, keep):
    """Pairwise precision/recall of face groups against identities, for faces with keep(identity)."""
    pairs = lambda counts: sum(n * (n - 1) // 2 for n in counts.values())
    group = lambda f: f["group"] if isinstance(f.get("group"), int) and f["group"] >= 0 else ("alone", f["id"])
    sel = [(group(f), f["who"]) for f in faces if f["index"] == 0 and keep(f["who"])]
    both = pairs(collections.Counter(sel))
    grouped = pairs(collections.Counter(g for g, _ in sel))
    same = pairs(collections.Counter(w for _, w in sel))
    return {"faces": len(sel), "identities": len({w for _, w in sel}), "same_pairs": same,
            "grouped_pairs": grouped, "correct_pairs": both,
            "precision": ratio(both, grouped), "recall": ratio(both, same)}


def score(proposal, truth):
    faces = proposal["faces"]
    for f in faces:
        f["who"] = truth.get(os.path.basename(f["file"]), {}).get("identity", "unknown")
    by_id = {f["id"]: f for f in faces}
    proposed = [(d["day"], by_id[i]) for d in proposal["owner"]["days"] for i in d["faces"]]
    stads = {n: t["day"] for n, t in truth.items() if t["identity"] == "stads"}
    found = {os.path.basename(f["file"]) for _, f in proposed if f["who"] == "stads"}

    def owner_row(day=None):
        mine = [f for d, f in proposed if day in (None, d)]
        ok = sum(f["who"] == "stads" for f in mine)
        photos = [n for n, d in stads.items() if day in (None, d)]
        hit = sum(n in found for n in photos)
        return {"day": day or "all", "proposed": len(mine), "correct": ok, "precision": ratio(ok, len(mine)),
                "stads_photos": len(photos), "found": hit, "recall": ratio(hit, len(photos))}

    days = sorted(set(stads.values()) | {d for d, _ in proposed})
    wrong = collections.Counter(f["who"] for _, f in proposed if f["who"] != "stads")
    dates = {}
    for who in ("stads", "oshoura"):
        for f in faces:
            if f["who"] == who:
                t = truth[os.path.basename(f["file"])]
                row = dates.setdefault(f"{who} {t['day']}", {"faces": 0, "exif": 0, "file time": 0, "right_day": 0})
                row["faces"] += 1
                row[f["taken_from"]] = row.get(f["taken_from"], 0) + 1
                row["right_day"] += f["day"] == t["day"]
    broken = {n for n, t in truth.items() if t["identity"] == "broken"}
    # each entry is "path: why"; the file name is before the first ": "
    listed = {os.path.basename(p.split(": ", 1)[0]) for p in proposal["scan"].get("unreadable_files", [])}
    return {
        "owner": [owner_row()] + [owner_row(d) for d in days],
        "wrong": dict(wrong.most_common()),
        "day_mismatch": sum(f["who"] == "stads" and d != stads[os.path.basename(f["file"])] for d, f in proposed),
        "clustering_lfw": pairwise(faces, lambda w: w not in OWN + ("unknown",)),
        "clustering_lfw_owners": pairwise(faces, lambda w: w not in ("scene", "broken", "unknown")),
        "groups": {"count": len(proposal["groups"]), "method": proposal["clustering"]["method"],
                   "cut": proposal["clustering"]["cut"], "owner_groups": [g["id"] for g in proposal["groups"] if g["owner"]],
                   "singletons": sum(g["size"] == 1 for g in proposal["groups"]),
                   "largest": [g["size"] for g in proposal["groups"][:5]]},
        "unreadable": {"count": proposal["scan"]["unreadable"], "files": sorted(listed),
                       "broken_missed": sorted(broken - listed), "not_broken": sorted(listed - broken)},
        "seconds": proposal["scan"]["seconds"],
        "dates": dates,
    }


def markdown(s):
    s = json.loads(json.dumps(s).replace("null", '"-"'))  # undefined ratios (nothing to count) print as -
    out = ["| owner proposal | proposed | correct | precision | stads photos | found | recall |", "|---|---|---|---|---|---|---|"]
    out += [f"| {r['day']} | {r['proposed']} | {r['correct']} | {r['precision']} | {r['stads_photos']} | {r['found']} | {r['recall']} |"
            for r in s["owner"]]
    out += ["", "Wrong proposals: " + (", ".join(f"{w} {n}" for w, n in s["wrong"].items()) or "none")
            + f"; correct proposals filed under another day than the truth's: {s['day_mismatch']}", ""]
    out += ["| clustering (index 0 faces) | faces | identities | same pairs | grouped pairs | correct | precision | recall |",
            "|---|---|---|---|---|---|---|---|"]
    for k, name in (("clustering_lfw", "LFW names"), ("clustering_lfw_owners", "LFW + stads + oshoura")):
        c = s[k]
        out.append(f"| {name} | {c['faces']} | {c['identities']} | {c['same_pairs']} | {c['grouped_pairs']} | "
                   f"{c['correct_pairs']} | {c['precision']} | {c['recall']} |")
    g, u, t = s["groups"], s["unreadable"], s["seconds"]
    out += ["", f"Groups: {g['count']} ({g['method']}, cut {g['cut']}), {g['singletons']} of one face, largest {g['largest']}, "
            f"owner groups {g['owner_groups']}",
            f"Unreadable: {u['count']} {u['files']}; broken files not listed: {u['broken_missed']}; listed but not broken: {u['not_broken']}",
            "Seconds: " + ", ".join(f"{k} {v}" for k, v in t.items()), "",
            "| dates of | faces | exif | file time | right day |", "|---|---|---|---|---|"]
    out += [f"| {k} | {r['faces']} | {r['exif']} | {r['file time']} | {r['right_day']} |" for k, r in sorted(s["dates"].items())]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("proposal")
    ap.add_argument("truth")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON instead of the tables")
    a = ap.parse_args()
    s = score(json.load(open(a.proposal)), json.load(open(a.truth)))
    print(json.dumps(s, indent=1) if a.json else markdown(s))


if __name__ == "__main__":
    main()
