"""faceserve under load on loopback, then under garbage.
   load_test.py BIN_DIR WORK_DIR [--clients 8] [--requests 300] [--malformed 1000] [--image FILE]
                [--model DIR --refs DIR]   (default: the fixture's tiny model and references)

Phase 1: CLIENTS threads, each sending REQUESTS pictures over its own keep-alive connection:
requests/s, p50/p99 latency, errors, server RSS before (after a warm-up) and after. Phase 2:
MALFORMED requests of random bytes, cut-off multipart bodies, huge headers, garbage request lines,
truncated JPEGs and pixel bombs; then /healthz must still answer and a picture still verifies.
Beside it, faceverify's own per-photo cost on the same picture. Exit 1 on any error."""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from serve import Server, load_fixture, multipart_body, read

parser = argparse.ArgumentParser()
parser.add_argument("bin_dir")
parser.add_argument("work")
parser.add_argument("--clients", type=int, default=8)
parser.add_argument("--requests", type=int, default=300, help="per client")
parser.add_argument("--malformed", type=int, default=1000)
parser.add_argument("--image", help="the picture to send (default: the fixture's owner photo)")
parser.add_argument("--threads", type=int, default=0, help="faceserve's and faceverify's --threads (0: all cores)")
parser.add_argument("--workers", type=int, default=2, help="faceserve's --workers")
parser.add_argument("--model")
parser.add_argument("--refs")
args = parser.parse_args()
load_fixture(args.work)
image_path = args.image or os.path.join(args.work, "pictures", "owner.jpg")
image = read(image_path)
thread_flags = ["--threads", str(args.threads)]
server = Server(args.bin_dir, args.work, "--workers", str(args.workers), "--queue", str(args.clients * 2), *thread_flags,
                model=args.model, refs=args.refs)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def client(latencies, errors, faces):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    for _ in range(args.requests):
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/verify", image, {"Content-Type": "image/jpeg"})
            res = conn.getresponse()
            body = res.read()
            if res.status != 200:
                errors.append(res.status)
                continue
            faces.append(len(json.loads(body)["images"][0]["faces"]))
            latencies.append((time.perf_counter() - start) * 1000)
        except (OSError, http.client.HTTPException) as e:
            errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    conn.close()


def malformed(i):
    """One hostile request on a fresh connection; returns the status line or what happened."""
    kind = i % 7
    sock = socket.create_connection((server.host, server.port), timeout=15)
    try:
        if kind == 0:  # random bytes as a picture
            body = os.urandom(random.randint(1, 20000))
            sock.sendall(b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
        elif kind == 1:  # multipart cut off in the middle, connection closed
            body, ctype = multipart_body("image", "a.jpg", image)
            sock.sendall(b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype.encode()
                         + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[: len(body) // 2])
            sock.shutdown(socket.SHUT_WR)
        elif kind == 2:  # a huge header
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"j" * 100000 + b"\r\n\r\n")
        elif kind == 3:  # garbage instead of a request line
            sock.sendall(os.urandom(random.randint(1, 4000)) + b"\r\n\r\n")
        elif kind == 4:  # a truncated JPEG
            body = image[: random.randint(10, len(image) - 10)]
            sock.sendall(b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
        elif kind == 5:  # a pixel bomb's header
            body = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\x00\x00\x00\x01\x00\x00\x08\x02\x00\x00\x00" + os.urandom(64)
            sock.sendall(b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
        else:  # a Content-Length that lies (more than is sent), then silence
            sock.sendall(b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 999999\r\n\r\nabc")
            sock.shutdown(socket.SHUT_WR)
        reply = sock.recv(64)
        return reply.split(b"\r\n")[0].decode(errors="replace") if reply else "closed"
    except OSError as e:
        return type(e).__name__
    finally:
        sock.close()


failed = []
try:
    # Warm up (first requests allocate), then RSS before.
    for _ in range(10):
        server.verify(image, multipart=False)
    rss_before = server.rss_kb()
    latencies, errors, faces = [], [], []
    threads = [threading.Thread(target=client, args=(latencies, errors, faces)) for _ in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    rss_after = server.rss_kb()
    total = args.clients * args.requests
    per_face = statistics.mean(faces) if faces else 0
    print(f"load: {args.clients} clients x {args.requests} requests of {os.path.basename(image_path)} "
          f"({len(image)} bytes, {per_face:.0f} face(s) each); --workers {args.workers} --threads {args.threads}")
    print("| requests | errors | requests/s | p50 ms | p99 ms | max ms | RSS before | RSS after |")
    print("|---|---|---|---|---|---|---|---|")
    if latencies:
        print(f"| {total} | {len(errors)} | {len(latencies) / seconds:.1f} | {percentile(latencies, 50):.0f} | "
              f"{percentile(latencies, 99):.0f} | {max(latencies):.0f} | {rss_before / 1024:.0f} MB | {rss_after / 1024:.0f} MB |")
    if errors:
        failed.append(f"{len(errors)} errors: {errors[:5]}")
    if rss_after > rss_before * 1.5 + 50 * 1024:
        failed.append(f"RSS grew from {rss_before} kB to {rss_after} kB")

    # Garbage.
    outcomes = {}
    lock = threading.Lock()

    def attack(ids):
        for i in ids:
            outcome = malformed(i)
            with lock:
                outcomes[(i % 7, outcome)] = outcomes.get((i % 7, outcome), 0) + 1

    start = time.perf_counter()
    threads = [threading.Thread(target=attack, args=(range(k, args.malformed, 8),)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = ["random bytes", "cut-off multipart", "100 KB header", "garbage request line", "truncated JPEG",
             "pixel bomb", "lying Content-Length"]
    print(f"malformed: {args.malformed} requests in {time.perf_counter() - start:.1f} s")
    for (kind, outcome), n in sorted(outcomes.items()):
        print(f"  {kinds[kind]:22s} {outcome:40s} x{n}")
    status, health = server.json("GET", "/healthz")
    status_ok, _, body = server.verify(image, multipart=False)
    print(f"after: /healthz {status} {health['status']}, verify {status_ok}, RSS {server.rss_kb() / 1024:.0f} MB")
    if status != 200 or status_ok != 200:
        failed.append("the server does not answer after the malformed requests")
finally:
    code = server.stop()
if code != 0:
    failed.append(f"faceserve exited with {code}")

# faceverify's per-photo cost on the same picture: 20 copies in one run, each photo's own timings.
folder = tempfile.mkdtemp(prefix="faceverify-load-")
for i in range(20):
    os.symlink(os.path.abspath(image_path), os.path.join(folder, f"{i:02d}.jpg"))
model = args.model or os.path.join(args.work, "model")
refs = args.refs or os.path.join(args.work, "refs")
r = subprocess.run([os.path.join(args.bin_dir, "faceverify"), "-m", model, "--refs", refs, folder, "--json", "-q", *thread_flags],
                   capture_output=True, text=True, env=dict(os.environ, FACEID_CACHE=os.path.join(args.work, "cache")))
report = json.loads(r.stdout)
costs = [sum(im["timings_ms"].values()) for im in report["images"]]
print(f"faceverify on the same picture, 20 copies in one run: per photo p50 {percentile(costs, 50):.0f} ms, "
      f"p99 {percentile(costs, 99):.0f} ms (decode + detect + align + embed + compare); whole run "
      f"{report['summary']['seconds']:.1f} s with model and reference loading")
for f in os.listdir(folder):
    os.remove(os.path.join(folder, f))
os.rmdir(folder)

for f in failed:
    print("FAIL " + f)
print("load test " + ("failed" if failed else "passed"))
sys.exit(1 if failed else 0)
