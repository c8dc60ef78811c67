"""faceserve's "Find me in my photos" API over HTTP: the proposal made in the background while the
page is served, the thumbnails, confirm and undo with their refusals, nothing written before a
confirm and never into the library, a proposal that fails, and the start-up checks of the flags.
   enrol_http_test.py BIN_DIR WORK_DIR   (WORK_DIR holds enrol_fixture.sh's output)"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

from serve import Server, load_fixture, skip

bin_dir, work = sys.argv[1], sys.argv[2]
if not os.path.exists(os.path.join(work, "fixture.json")):
    skip(f"no fixture in {work}: the shared data or the face-api package was not found")
fixture = load_fixture(work)
library, seeds, model = fixture["library"], fixture["seeds"], fixture["model"]
owner_files = set(fixture["owner_files"])
failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))
    if not condition:
        failures.append(name)


def snapshot(root):
    """Every file under `root` with its size and modification time."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            st = os.stat(os.path.join(folder, name))
            out[os.path.relpath(os.path.join(folder, name), root)] = (st.st_size, st.st_mtime_ns)
    return out


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, ns in os.walk(root) for n in ns)


def wait_for_proposal(server, timeout=240):
    start = time.time()
    while time.time() - start < timeout:
        status, state = server.json("GET", "/api/enrol")
        if status != 200 or state["state"] != "scanning":
            return status, state, time.time() - start
        time.sleep(0.5)
    return status, state, time.time() - start


def post(server, path, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return server.json("POST", path, data, {"Content-Type": "application/json"})


library_before = snapshot(library)
scratch = tempfile.mkdtemp(prefix="faceserve-enrol-")
into = os.path.join(scratch, "enrolled")
started = time.time()
server = Server(bin_dir, work, "--library", library, "--seeds", seeds, "--enrol-into", into, "--threads", "2",
                model=model, refs=seeds)
try:
    # The page is served at once; the proposal is made in the background.
    status, _, _ = server.request("GET", "/")
    status, state = server.json("GET", "/api/enrol")
    print(f"     first answer {time.time() - started:.1f} s after start: {state['state']}")
    check("page_served_while_scanning", status == 200 and state["state"] in ("scanning", "ready"), state)
    if state["state"] == "scanning":
        check("scanning_state", {"done", "total"} <= set(state), state)
        status, answer = server.json("GET", "/api/enrol/face/0.jpg")
        check("thumbnail_before_ready -> 409", status == 409 and "not ready" in answer["error"], answer)
        status, answer = post(server, "/api/enrol/confirm", {"faces": [0]})
        check("confirm_before_ready -> 409", status == 409, answer)

    status, state, waited = wait_for_proposal(server)
    print(f"     proposal ready after {waited:.1f} s more")
    check("proposal_ready", status == 200 and state["state"] == "ready" and not state["enrolled"]
          and state["into"] == into, state if state.get("state") != "ready" else "")
    p = state["proposal"]
    owner = [i for d in p["owner"]["days"] for i in d["faces"]]
    proposed_files = [p["faces"][i]["file"] for i in owner]
    found = len(set(proposed_files) & owner_files)
    others = [f for f in proposed_files if f not in owner_files]
    print(f"     {len(p['faces'])} faces in {p['scan']['photos']} photos, {len(p['groups'])} groups; "
          f"owner: {len(owner)} faces over {len(p['owner']['days'])} days ({found} of {len(owner_files)} "
          f"owner photos, {len(others)} others: {[os.path.basename(f) for f in others]})")
    check("proposal_finds_the_owner", found >= len(owner_files) * 2 // 3 and len(others) <= 1, (found, others))
    days = {d["day"]: d["taken_from"] for d in p["owner"]["days"]}
    check("days_from_exif_and_file_times", days.get("2022-09-10") == "exif" and
          days.get("2024-05-18") == "file time" and days.get("2024-06-02") == "file time", days)
    check("proposal_scan", p["scan"]["photos"] == len(owner_files) + len(fixture["other_files"])
          and p["seed_faces"] == 5 and p["clustering"]["method"] == "average", p["scan"])
    check("other_people_grouped", any(not g["owner"] and g["size"] >= 2 for g in p["groups"]),
          [(g["size"], g["owner"]) for g in p["groups"]])

    # Thumbnails.
    status, headers, jpeg = server.request("GET", f"/api/enrol/face/{owner[0]}.jpg")
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if status == 200 else None
    check("thumbnail", status == 200 and headers["content-type"] == "image/jpeg" and image is not None
          and 64 <= max(image.shape[:2]) <= 128, (status, headers, None if image is None else image.shape))
    for bad in (str(len(p["faces"])), "99999", "abc", "-1", "1e3"):
        status, answer = server.json("GET", f"/api/enrol/face/{bad}.jpg")
        check(f"thumbnail_of_face_{bad} -> 404", status == 404 and answer["error"], answer)

    # Refusals write nothing.
    stranger = next(i for i, f in enumerate(p["faces"]) if f["file"] not in owner_files and i not in owner)
    for name, body, expected in (("unknown_id", {"faces": [99999]}, 400), ("stranger", {"faces": [stranger]}, 400),
                                 ("none_ticked", {"faces": []}, 400), ("not_json", b"faces=1,2", 400),
                                 ("ids_not_integers", {"faces": ["1"]}, 400), ("no_list", {"ids": [1]}, 400),
                                 ("negatives_not_integers", {"faces": owner, "negatives": ["2"]}, 400),
                                 ("owner_group_as_negatives", {"faces": owner,
                                                               "negatives": [p["faces"][owner[0]]["group"]]}, 400)):
        status, answer = post(server, "/api/enrol/confirm", body)
        check(f"confirm_{name} -> {expected}", status == expected and "\n" not in answer.get("error", "\n"),
              (status, answer))
    status, answer = server.json("POST", "/api/enrol/confirm", json.dumps({"faces": owner}).encode(),
                                 {"Content-Type": "text/plain"})
    check("confirm_as_a_form_post -> 415", status == 415 and "application/json" in answer["error"], (status, answer))
    status, answer = post(server, "/api/enrol/undo", {})
    check("undo_with_nothing -> 409", status == 409 and "nothing to undo" in answer["error"], (status, answer))
    check("nothing_written_before_confirm", not os.path.exists(into), files_under(scratch))

    # Confirm all but one, confirm again, undo, undo again.
    ticked = owner[:-1]
    status, e = post(server, "/api/enrol/confirm", {"faces": ticked})
    written = files_under(into) if os.path.isdir(into) else []
    check("confirm", status == 200 and e["faces"] == len(ticked) and e["written"] == len(e["files"])
          and sorted(e["files"]) == written and "enrolment.json" in written and e["into"] == into, (status, e))
    day_files = [f for f in written if not f.startswith("references/") and f != "enrolment.json"]
    check("confirm_writes_the_ticked_faces", len(day_files) == len(ticked)
          and e["days"] == len({p["faces"][i]["day"] for i in ticked}), day_files)
    status, answer = post(server, "/api/enrol/confirm", {"faces": ticked})
    check("confirm_twice -> 409", status == 409 and "already" in answer["error"], (status, answer))
    status, state = server.json("GET", "/api/enrol")
    check("state_says_enrolled", state.get("enrolled") is True, state.get("enrolled"))
    status, answer = post(server, "/api/enrol/undo", {})
    check("undo", status == 200 and answer["removed"] == e["written"] and files_under(into) == [], (status, answer))
    status, answer = post(server, "/api/enrol/undo", {})
    check("undo_twice -> 409", status == 409, (status, answer))
    status, state = server.json("GET", "/api/enrol")
    check("state_says_not_enrolled", state.get("enrolled") is False, state.get("enrolled"))
    check("library_untouched", snapshot(library) == library_before)
    log = server.log_text()
    check("log_lines", "POST /api/enrol/confirm 200" in log and "enrolment:" in log, log[-600:])
finally:
    code = server.stop()
check("sigterm_exit_0", code == 0, code)

# A proposal that fails (the seeds show no face): said in one line, and the view stays usable.
no_face = os.path.join(scratch, "seeds-without-face")
os.makedirs(no_face)
sky = np.zeros((240, 320, 3), np.uint8)
sky[:] = (200, 160, 120)
cv2.imwrite(os.path.join(no_face, "sky.jpg"), sky)
server = Server(bin_dir, work, "--library", library, "--seeds", no_face, "--enrol-into", into,
                "--cluster", "whispers", model=model, refs=seeds)
try:
    status, state, _ = wait_for_proposal(server)
    check("proposal_error", status == 200 and state["state"] == "error" and state["error"]
          and "\n" not in state["error"], state)
    print(f"     error: {state.get('error')}")
    status, answer = server.json("GET", "/api/enrol/face/0.jpg")
    check("thumbnail_without_proposal -> 409", status == 409 and "no proposal" in answer["error"], answer)
    check("healthz_after_failed_proposal", server.json("GET", "/healthz")[0] == 200)
finally:
    code = server.stop()
check("sigterm_exit_0_after_error", code == 0, code)


def startup(name, expected, args, needle):
    r = subprocess.run([os.path.join(bin_dir, "faceserve"), "--model", model, "--refs", seeds, "--port", "0", *args],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, FACEID_CACHE=os.path.join(work, "cache")))
    ok = r.returncode == expected and needle in r.stderr and r.stderr.count("error: ") == 1
    check(f"startup_{name} -> exit {expected}", ok, f"{r.returncode} {r.stderr[-300:]}")


startup("library_without_seeds", 2, ["--library", library], "--seeds")
startup("seeds_without_library", 2, ["--seeds", seeds], "--library")
startup("missing_library", 2, ["--library", os.path.join(scratch, "absent"), "--seeds", seeds], "absent")
startup("unknown_clustering", 2, ["--library", library, "--seeds", seeds, "--cluster", "kmeans"], "--cluster")
startup("into_inside_the_library", 2, ["--library", library, "--seeds", seeds, "--enrol-into",
                                       os.path.join(library, "enrolled")], "inside the library")
shutil.rmtree(scratch)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
