#!/usr/bin/env python3
# A real HTTP receiver for the perf-alert tests: every POST is appended as
# one line {"path":..., "key":..., "body":..., "headers":{...}} to OUT
# (body: the JSON it sent, or its text when it is not JSON). While the
# file FAIL exists, requests are answered 503 (or the status written in
# it; "STATUS TEXT": only the requests whose body holds TEXT, the others
# are taken); while HANG exists, requests are held (so a test can kill
# the sender mid-delivery).
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, out, fail, hang = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        while os.path.exists(hang):
            time.sleep(0.05)
        status = None
        if os.path.exists(fail):
            with open(fail) as f:
                status, _, text = f.read().strip().partition(" ")
            if text and text.encode() not in body:
                status = None
        if status is not None:
            self.send_response(int(status) if status.isdigit() else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        rec = {"path": self.path, "key": self.headers.get("Idempotency-Key"),
               "body": parsed, "headers": dict(self.headers.items())}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
