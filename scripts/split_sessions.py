#!/usr/bin/env python3
"""Split a folder of photos into capture sessions by capture time, as folders of symbolic links.

    scripts/split_sessions.py SRC OUT [--gap-minutes 60]

The capture time of a photo is read from its name when that is a time-based UUID (version 1, as
webcam capture apps write them: 5a26ba90-2eee-11ed-....jpg), else its modification time. Photos
closer than --gap-minutes to the previous one join its session. Each session becomes
OUT/<YYYY-MM-DD_HHMM> (the time of its first photo, UTC) holding links to its photos; one line per
session is printed. Used to test the owner on another day (owners/stads/positive holds 199 photos
taken minutes after owners/stads/anchor and 98 taken three days later).
"""
import argparse
import datetime
import os
import sys
import uuid

UUID_EPOCH = datetime.datetime(1582, 10, 15, tzinfo=datetime.timezone.utc)


def capture_time(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    try:
        u = uuid.UUID(stem)
        if u.version == 1:
            return UUID_EPOCH + datetime.timedelta(microseconds=u.time // 10)
    except ValueError:
        pass
    return datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(3)  # bad input, as the tools' exit code 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--gap-minutes", type=float, default=60, help="a longer pause starts a new session (default 60)")
    a = ap.parse_args()
    if not os.path.isdir(a.src):
        fail(f"{a.src}: not a folder")
    photos = sorted((capture_time(os.path.join(a.src, f)), f) for f in os.listdir(a.src)
                    if os.path.isfile(os.path.join(a.src, f)) and not f.startswith("."))
    if not photos:
        fail(f"{a.src}: no files")
    sessions = []
    for t, f in photos:
        if sessions and (t - sessions[-1][-1][0]).total_seconds() <= a.gap_minutes * 60:
            sessions[-1].append((t, f))
        else:
            sessions.append([(t, f)])
    src = os.path.abspath(a.src)
    for s in sessions:
        d = os.path.join(a.out, s[0][0].strftime("%Y-%m-%d_%H%M"))
        os.makedirs(d, exist_ok=True)
        for _, f in s:
            link = os.path.join(d, f)
            if not os.path.lexists(link):
                os.symlink(os.path.join(src, f), link)
        print(f"{d}\t{len(s)} photos\t{s[0][0]:%Y-%m-%d %H:%M} - {s[-1][0]:%H:%M}")


if __name__ == "__main__":
    main()
