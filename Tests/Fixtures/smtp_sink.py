#!/usr/bin/env python3
"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts.

Usage: smtp_sink.py DIR   (prints "PORT <n>" once listening)

While a file named `reject` exists in DIR, every recipient is refused with
"550 5.7.1 Relaying denied" (a mail server that is misconfigured, then fixed).

Each accepted message is written to DIR as <n>.eml (the raw message as received) and
<n>.json (envelope sender and recipients), the .json last, so a reader that sees it sees
the whole message.
"""
import json
import os
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller

directory = sys.argv[1]
lock = threading.Lock()
serial = [0]


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(directory, "reject")):
            return f"550 5.7.1 Relaying denied for <{address}>"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            serial[0] += 1
            n = serial[0]
        with open(os.path.join(directory, f"{n}.eml"), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(os.path.join(directory, f"{n}.json.tmp"), "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        os.rename(os.path.join(directory, f"{n}.json.tmp"), os.path.join(directory, f"{n}.json"))
        return "250 Message accepted"


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(f"PORT {port}", flush=True)
while True:
    time.sleep(3600)
