"""For test_unit_syscalls.sh: what the systemd unit's SystemCallFilter= and
RestrictAddressFamilies= allow, against what an strace log shows.

  unit_filter.py check UNIT STRACE_LOG

Prints the system calls and address families used, then each one the unit
would refuse (exit 1 if any)."""
import re
import subprocess
import sys


def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                         text=True, check=True).stdout
    g, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = line.strip()
            g[cur] = []
        elif line.startswith("    ") and cur and not line.strip().startswith("#"):
            g[cur].append(line.strip())
    return g


def expand(g, name, seen):
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    r = set()
    for m in g.get(name, []):
        r |= expand(g, m, seen)
    return r


def unit_values(unit, key):
    vals = []
    for line in open(unit):
        line = line.strip()
        if line.startswith(key + "="):
            vals += line[len(key) + 1:].split()
    return vals


def main():
    unit, log = sys.argv[2], sys.argv[3]
    g = groups()
    allowed = set()
    for v in unit_values(unit, "SystemCallFilter"):
        if v.startswith("~"):
            print("deny lists are not handled by this check: " + v)
            return 1
        allowed |= expand(g, v, set())
    families = set(unit_values(unit, "RestrictAddressFamilies"))
    used, fams = set(), set()
    call = re.compile(r"^(?:\d+\s+)?(?:<\.\.\. ([a-z0-9_]+) resumed>|([a-z0-9_]+)\()")
    for line in open(log):
        m = call.match(line)
        if m:
            used.add(m.group(1) or m.group(2))
        m = re.search(r"\bsocket\((AF_[A-Z0-9]+)", line)
        if m:
            fams.add(m.group(1))
    print("system calls used: %d (%s)" % (len(used), " ".join(sorted(used))))
    print("address families used: " + " ".join(sorted(fams)))
    bad = 0
    if not allowed or not families:
        print("the unit has no SystemCallFilter= or RestrictAddressFamilies=")
        return 1
    for s in sorted(used - allowed):
        print("refused by SystemCallFilter=: " + s)
        bad = 1
    for f in sorted(fams - families):
        print("refused by RestrictAddressFamilies=: " + f)
        bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
