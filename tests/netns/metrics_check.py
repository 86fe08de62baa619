"""Helpers for test_metrics.sh, run with a Python that has
prometheus_client (Debian: python3-prometheus-client).

  metrics_check.py parse FILE            families and samples, one per line:
                                         NAME{k=v,...} VALUE (sorted labels)
  metrics_check.py families FILE         the family names, sorted
  metrics_check.py get HOST PORT PATH    HTTP/1.0 GET: prints the status line,
                                         then the body
  metrics_check.py raw HOST PORT HEX     sends bytes, prints what comes back
                                         until the server closes (5 s max)
  metrics_check.py hold HOST PORT N SECS opens N connections, sends nothing,
                                         holds them SECS seconds; prints how
                                         many the server closed in that time
  metrics_check.py notify SOCK SECS CTL  datagram server at SOCK for SECS s:
                                         prints each message; after READY=1 it
                                         asks the control socket CTL (get=1)
                                         and prints whether it answered
"""
import os
import socket
import sys
import time


def parse(path):
    from prometheus_client.parser import text_string_to_metric_families
    with open(path) as f:
        text = f.read()
    fams = list(text_string_to_metric_families(text))
    return fams


def main():
    cmd = sys.argv[1]
    if cmd in ("parse", "families"):
        fams = parse(sys.argv[2])
        if cmd == "families":
            for name in sorted(f.name for f in fams):
                print(name)
            return 0
        for f in fams:
            for s in f.samples:
                labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
                print("%s{%s} %d" % (s.name, labels, int(s.value)))
        return 0
    if cmd == "get":
        host, port, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        print(head.split(b"\r\n")[0].decode())
        sys.stdout.write(body.decode())
        return 0
    if cmd == "raw":
        host, port, payload = sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(payload)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout) as e:
            data += b"[" + type(e).__name__.encode() + b"]"
        print(data.split(b"\r\n")[0].decode(errors="replace"))
        return 0
    if cmd == "hold":
        host, port, n, secs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        conns = [socket.create_connection((host, port), timeout=5) for _ in range(n)]
        for c in conns:
            c.setblocking(False)
        closed = set()
        end = time.time() + secs
        while time.time() < end and len(closed) < n:
            for i, c in enumerate(conns):
                if i in closed:
                    continue
                try:
                    if c.recv(1) == b"":
                        closed.add(i)
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    closed.add(i)
            time.sleep(0.05)
        print(len(closed))
        return 0
    if cmd == "notify":
        path, secs, ctl = sys.argv[2], float(sys.argv[3]), sys.argv[4]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(0.2)
        end = time.time() + secs
        while time.time() < end:
            try:
                msg = s.recv(4096).decode()
            except socket.timeout:
                continue
            print(msg.replace("\n", " | "), flush=True)
            if "READY=1" in msg and "RELOADING=1" not in msg:
                answered = "no"
                try:
                    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    c.settimeout(2)
                    c.connect(ctl)
                    c.sendall(b"get=1\n\n")
                    data = b""
                    while b"errno=" not in data:
                        chunk = c.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if b"errno=0" in data:
                        answered = "yes"
                except OSError:
                    pass
                print("control socket answered at READY: " + answered, flush=True)
            if "STOPPING=1" in msg:
                break
        os.unlink(path)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
