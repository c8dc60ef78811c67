"""Shared helpers of the web tests: start faceserve on a free loopback port, talk HTTP to it."""

import http.client
import json
import os
import re
import subprocess
import sys
import uuid


def skip(message):
    print("SKIP: " + message)
    sys.exit(77)


def load_fixture(work):
    """The fixture of fixture.sh, or exit 77 when it was skipped (no shared data)."""
    path = os.path.join(work, "fixture.json")
    if not os.path.exists(path):
        skip(f"no fixture in {work}: the shared data was not found (set FACEID_DATA)")
    with open(path) as f:
        return json.load(f)


class Server:
    """faceserve on 127.0.0.1 and a free port, with the fixture's model, references and thresholds."""

    def __init__(self, bin_dir, work, *args, model=None, refs=None, cwd=None, log=None):
        """`model`: another bundle, with its own thresholds (default: the fixture's, with the fixture's)."""
        fixture = load_fixture(work)
        self.log_path = log or os.path.join(work, f"faceserve-{uuid.uuid4().hex[:8]}.log")
        self.log = open(self.log_path, "w")
        thresholds = [] if model else ["--threshold", repr(fixture["threshold"]), "--ratio", repr(fixture["ratio"])]
        command = [os.path.join(bin_dir, "faceserve"), "--model", model or os.path.join(work, "model"),
                   "--refs", refs or os.path.join(work, "refs"), "--port", "0", *thresholds, *args]
        env = dict(os.environ, FACEID_CACHE=os.path.join(work, "cache"))
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=cwd, env=env)
        line = self.proc.stdout.readline()
        match = re.search(r"listening on http://([^:]+):(\d+)/", line)
        if not match:
            self.proc.wait(timeout=30)
            raise RuntimeError(f"faceserve did not start (exit {self.proc.returncode}): {self.log_text()[-2000:]}")
        self.host, self.port = match.group(1), int(match.group(2))
        self.url = f"http://{self.host}:{self.port}"

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers dict with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def verify(self, data, query="", content_type="image/jpeg", multipart=True, filename="photo.jpg"):
        if multipart:
            body, ctype = multipart_body("image", filename, data, content_type)
        else:
            body, ctype = data, content_type
        return self.request("POST", "/api/verify" + query, body, {"Content-Type": ctype})

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data)

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def stop(self, sig=15):
        """Sends `sig` (SIGTERM) and returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.log.close()
        return code


def multipart_body(field, filename, data, content_type="image/jpeg"):
    boundary = "----faceid" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def read(path):
    with open(path, "rb") as f:
        return f.read()
