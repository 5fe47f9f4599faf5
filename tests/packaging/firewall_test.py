#!/usr/bin/env python3
"""The appliance's nftables baseline (packaging/nftables/ergw.nft), loaded by
its own loader (ergw-firewall) with real nft in a network namespace, and sent
what it must let in and what it must refuse.

Namespaces (names carry this process's pid):
  ergwfw-<pid>-appl   the appliance: wan0 198.51.100.1/24 and 192.0.2.1/24,
                      ergw7 10.255.0.1/30 (named like ergwd's xfrm interfaces)
  ergwfw-<pid>-out    the world: 198.51.100.2 (the Azure gateway, an IKE peer),
                      198.51.100.3 (a stranger), 192.0.2.5 (the management
                      network); tun7 10.255.0.2/30, the far end of "the tunnel"
Listeners in the appliance record who reached them; senders try from each
source. Root; exit 77 (skipped) without root, ip netns or nft."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PID = os.getpid()
APPL, OUT = f"ergwfw-{PID}-appl", f"ergwfw-{PID}-out"
PEER, STRANGER, MGMT, FAR_END = "198.51.100.2", "198.51.100.3", "192.0.2.5", "10.255.0.2"

LISTENER = r"""
import select, socket, sys
socks = {}
def add(kind, port):
    if kind == "esp":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    elif kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(16)
    socks[s] = (kind, port)
for p in (500, 4500): add("udp", p)
for p in (22, 8443, 179, 80): add("tcp", p)
add("esp", 0)
print("listening", flush=True)
while True:
    for s in select.select(list(socks), [], [])[0]:
        kind, port = socks[s]
        if kind == "tcp":
            c, addr = s.accept(); c.close()
        else:
            data, addr = s.recvfrom(2048)
        print(f"{kind} {port} {addr[0]}", flush=True)
"""

SENDER = r"""
import socket, sys
kind, src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0)); s.sendto(b"probe", (dst, port))
elif kind == "esp":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50); s.bind((src, 0)); s.sendto(b"\0\0\0\1" + b"\0" * 28, (dst, 0))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.bind((src, 0)); s.settimeout(1.5)
    try:
        s.connect((dst, port)); print("connected")
    except OSError as e:
        print("refused:", e)
"""


def sh(*args, check=True, netns=None, **kw):
    cmd = (["ip", "netns", "exec", netns] if netns else []) + list(args)
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def setup(workdir):
    for ns in (APPL, OUT):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", "wan0", "netns", APPL, "type", "veth", "peer", "name", "eth0", "netns", OUT)
    sh("ip", "link", "add", "ergw7", "netns", APPL, "type", "veth", "peer", "name", "tun7", "netns", OUT)
    for a in ("198.51.100.1/24", "192.0.2.1/24"):
        sh("ip", "addr", "add", a, "dev", "wan0", netns=APPL)
    sh("ip", "addr", "add", "10.255.0.1/30", "dev", "ergw7", netns=APPL)
    for a in (PEER, STRANGER):
        sh("ip", "addr", "add", a + "/24", "dev", "eth0", netns=OUT)
    sh("ip", "addr", "add", MGMT + "/24", "dev", "eth0", netns=OUT)
    sh("ip", "addr", "add", FAR_END + "/30", "dev", "tun7", netns=OUT)
    # Azure's platform address on the far side of the tunnel: ping must never get there.
    sh("ip", "addr", "add", "168.63.129.16/32", "dev", "tun7", netns=OUT)
    for ns, links in ((APPL, ("lo", "wan0", "ergw7")), (OUT, ("lo", "eth0", "tun7"))):
        for link in links:
            sh("ip", "link", "set", link, "up", netns=ns)
    sh("ip", "route", "add", "168.63.129.16/32", "dev", "ergw7", netns=APPL)
    conf = os.path.join(workdir, "firewall.conf")
    with open(conf, "w") as f:
        f.write('MANAGEMENT_PREFIXES="192.0.2.0/28"\nMANAGEMENT_PORTS="22 8443"\n')
    # What ergwd writes (firewall_peers.h): the loader puts it back at every start.
    peers = os.path.join(workdir, "firewall-peers.nft")
    with open(peers, "w") as f:
        f.write(f"flush set inet ergw ike_peers4\nflush set inet ergw ike_peers6\n"
                f"add element inet ergw ike_peers4 {{ {PEER} }}\n")
    env = dict(os.environ, ERGW_NFT_RULESET=os.path.join(SOURCE, "packaging/nftables/ergw.nft"),
               ERGW_FIREWALL_CONF=conf, ERGW_FIREWALL_PEERS=peers)
    loader = os.path.join(SOURCE, "packaging/nftables/ergw-firewall")
    sh(loader, "start", netns=APPL, env=env)
    sh(loader, "start", netns=APPL, env=env)  # again: a reload replaces the table in one transaction
    return env, loader


def main():
    if os.geteuid() != 0:
        skip("needs root (network namespaces, nftables)")
    if not shutil.which("nft"):
        skip("nft not installed (apt-get install nftables)")
    workdir = tempfile.mkdtemp(prefix="ergwfw-")
    listener = None
    failures = []
    try:
        try:
            env, loader = setup(workdir)
        except subprocess.CalledProcessError as e:
            if "ip" == e.cmd[0] and "netns" in e.cmd[:3] and "add" in e.cmd[:4]:
                skip(f"ip netns unusable: {e.stderr.strip()}")
            raise
        print(sh("nft", "list", "table", "inet", "ergw", netns=APPL).stdout)
        listener = subprocess.Popen(["ip", "netns", "exec", APPL, sys.executable, "-c", LISTENER],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "listening"

        # (what, kind, source, destination, port, must arrive)
        cases = [
            ("IKE 500 from the Azure gateway", "udp", PEER, "198.51.100.1", 500, True),
            ("IKE 4500 from the Azure gateway", "udp", PEER, "198.51.100.1", 4500, True),
            ("ESP from the Azure gateway", "esp", PEER, "198.51.100.1", 0, True),
            ("IKE 500 from a stranger", "udp", STRANGER, "198.51.100.1", 500, False),
            ("IKE 4500 from a stranger", "udp", STRANGER, "198.51.100.1", 4500, False),
            ("ESP from a stranger", "esp", STRANGER, "198.51.100.1", 0, False),
            ("SSH from the management prefix", "tcp", MGMT, "192.0.2.1", 22, True),
            ("API from the management prefix", "tcp", MGMT, "192.0.2.1", 8443, True),
            ("SSH from a stranger", "tcp", STRANGER, "198.51.100.1", 22, False),
            ("API from the Azure gateway", "tcp", PEER, "198.51.100.1", 8443, False),
            ("BGP through the tunnel device", "tcp", FAR_END, "10.255.0.1", 179, True),
            ("BGP from the Azure gateway outside the tunnel", "tcp", PEER, "198.51.100.1", 179, False),
            ("BGP from the management prefix outside the tunnel", "tcp", MGMT, "192.0.2.1", 179, False),
            ("another port (80) from the management prefix", "tcp", MGMT, "192.0.2.1", 80, False),
            ("IKE through the tunnel device", "udp", FAR_END, "10.255.0.1", 500, False),
        ]
        for what, kind, src, dst, port, _ in cases:
            sh(sys.executable, "-c", SENDER, kind, src, dst, str(port), netns=OUT)
        # A marker that must arrive, sent last: everything before it has been seen.
        sh(sys.executable, "-c", SENDER, "udp", PEER, "198.51.100.1", "500", netns=OUT)
        seen = []
        while True:
            line = listener.stdout.readline().strip()
            seen.append(line)
            if line == f"udp 500 {PEER}" and seen.count(line) == 2:
                break
        for what, kind, src, dst, port, must in cases:
            arrived = f"{kind} {port} {src}" in seen
            verdict = "ok  " if arrived == must else "FAIL"
            print(f"{verdict} {what}: {'arrived' if arrived else 'refused'}")
            if arrived != must:
                failures.append(what)

        ping = sh("ping", "-c", "1", "-W", "2", "-I", MGMT, "192.0.2.1", netns=OUT, check=False)
        print(f"{'ok  ' if ping.returncode == 0 else 'FAIL'} ping from the management prefix")
        if ping.returncode != 0:
            failures.append("ping from the management prefix")
        ping = sh("ping", "-c", "1", "-W", "2", "-I", STRANGER, "198.51.100.1", netns=OUT, check=False)
        print(f"{'ok  ' if ping.returncode != 0 else 'FAIL'} ping from a stranger refused")
        if ping.returncode == 0:
            failures.append("ping from a stranger")
        ping = sh("ping", "-c", "1", "-W", "2", "168.63.129.16", netns=APPL, check=False)
        print(f"{'ok  ' if ping.returncode != 0 else 'FAIL'} Azure's platform address never into a tunnel "
              f"(route into ergw7; ping: {ping.stdout.strip().splitlines()[-1] if ping.stdout.strip() else ping.stderr.strip()})")
        if ping.returncode == 0:
            failures.append("platform address through the tunnel")
        rules = sh("ip", "rule", "show", netns=APPL).stdout
        for address in ("168.63.129.16", "169.254.169.254"):
            ok = f"to {address} lookup main" in rules
            print(f"{'ok  ' if ok else 'FAIL'} ip rule: {address} looked up in main before ergwd's BGP table")
            if not ok:
                failures.append(f"ip rule {address}")
        counter = sh("nft", "list", "counter", "inet", "ergw", "refused4", netns=APPL).stdout
        print("refused4:", " ".join(counter.split("packets", 1)[-1].split()[:3]))
        sh(loader, "stop", netns=APPL, env=env)
        gone = sh("nft", "list", "tables", netns=APPL).stdout
        print(f"{'ok  ' if 'ergw' not in gone else 'FAIL'} stop removes the table")
        if "ergw" in gone:
            failures.append("stop")
    finally:
        if listener:
            listener.kill()
            listener.wait()
        for ns in (APPL, OUT):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"firewall_test: {len(failures)} failure(s)" + (": " + ", ".join(failures) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
