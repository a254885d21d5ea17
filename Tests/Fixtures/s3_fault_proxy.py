#!/usr/bin/env python3
"""A loopback proxy in front of moto_server that injects S3 faults on request.

Usage: s3_fault_proxy.py UPSTREAM_PORT   (prints "PORT <n>" once ready)

Requests are forwarded to 127.0.0.1:UPSTREAM_PORT unchanged (the Host header too, so
SigV4 signatures still match). POST /__fault with {"mode": "500" | "cut" | "hold", "count": N,
"methods": ["PUT", ...]} makes the next N matching requests fail: "500" answers
InternalError without forwarding; "cut" reads half of the request body and closes the
connection without an answer (a connection cut mid-upload); "hold" keeps the request
waiting (a stalled S3) until POST /__release, then forwards it. GET /__fault reports how
many faults are still armed, how many were injected and how many requests are held now.
"""
import http.client
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
lock = threading.Lock()
state = {"mode": None, "count": 0, "methods": None, "injected": 0, "held": 0}
released = threading.Event()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fault(self):
        with lock:
            if state["count"] <= 0:
                return None
            if state["methods"] and self.command not in state["methods"]:
                return None
            state["count"] -= 1
            state["injected"] += 1
            return state["mode"]

    def _handle(self):
        if self.path.startswith("/__release"):
            self._body()
            with lock:
                state.update(count=0)
            released.set()
        elif self.path.startswith("/__fault") and self.command == "POST":
            config = json.loads(self._body() or b"{}")
            with lock:
                state.update(mode=config.get("mode"), count=config.get("count", 0), methods=config.get("methods"))
            if config.get("mode") == "hold":
                released.clear()
        if self.path.startswith(("/__fault", "/__release")):
            with lock:
                reply = json.dumps({"armed": state["count"], "injected": state["injected"], "held": state["held"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        fault = self._fault()
        if fault == "cut":
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length // 2)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        body = self._body()
        if fault == "hold":
            with lock:
                state["held"] += 1
            released.wait(timeout=120)
            with lock:
                state["held"] -= 1
        if fault == "500":
            reply = b"<Error><Code>InternalError</Code><Message>injected by the test</Message></Error>"
            self.send_response(500)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect")}
        upstream.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST") else None,
                         headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(name, value)
        # HEAD answers carry the object's length, not the (empty) body's.
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
