#!/usr/bin/env python3
"""A scripted HTTP destination for workflow tests, on loopback.

Usage: destination.py LOG_FILE   (prints "PORT <n>" once listening)

Every request is appended to LOG_FILE as one JSON line: method, path, headers, body,
idempotency_key, the status answered, and when the request arrived (`arrived`) and was
answered (`time`), in seconds since the epoch. Behaviour by path:
  /ok[/...]           200 {"id": "rec-<n>", "received": <request body as JSON or text>}
  /fail/N[/...]       503 for the first N requests with a given Idempotency-Key, then 200
  /status/CODE        answers CODE; ?retry_after=S adds Retry-After: S
  /sleep/MS           waits MS milliseconds, then 200
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

lock = threading.Lock()
counts = {}
serial = [0]
log_file = open(sys.argv[1], "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        arrived = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        key = self.headers.get("Idempotency-Key", "")
        status, extra, reply = 200, {}, None
        with lock:
            serial[0] += 1
            n = serial[0]
            counts[(url.path, key)] = counts.get((url.path, key), 0) + 1
            seen = counts[(url.path, key)]
        if parts[:1] == ["fail"] and len(parts) > 1:
            status = 503 if seen <= int(parts[1]) else 200
        elif parts[:1] == ["status"] and len(parts) > 1:
            status = int(parts[1])
            retry_after = parse_qs(url.query).get("retry_after")
            if retry_after:
                extra["Retry-After"] = retry_after[0]
        elif parts[:1] == ["sleep"] and len(parts) > 1:
            time.sleep(int(parts[1]) / 1000)
        try:
            received = json.loads(body) if body else None
        except ValueError:
            received = body
        if status < 300:
            reply = {"id": f"rec-{n}", "received": received}
        else:
            reply = {"error": f"scripted {status}", "attempt": seen}
        with lock:
            log_file.write(json.dumps({
                "method": self.command, "path": url.path, "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body, "idempotency_key": key, "status": status, "arrived": arrived, "time": time.time(),
            }) + "\n")
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a client opening more connections at once
    # (the engine sends a batch of requests together) would see SYNs dropped and retried
    # a second or more later, under a loaded machine.
    request_queue_size = 128


server = Server(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
