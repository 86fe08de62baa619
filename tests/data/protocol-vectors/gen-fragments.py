#!/usr/bin/env python3
"""Handshake-fragment vectors (docs/PROTOCOL-fragments.md) from the whole
handshake vectors of this directory.

For every record of hybrid.txt and pqonly.txt and each datagram budget in
BUDGETS, the initiation and the response are cut into type-9 fragments
exactly as the specification says, each fragment with its own mac1 (keyed
with HASH("mac1----" || the receiver's static public key)) and mac2 (keyed
with the initiator's cookie_i when the record has one; zero otherwise, and
always zero for the response). Written independently of the C code: only
Python's hashlib (BLAKE2s) and the specification.

    python3 gen-fragments.py > fragments.txt
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ("hybrid.txt", "pqonly.txt")
BUDGETS = (1232, 548)
HEADER_LEN, MACS_LEN = 16, 32


def records(path):
    rec = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line:
                if rec:
                    yield rec
                rec = {}
                continue
            k, v = line.split(" =", 1)
            rec[k] = v[1:] if v.startswith(" ") else v
    if rec:
        yield rec


def HASH(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def MAC(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def cut(msg, budget, receiver_pub, cookie):
    """The fragments of msg under budget (the spec's "The fragment")."""
    total = len(msg)
    L = budget - HEADER_LEN - MACS_LEN
    count = -(-total // L)
    assert total > budget and 2 <= count <= 16
    mac1_key = HASH(b"mac1----", receiver_pub)
    out = []
    for number in range(count):
        offset = number * L
        payload = msg[offset:offset + L]
        frag = (bytes([9, 0, 0, 0]) + msg[4:8] +
                bytes([msg[0], number, count, 0]) +
                total.to_bytes(2, "little") + offset.to_bytes(2, "little") +
                payload)
        frag += MAC(mac1_key, frag)
        frag += MAC(cookie, frag) if cookie else bytes(16)
        assert len(frag) <= budget
        out.append(frag)
    assert b"".join(f[HEADER_LEN:-MACS_LEN] for f in out) == msg
    return out


def main():
    w = sys.stdout.write
    w("# Provenance: made for DyberVPN by tests/data/protocol-vectors/gen-fragments.py "
      "(Python hashlib only) from hybrid.txt and pqonly.txt. Licence: as the project.\n")
    w("# Handshake fragments (protocol 1.1, docs/PROTOCOL-fragments.md): each record cuts the\n"
      "# initiation and the response of one whole-handshake record under one datagram budget.\n"
      "# Sender role: cut `initiation` (`response`) under `budget` with mac1 keyed for the\n"
      "# receiver and compare every fragment byte for byte. Receiver role: check each vector\n"
      "# fragment alone (layout, mac1, mac2), reassemble them in any order and compare the\n"
      "# message with `initiation` (`response`), which the source record shows is accepted.\n"
      "#\n"
      "# Fields:\n"
      "#   tcId: record number (decimal)\n"
      "#   mode: hybrid | pqonly\n"
      "#   source: the whole-handshake record cut (file and tcId)\n"
      "#   budget: the datagram budget (handshake_datagram_max), bytes of UDP payload\n"
      "#   i_static_pub, r_static_pub: as in the source record (the response's and the initiation's\n"
      "#     mac1 key is HASH(\"mac1----\" || receiver's static public key))\n"
      "#   cookie_i: (only in some records) the initiator's cookie: every initiation fragment's\n"
      "#     mac2 = MAC(cookie_i, bytes before mac2); otherwise mac2 is 16 zero bytes\n"
      "#   initiation, response: the whole messages, as in the source record\n"
      "#   init_frag_count, resp_frag_count: number of fragments\n"
      "#   init_frag_N, resp_frag_N: fragment N (type 9) in full, header, payload, mac1, mac2\n"
      "#\n")
    tc = 0
    for name in SOURCES:
        for rec in records(os.path.join(HERE, name)):
            for budget in BUDGETS:
                tc += 1
                ipub = bytes.fromhex(rec["i_static_pub"])
                rpub = bytes.fromhex(rec["r_static_pub"])
                assert HASH(b"mac1----", rpub).hex() == rec["mac1_key_r"]
                assert HASH(b"mac1----", ipub).hex() == rec["mac1_key_i"]
                cookie = bytes.fromhex(rec["cookie_i"]) if "cookie_i" in rec else None
                init = bytes.fromhex(rec["initiation"])
                resp = bytes.fromhex(rec["response"])
                w("tcId = %d\n" % tc)
                w("mode = %s\n" % rec["mode"])
                w("source = %s tcId %s\n" % (name, rec["tcId"]))
                w("budget = %d\n" % budget)
                w("i_static_pub = %s\n" % rec["i_static_pub"])
                w("r_static_pub = %s\n" % rec["r_static_pub"])
                if cookie:
                    w("cookie_i = %s\n" % cookie.hex())
                w("initiation = %s\n" % init.hex())
                w("response = %s\n" % resp.hex())
                for pre, msg, pub, ck in (("init", init, rpub, cookie),
                                          ("resp", resp, ipub, None)):
                    if len(msg) <= budget:
                        w("%s_frag_count = 0\n" % pre)
                        continue
                    frags = cut(msg, budget, pub, ck)
                    w("%s_frag_count = %d\n" % (pre, len(frags)))
                    for n, f in enumerate(frags):
                        w("%s_frag_%d = %s\n" % (pre, n, f.hex()))
                w("\n")


if __name__ == "__main__":
    main()
