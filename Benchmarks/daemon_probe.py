"""What the Python benchmark drivers (backlog.py, soak.py) read of a running daemon: its
admin socket, and its CPU and memory from /proc."""
import json, os, socket

_clk = os.sysconf("SC_CLK_TCK")


def admin(work, method):
    """One admin request to the daemon whose data directory is WORK/data; its result."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(f"{work}/data/admin.sock")
        s.sendall(json.dumps({"id": 1, "method": method, "params": {}}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    return json.loads(data)["result"]


def cpu_seconds(pid):
    """User + system CPU the process has used, in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _clk


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0
