#!/usr/bin/env python3
"""The management API of a real ergwd in the lab: ergw-lab builds the on-prem
host, the appliance (charon + ergwd, supervised), the simulated Azure VPN
gateway (charon configured as Azure configures itself) and the VNet host, and
holds them while this test drives ergwd's API with Python's standard library
(and curl, and the ergw CLI). One lab is shared by every case, in order; each
case leaves the tunnel up for the next.

Checked: every operation of gateway/api/openapi.json, every answer against
it; auth negatives; validation that changes nothing; commit-confirm that
expires and rolls a broken tunnel back, one confirmed in time, one whose
deadline survives an ergwd restart; If-Match conflicts; SIGKILL of ergwd
during applies (the store on the old or the new revision, charon following
it); /metrics through promtool, and traffic counters monotonic across a
forced rekey and a charon restart; no PSK in any answer, log, audit line or
stored revision.

    api_lab_test.py ERGW_LAB ERGW SOURCE_DIR   (root)
"""
import copy
import ctypes
import http.client
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_client import Client, OpenApi, UnixConnection, assert_no_secret, revision_texts, wait_for  # noqa: E402

ERGW_LAB, ERGW, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
OPENAPI = OpenApi(os.path.join(SOURCE, "gateway/api/openapi.json"))
PORT = 8443
CONNECTION = "azure-hub"
PSK = "LabApi" + os.urandom(12).hex() + "Key"  # the tunnel's key, on both sides
PSKS = {PSK}  # every PSK this test uses: none may leak
CLIENTS = []
CLONE_NEWNET = 0x40000000


def psk(tag):
    value = f"{tag}Psk{os.urandom(8).hex()}0123"
    PSKS.add(value)
    return value


def lab_config(key=PSK, dpd=45):
    with open(os.path.join(SOURCE, "examples/lab.json")) as f:
        config = json.load(f)
    props = config["connections"][0]["azure"]["properties"]
    if key is None:
        del props["sharedKey"]
    else:
        props["sharedKey"] = key
    props["dpdTimeoutSeconds"] = dpd
    return config


def etag(response):
    return response.headers["etag"]


class HeldLab:
    """`ergw-lab run --hold`: the lab with ergwd serving its API, until SIGTERM."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ergw-api-lab-")
        self.config = os.path.join(self.tmp, "ergw.json")
        with open(self.config, "w") as f:
            json.dump(lab_config(), f, indent=2)
        self.lines = queue.Queue()
        self.output = []
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [ERGW_LAB, "run", "--config", self.config, "--iperf-seconds", "0", "--hold", "--up-timeout", "120",
             f"--ergwd-arg=--api-listen=0.0.0.0:{PORT}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 240
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            m = re.search(r"holding lab (\w+) \(state (\S+), ergwd state (\S+), API socket (\S+)\)", line)
            if m:
                self.id, self.state, self.ergwd_state, self.socket = m.groups()
                return
        raise RuntimeError("the lab did not come up:\n" + "".join(self.output[-60:]))

    def _read(self):
        for raw in self.process.stdout:
            line = raw.decode(errors="replace")
            self.output.append(line)
            self.lines.put(line)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # the lab's handler tears everything down
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
                subprocess.run([ERGW_LAB, "cleanup"], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)  # its ergw.json holds the lab's PSK

    def netns(self, node):
        return f"ergw-{self.id}-{node}"

    def pid(self, daemon):
        with open(os.path.join(self.state, "owner.json")) as f:
            for d in json.load(f)["daemons"]:
                if d["name"] == daemon:
                    return d["pid"]
        raise KeyError(daemon)

    def read(self, name):
        with open(os.path.join(self.state, name), errors="replace") as f:
            return f.read()

    def swanctl(self, *args):
        uri = "unix://" + os.path.join(self.state, "appliance", "charon.vici")
        return subprocess.run(["swanctl", *args, "--uri", uri], capture_output=True, text=True, timeout=20).stdout


ROOT_NETNS = os.open("/proc/self/ns/net", os.O_RDONLY)  # where this process started


def set_netns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def enter_netns(name):
    """This thread (the test's main thread) joins the appliance's network
    namespace: 127.0.0.0/8 there reaches ergwd's API, with many source
    addresses for the rate limiter's sake. It leaves again (leave_netns)
    before the lab is torn down: the lab ends every process inside a
    namespace it deletes, and this one would be among them (SIGTERM, 143)."""
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        set_netns(fd)
    finally:
        os.close(fd)


def leave_netns():
    set_netns(ROOT_NETNS)


LAB = HeldLab()


class ErgwdApiLabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        started = time.time()
        LAB.start()
        print(f"lab {LAB.id} up in {time.time() - started:.1f} s", flush=True)
        subprocess.run(["ip", "-n", LAB.netns("appl"), "link", "set", "lo", "up"], check=True)
        enter_netns(LAB.netns("appl"))
        cls.cafile = os.path.join(LAB.ergwd_state, "api", "tls.crt")
        wait_for(lambda: os.path.exists(cls.cafile), timeout=10)
        local = Client(OPENAPI, socket_path=LAB.socket)
        CLIENTS.append(local)
        r = local.request("POST", "/v1/apikeys", {"name": "admin", "scope": "admin"}, via="unix")
        assert r.status == 201, r
        cls.admin_key = r.json["key"]
        cls.api = Client(OPENAPI, PORT, cls.cafile, cls.admin_key)
        CLIENTS.append(cls.api)

    # -- helpers ----------------------------------------------------------------
    def connection(self):
        return self.api.request("GET", f"/v1/connections/{CONNECTION}").json

    def connected(self):
        return self.connection()["properties"]["connectionStatus"] == "Connected"

    def status_of(self):
        status = self.api.request("GET", "/v1/status").json
        return next(c for c in status["connections"] if c["name"] == CONNECTION)

    def pfs_probe_settled(self):
        """ergwd's PFS probe rekeys the first CHILD SA of each new IKE SA a
        second after it is up (docs/ergwd.md): settled when no probe is
        scheduled or in flight ("probing") and every CHILD SA, the duplicate
        IKE SAs' too, is installed. "waiting" counts as settled here: no IKE SA
        is being probed (an ergwd restarted under established IKE SAs stays
        there, as it saw no CHILD SA come up)."""
        c = self.status_of()
        children = c.get("children", []) + [ch for d in c.get("duplicates", []) for ch in d.get("children", [])]
        return (c.get("pfs", {}).get("probe") not in (None, "probing")
                and all(ch.get("state") == "INSTALLED" for ch in children))

    def pfs_probes(self):
        return self.status_of().get("pfs", {}).get("probes", 0)

    def wait_connected(self, timeout=60):
        self.assertTrue(wait_for(self.connected, timeout=timeout, interval=0.5),
                        f"{CONNECTION} not Connected: {self.connection()}")

    def active_etag(self):
        return etag(self.api.request("GET", "/v1/config"))

    def metrics(self):
        r = self.api.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        return r.text

    def metric(self, text, name, **labels):
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in text.splitlines():
            if line.startswith(name + "{" + want + "}") or (not labels and line.startswith(name + " ")):
                return float(line.rsplit(" ", 1)[1])
        return None

    def wait_api(self, old_pid, timeout=30):
        """After ergwd restarted (the lab's supervisor restarts it)."""
        def answering():
            try:
                return LAB.pid("ergwd") != old_pid and self.api.request("GET", "/healthz", check=False).status == 200
            except OSError:
                return False
        self.assertTrue(wait_for(answering, timeout=timeout, interval=0.2), "ergwd did not come back")

    def store_head(self):
        db = sqlite3.connect(f"file:{os.path.join(LAB.ergwd_state, 'store.db')}?mode=ro", uri=True)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            return db.execute("SELECT active, pending FROM head").fetchone()
        finally:
            db.close()

    # -- the cases, in order ----------------------------------------------------
    def test_01_reads(self):
        self.wait_connected()
        for path in ("/healthz", "/readyz"):
            self.assertEqual(self.api.request("GET", path, key=None).status, 200)
        doc = self.api.request("GET", "/v1/openapi.json")
        with open(os.path.join(SOURCE, "gateway/api/openapi.json")) as f:
            self.assertEqual(doc.json, json.load(f))
        status = self.status_of()
        self.assertEqual(status["state"], "UP")
        self.assertEqual(self.api.request("GET", "/v1/bgp/sessions").status, 200)
        self.assertEqual(self.api.request("GET", "/v1/bgp/routes").status, 200)
        config = self.api.request("GET", "/v1/config")
        self.assertEqual(etag(config), '"1"')
        self.assertNotIn("sharedKey", json.dumps(config.json))
        revisions = self.api.request("GET", "/v1/config/revisions").json["revisions"]
        self.assertEqual([(r["id"], r["origin"], r["state"]) for r in revisions], [(1, "file", "active")])
        self.assertEqual(self.api.request("GET", "/v1/config/revisions/1").json["author"], "file")
        self.assertEqual(self.api.request("GET", "/v1/config/revisions/1/diff").status, 200)
        listed = self.api.request("GET", "/v1/connections").json["value"]
        self.assertEqual([c["name"] for c in listed], [CONNECTION])
        props = self.connection()["properties"]
        self.assertEqual(props["provisioningState"], "Succeeded")
        self.assertEqual(self.api.request("GET", f"/v1/connections/{CONNECTION}/status").json["state"], "UP")
        self.assertFalse(self.api.request("GET", "/v1/config/confirm").json["pending"])
        self.assertEqual([k["name"] for k in self.api.request("GET", "/v1/apikeys").json["keys"]], ["admin"])
        # ergw diagnose on the live tunnel: the checks run, and on a healthy tunnel none of them fails.
        for path in ("/v1/diagnose", f"/v1/connections/{CONNECTION}/diagnose"):
            findings = self.api.request("GET", path).json["findings"]
            self.assertEqual([f for f in findings if f["result"] == "fail"], [], path)
            self.assertIn(("psk", "ok"), [(f["check"], f["result"]) for f in findings if f["connection"] == CONNECTION])
        text = self.metrics()
        self.assertEqual(self.metric(text, "ergw_connection_up", connection=CONNECTION), 1)
        self.assertEqual(self.metric(text, "ergw_config_revision"), 1)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        print(f"promtool check metrics: exit {check.returncode}, {len(text.splitlines())} lines", flush=True)
        # docs/metrics.md lists what ergwd exposes, and nothing else.
        with open(os.path.join(SOURCE, "docs/metrics.md")) as f:
            documented = set(re.findall(r"^\| `(ergw_[a-z_]+)` \|", f.read(), re.M))
        exposed = set(re.findall(r"^# TYPE (ergw_[a-z_]+) ", text, re.M))
        self.assertEqual(sorted(exposed - documented), [], "metrics missing from docs/metrics.md")
        # Absent by design here: nothing pending, no BGP in this lab, no failure yet, no data plane reporting drops.
        absent_by_design = {"ergw_config_pending_revision", "ergw_config_confirm_deadline_timestamp_seconds",
                            "ergw_bgp_routes_accepted", "ergw_bgp_routes_advertised", "ergw_bgp_routes_received",
                            "ergw_bgp_session_state", "ergw_bgp_session_up", "ergw_bgp_session_uptime_seconds",
                            "ergw_connection_last_failure_timestamp_seconds", "ergw_connection_drops_total",
                            "ergw_connection_ike_failures_total"}
        self.assertEqual(sorted(documented - exposed - absent_by_design), [], "documented metrics ergwd lacks")

    def test_02_auth_negatives(self):
        anonymous = Client(OPENAPI, PORT, self.cafile, None, source="127.0.0.3")
        CLIENTS.append(anonymous)
        r = anonymous.request("GET", "/v1/status")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers["www-authenticate"], 'Bearer realm="ergw"')
        wrong = Client(OPENAPI, PORT, self.cafile, "ergw_0123456789abcdef_" + "A" * 43, source="127.0.0.4")
        CLIENTS.append(wrong)
        self.assertEqual(wrong.request("GET", "/v1/status").status, 401)
        self.assertEqual(wrong.request("GET", "/v1/status", key="not-a-key").status, 401)
        r = self.api.request("POST", "/v1/apikeys", {"name": "grafana", "scope": "read"})
        self.assertEqual(r.status, 201, r)
        reader = Client(OPENAPI, PORT, self.cafile, r.json["key"], source="127.0.0.5")
        CLIENTS.append(reader)
        self.assertEqual(reader.request("GET", "/v1/status").status, 200)
        self.assertEqual(reader.request("GET", "/metrics").status, 200)
        self.assertEqual(reader.request("PUT", "/v1/config", lab_config(), headers={"If-Match": '"1"'}).status, 403)
        self.assertEqual(reader.request("POST", "/v1/config/confirm", headers={"If-Match": '"1"'}).status, 403)
        self.assertEqual(self.api.request("DELETE", "/v1/apikeys/grafana").status, 204)
        self.assertEqual(reader.request("GET", "/v1/status").status, 401)
        # Plain HTTP on the HTTPS port: one plain answer, nothing served.
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10, source_address=("127.0.0.6", 0))
        conn.request("GET", "/v1/status")
        r = conn.getresponse()
        self.assertEqual(r.status, 400)
        self.assertIn(b"HTTPS only", r.read())
        conn.close()
        # TLS 1.1 is refused (Python's client may not even offer it: either way, no session).
        import ssl
        ctx = ssl.create_default_context(cafile=self.cafile)
        try:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            c = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=10)
            with self.assertRaises((ssl.SSLError, OSError)):
                c.request("GET", "/healthz")
                c.getresponse()
            c.close()
        except ValueError:
            pass
        log = LAB.read("ergwd.log")
        self.assertIn("refused GET /v1/status from 127.0.0.3", log)
        audit = LAB.read("appliance/ergwd/audit.log")
        self.assertIn('"result":"refused"', audit.replace(" ", ""))

    def test_03_refused_changes_touch_nothing(self):
        before = self.status_of()["ike"]["established_seconds"]
        started = time.time()
        base = self.active_etag()
        bad = lab_config()
        props = bad["connections"][0]["azure"]["properties"]
        props["ipsecPolicies"][0]["dhGroup"] = "DHGroup99"
        props["ipsecPolicies"][0]["saLifeTimeSeconds"] = 12
        r = self.api.request("POST", "/v1/config:validate", bad)
        self.assertEqual(r.status, 422, r)
        paths = " ".join(d["path"] for d in r.json["diagnostics"] if d["severity"] == "error")
        self.assertIn("ipsecPolicies[0].dhGroup", paths)
        self.assertIn("ipsecPolicies[0].saLifeTimeSeconds", paths)
        self.assertEqual(self.api.request("PUT", "/v1/config", bad, headers={"If-Match": base}).status, 422)
        self.assertEqual(self.api.request("PUT", "/v1/config", lab_config(dpd=40)).status, 428)
        self.assertEqual(self.api.request("PUT", "/v1/config", lab_config(dpd=40), headers={"If-Match": '"99"'}).status, 412)
        self.assertEqual(self.active_etag(), base)
        time.sleep(1)
        status = self.status_of()
        self.assertEqual(status["state"], "UP")
        self.assertGreaterEqual(status["ike"]["established_seconds"], before + int(time.time() - started) - 1,
                                "a refused change restarted the tunnel")

    def test_04_broken_tunnel_rolled_back_by_the_deadline(self):
        base = self.active_etag()
        # A PSK Azure does not have. The change is made before break (docs/ergwd.md, "Hitless change"): the new
        # PSK is tried in a new IKE SA, which Azure refuses, and the old IKE SA keeps carrying the tunnel.
        r = self.api.request("PUT", "/v1/config?confirm=15&wait=12", lab_config(key=psk("wrong")),
                             headers={"If-Match": base})
        self.assertIn(r.status, (200, 202), r)
        broken = r.json["revision"]
        put_at = time.time()
        self.assertTrue(self.api.request("GET", "/v1/config/confirm").json["pending"])
        # Meanwhile every other write waits for the confirmation.
        self.assertEqual(self.api.request("PUT", "/v1/config", lab_config(dpd=41),
                                          headers={"If-Match": etag(r)}).status, 409)
        deadline = self.metric(self.metrics(), "ergw_config_confirm_deadline_timestamp_seconds")
        self.assertIsNotNone(deadline)
        failure = r'^ergw_connection_last_failure_timestamp_seconds\{connection="%s"' % CONNECTION
        self.assertTrue(wait_for(lambda: re.search(failure, self.metrics(), re.M), timeout=15),
                        "the wrong PSK was not tried")
        self.assertTrue(self.connected(), "the wrong PSK took the running tunnel down")
        outcome = wait_for(lambda: (self.api.request("GET", f"/v1/config/revisions/{broken}").json.get("apply") or {})
                           .get("connections"), timeout=20)
        print(f"apply outcome of the broken revision: {outcome}", flush=True)
        # Nobody confirms: back to the revision before, and the tunnel with it.
        self.assertTrue(wait_for(lambda: self.active_etag() == base, timeout=30))
        print(f"rolled back {time.time() - put_at:.1f} s after the PUT (confirm=15)", flush=True)
        info = self.api.request("GET", f"/v1/config/revisions/{broken}").json
        self.assertEqual(info["state"], "reverted")
        self.assertIn("confirmation did not arrive", info["reverted"]["why"])
        self.wait_connected(timeout=60)
        print(f"tunnel back {time.time() - put_at:.1f} s after the PUT", flush=True)
        self.assertIn("confirm deadline passed", LAB.read("appliance/ergwd/audit.log"))
        # The failure stays in the metrics after the tunnel recovered (until ergwd restarts).
        # The reason is the failure's code: which side noticed the wrong PSK decides which one.
        text = self.metrics()
        reasons = re.findall(r'^ergw_connection_last_failure_timestamp_seconds\{connection="%s",reason="(\w+)"\}'
                             % CONNECTION, text, re.M)
        self.assertEqual(len(reasons), 1, text)
        self.assertIn(reasons[0], ("psk_mismatch", "peer_refused_authentication", "no_psk_for_identities"), text)
        self.assertGreaterEqual(self.metric(text, "ergw_connection_ike_failures_total", connection=CONNECTION,
                                            reason=reasons[0]) or 0, 1)

    def test_05_confirmed_in_time(self):
        base = self.active_etag()
        r = self.api.request("PUT", "/v1/config?confirm=8", lab_config(dpd=40), headers={"If-Match": base})
        self.assertEqual(r.status, 200, r)
        pending = r.json["revision"]
        self.assertEqual(self.api.request("POST", "/v1/config/confirm", headers={"If-Match": base}).status, 412)
        self.assertEqual(self.api.request("POST", "/v1/config/confirm").status, 428)
        r = self.api.request("POST", "/v1/config/confirm", headers={"If-Match": f'"{pending}"'})
        self.assertEqual(r.status, 200, r)
        time.sleep(9)  # past the deadline: nothing rolls back
        self.assertEqual(self.active_etag(), f'"{pending}"')
        self.assertFalse(self.api.request("GET", "/v1/config/confirm").json["pending"])
        self.wait_connected()

    def test_06_deadline_survives_an_ergwd_restart(self):
        base = self.active_etag()
        r = self.api.request("PUT", "/v1/config?confirm=20", lab_config(dpd=35), headers={"If-Match": base})
        self.assertEqual(r.status, 200, r)
        pending = r.json["revision"]
        before = self.api.request("GET", "/v1/config/confirm").json
        pid = LAB.pid("ergwd")
        os.kill(pid, signal.SIGTERM)
        self.wait_api(pid)
        after = self.api.request("GET", "/v1/config/confirm").json
        self.assertTrue(after["pending"])
        self.assertEqual(after["revision"], pending)
        self.assertEqual(after["deadline"], before["deadline"])
        self.assertIn(f"revision {pending} waits for its confirmation", LAB.read("ergwd.log"))
        self.assertTrue(wait_for(lambda: self.active_etag() == base, timeout=35), "no rollback after the restart")
        self.assertEqual(self.api.request("GET", f"/v1/config/revisions/{pending}").json["state"], "reverted")
        self.wait_connected()

    def test_07_connection_resources(self):
        config = self.api.request("GET", "/v1/config")
        hub = self.connection()
        body = {"name": "spoke", "properties": copy.deepcopy(hub["properties"]), "ergw": copy.deepcopy(hub["ergw"])}
        for field in ("provisioningState", "connectionStatus", "ingressBytesTransferred", "egressBytesTransferred"):
            body["properties"].pop(field, None)
        body["properties"]["sharedKey"] = psk("spoke")
        body["properties"]["connectionMode"] = "InitiatorOnly"  # Azure would dial it: nobody does here
        body["ergw"]["azureGateway"]["tunnelIpAddresses"] = ["172.16.0.9"]
        body["ergw"].pop("interfaceId", None)
        body["ergw"]["pfsProbe"] = False  # ergw's own members come back as they went (once, pfsProbe did not)
        r = self.api.request("PUT", "/v1/connections/spoke?wait=2", body, headers={"If-Match": etag(config)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api.request("GET", "/v1/connections/spoke").json["ergw"], body["ergw"])
        self.assertIn({"name": "spoke", "change": "added", "state": "waiting_for_peer",
                       "reason": "Azure dials this connection (connectionMode)"}, r.json["apply"]["connections"])
        self.assertIn("spoke:", LAB.swanctl("--list-conns"))
        r = self.api.request("PUT", "/v1/connections/spoke/sharedkey", {"value": psk("rotated")},
                             headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        diff = self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}/diff").json
        self.assertEqual(diff["shared_keys_changed"], ["spoke"])
        # The BGP password, set and removed on the running ergwd: a secret like
        # the PSK (the scan in test_99 looks for it), never shown.
        password = psk("bgpmd5")
        r = self.api.request("PUT", "/v1/connections/spoke/bgppassword", {"value": password},
                             headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        diff = self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}/diff").json
        self.assertEqual(diff["bgp_passwords_changed"], ["spoke"])
        self.assertNotIn("bgpPassword", self.api.request("GET", "/v1/connections/spoke").text)
        r = self.api.request("PUT", "/v1/connections/spoke/bgppassword", {"value": None},
                             headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api.request("GET", "/v1/connections/spoke/status").json["name"], "spoke")
        added = r.json["revision"]
        r = self.api.request("DELETE", "/v1/connections/spoke", headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(wait_for(lambda: "spoke:" not in LAB.swanctl("--list-conns"), timeout=10))
        # Rollback: a new revision with the old content and PSKs.
        r = self.api.request("POST", f"/v1/config/revisions/{added}:rollback?comment=spoke+again",
                             headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}").json["origin"],
                         "rollback")
        self.assertTrue(wait_for(lambda: "spoke:" in LAB.swanctl("--list-conns"), timeout=10))
        self.wait_connected()

    def test_08_sigkill_during_apply(self):
        # Alternately remove and re-add "spoke", killing ergwd while it applies.
        results = []
        for attempt, delay in enumerate((0.0, 0.03, 0.15, 0.4)):
            base = self.active_etag()
            before = int(base.strip('"'))
            had_spoke = any(c["name"] == "spoke" for c in self.api.request("GET", "/v1/connections").json["value"])
            method = "DELETE" if had_spoke else "POST"
            path = "/v1/connections/spoke" if had_spoke else f"/v1/config/revisions/{before - 1}:rollback"
            if not had_spoke:
                # The revision before the delete has spoke: roll back to it.
                revs = self.api.request("GET", "/v1/config/revisions").json["revisions"]
                with_spoke = next(r["id"] for r in revs if r["id"] < before and self._has_spoke(r["id"]))
                path = f"/v1/config/revisions/{with_spoke}:rollback"
            pid = LAB.pid("ergwd")
            sender = threading.Thread(target=self._request_ignoring_errors, args=(method, path, base))
            sender.start()
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            sender.join()
            self.wait_api(pid)
            active, pending = self.store_head()
            self.assertIn(active, (before, before + 1), "the store is between revisions")
            self.assertIsNone(pending)
            self.assertEqual(self.active_etag(), f'"{active}"')
            wants_spoke = self._has_spoke(active)
            self.assertTrue(wait_for(lambda: ("spoke:" in LAB.swanctl("--list-conns")) == wants_spoke, timeout=15),
                            f"charon does not follow revision {active} (spoke: {wants_spoke})")
            results.append(f"kill after {delay * 1000:.0f} ms: revision {active} ({'new' if active != before else 'old'})")
        print("SIGKILL during apply: " + "; ".join(results), flush=True)
        self.wait_connected()

    def _has_spoke(self, revision):
        doc = self.api.request("GET", f"/v1/config/revisions/{revision}").json["document"]
        return any(c["name"] == "spoke" for c in doc["connections"])

    def _request_ignoring_errors(self, method, path, if_match):
        try:
            self.api.request(method, path, headers={"If-Match": if_match}, check=False)
        except (OSError, http.client.HTTPException):
            pass

    def test_09_counters_monotonic_across_rekeys_and_charon_restart(self):
        """Every `_total` series, scraped after each step: a CHILD rekey, an IKE
        rekey (the CHILD SA moves to the new IKE SA: counted once), charon
        SIGKILLed and back. None ever decreases; promtool passes each time;
        the rekeys are counted from charon's events."""
        self.wait_connected()
        samples = []

        def sample(label):
            text = self.metrics()
            check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, f"{label}: " + check.stdout + check.stderr)
            totals = {}
            for line in text.splitlines():
                if line.startswith("ergw_") and not line.startswith("#"):
                    series, value = line.rsplit(" ", 1)
                    if series.split("{")[0].endswith("_total"):
                        totals[series] = float(value)
            samples.append((label, totals))
            return totals

        def traffic(totals):
            return tuple(totals.get(f'ergw_connection_{what}_total{{connection="{CONNECTION}"}}', 0)
                         for what in ("receive_bytes", "transmit_bytes", "receive_packets", "transmit_packets"))

        def rekeys(sa):
            return self.metric(self.metrics(), "ergw_connection_rekeys_total", connection=CONNECTION, sa=sa)

        def ping(count=20):
            out = subprocess.run(["ip", "netns", "exec", LAB.netns("onprem"), "ping", "-c", str(count), "-i", "0.05",
                                  "-W", "1", "-q", "10.0.2.10"], capture_output=True, text=True, timeout=60)
            received = re.search(r"(\d+) received", out.stdout)
            self.assertTrue(received and int(received.group(1)) > 0, "no ping came back: " + out.stdout + out.stderr)

        def traffic_after_pings(label, above):
            """Pings through the tunnel, then scrapes until the received bytes
            pass `above`: ergwd publishes its counters once a second, later
            on a loaded machine."""
            ping()
            seen = []

            def grown():
                now = traffic(sample(label))
                seen.append(now[0])
                return now if now[0] > above else None

            now = wait_for(grown, timeout=15, interval=0.5)
            self.assertTrue(now, f"{label}: receive bytes stayed at {seen[-1:]} (before: {above})")
            # The snapshot that first showed growth may have been taken while
            # the pings were still coming back: wait until it stops moving
            # (ergwd publishes about once a second).
            for _ in range(10):
                time.sleep(1.2)
                later = traffic(sample(label))
                if later == now:
                    break
                now = later
            return now

        # Both sides dial, so the connection may have a second IKE SA, each
        # probed once: its probe's CHILD rekey is counted too, so the test
        # starts once no probe is pending and counts the probes made meanwhile.
        self.assertTrue(wait_for(self.pfs_probe_settled, timeout=30, interval=0.5),
                        f"the PFS probe did not settle: {self.status_of().get('pfs')}")
        first = traffic_after_pings("before rekeys", 0)
        child_rekeys, ike_rekeys = rekeys("child"), rekeys("ike")
        probes = self.pfs_probes()

        child = self.status_of()["children"][0]
        # Like `--ike NAME`, `--child NAME` rekeys every CHILD SA of that name
        # (in every IKE SA of the connection): rekey exactly one, by its id.
        listed = LAB.swanctl("--list-sas", "--ike", CONNECTION)
        child_ids = re.findall(rf"^\s+{re.escape(child['name'])}: #(\d+), reqid \d+, INSTALLED", listed, re.M)
        self.assertTrue(child_ids, f"no installed CHILD SA {child['name']}: {listed}")
        print(f"SAs of {CONNECTION} before the CHILD rekey:\n{listed}", flush=True)
        out = LAB.swanctl("--rekey", "--child-id", child_ids[0])
        self.assertTrue(wait_for(lambda: not re.search(rf"^\s+\S+: #{child_ids[0]}, ",
                                                       LAB.swanctl("--list-sas", "--ike", CONNECTION), re.M),
                                 timeout=20),
                        f"the CHILD SA #{child_ids[0]} was not rekeyed: {out}")
        self.assertTrue(wait_for(lambda: rekeys("child") >= child_rekeys + 1, timeout=10),
                        f"ergw_connection_rekeys_total{{sa=child}}: {rekeys('child')}, was {child_rekeys}")
        time.sleep(2)  # a second count of the one rekey would show by now
        probed = self.pfs_probes() - probes
        self.assertEqual(rekeys("child"), child_rekeys + 1 + probed,
                         f"one CHILD rekey (and {probed} PFS probes) counted {rekeys('child') - child_rekeys} "
                         f"times: {out}\n" + LAB.swanctl("--list-sas", "--ike", CONNECTION))
        sample("after CHILD rekey")
        before_ike = traffic_after_pings("after CHILD rekey + traffic", first[0])

        # `swanctl --rekey --ike NAME` rekeys every IKE SA of that name, and
        # with both sides initiating (connectionMode Default) there can be two
        # for a while: rekey exactly one, by its unique id.
        listed = LAB.swanctl("--list-sas", "--ike", CONNECTION)
        ike_ids = re.findall(rf"^{re.escape(CONNECTION)}: #(\d+), ESTABLISHED", listed, re.M)
        self.assertTrue(ike_ids, f"no established IKE SA of {CONNECTION}: {listed}")
        print(f"IKE SAs of {CONNECTION} before the IKE rekey: {ike_ids}; rekeying #{ike_ids[0]}", flush=True)
        out = LAB.swanctl("--rekey", "--ike-id", ike_ids[0])
        self.assertTrue(wait_for(lambda: rekeys("ike") >= ike_rekeys + 1, timeout=20),
                        f"ergw_connection_rekeys_total{{sa=ike}}: {rekeys('ike')}, was {ike_rekeys}: {out}")
        time.sleep(2)  # a second count of the one rekey would show by now
        self.assertEqual(rekeys("ike"), ike_rekeys + 1, f"one IKE rekey counted {rekeys('ike') - ike_rekeys} times")
        self.wait_connected()
        time.sleep(1.5)
        after_ike = traffic(sample("after IKE rekey"))
        # The CHILD SA under its new IKE SA is the same SA: no traffic was
        # sent, so the totals barely move (counted twice they would double).
        self.assertLess(after_ike[0] - before_ike[0], before_ike[0] / 2,
                        f"IKE rekey: receive bytes {before_ike[0]} -> {after_ike[0]}")
        after_rekeys = traffic_after_pings("after IKE rekey + traffic", after_ike[0])

        charon = LAB.pid("charon-appliance")
        os.kill(charon, signal.SIGKILL)
        wait_for(lambda: self.metric(self.metrics(), "ergw_daemon_up", daemon="charon") == 0, timeout=10)
        sample("charon killed")
        self.wait_connected(timeout=90)
        sample("charon back")
        last = traffic_after_pings("after restart + traffic", after_rekeys[0])

        for (label_a, a), (label_b, b) in zip(samples, samples[1:]):
            for series, value in a.items():
                self.assertIn(series, b, f"series {series} vanished from '{label_a}' to '{label_b}'")
                self.assertGreaterEqual(b[series], value, f"{series} went back from '{label_a}' to '{label_b}'")
        print(f"{len(samples[-1][1])} _total series, none decreasing over {len(samples)} scrapes; promtool clean each time",
              flush=True)
        print("receive/transmit bytes, packets: " + "; ".join(f"{label}: {traffic(v)}" for label, v in samples),
              flush=True)
        print(f"rekeys counted: child {rekeys('child')}, ike {rekeys('ike')}", flush=True)
        plane = self.api.request("GET", "/v1/status").json["data_plane"]["kind"]
        drops = {reason: self.metric(self.metrics(), "ergw_connection_drops_total", connection=CONNECTION,
                                     reason=reason)
                 for reason in ("ts_mismatch", "replay", "integrity", "no_sa", "other")}
        print(f"data plane {plane}; ergw_connection_drops_total: {drops}", flush=True)
        if plane == "fastpath":
            # The fast path counts drops per connection: every reason has its series.
            self.assertNotIn(None, drops.values(), f"drops on the fast path: {drops}")

    def test_10_cli_and_curl(self):
        out = subprocess.run([ERGW, "status", "--socket", LAB.socket], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(" UP ", out.stdout)
        out = subprocess.run([ERGW, "config", "revisions", "--socket", LAB.socket], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("active", out.stdout)
        # From the on-prem host, over the appliance's LAN address, with curl.
        curl = ["ip", "netns", "exec", LAB.netns("onprem"), "curl", "-sS", "--cacert", self.cafile,
                "--resolve", f"localhost:{PORT}:192.168.10.1", "-o", "/dev/null", "-w", "%{http_code}"]
        ok = subprocess.run(curl + ["-H", f"Authorization: Bearer {self.admin_key}",
                                    f"https://localhost:{PORT}/v1/status"], capture_output=True, text=True)
        self.assertEqual(ok.stdout, "200", ok.stderr)
        no_key = subprocess.run(curl + [f"https://localhost:{PORT}/v1/status"], capture_output=True, text=True)
        self.assertEqual(no_key.stdout, "401")
        old_tls = subprocess.run(curl + ["--tlsv1.1", "--tls-max", "1.1", f"https://localhost:{PORT}/healthz"],
                                 capture_output=True, text=True)
        self.assertNotEqual(old_tls.returncode, 0)
        plain = subprocess.run(["ip", "netns", "exec", LAB.netns("onprem"), "curl", "-sS", "-o", "/dev/null", "-w",
                                "%{http_code}", f"http://192.168.10.1:{PORT}/v1/status"], capture_output=True, text=True)
        self.assertEqual(plain.stdout, "400")

    def test_98_every_operation_was_exercised(self):
        self.assertEqual(OPENAPI.unexercised(), [])

    def test_99_no_secret_anywhere(self):
        texts = [("ergwd log", LAB.read("ergwd.log")), ("audit log", LAB.read("appliance/ergwd/audit.log")),
                 ("configuration file", LAB.read("appliance/ergw.json"))]
        texts.extend(revision_texts(os.path.join(LAB.ergwd_state, "store.db")))
        scanned = assert_no_secret(self, texts, CLIENTS, PSKS)
        self.assertGreater(scanned, 100)
        print(f"secret scan: {len(PSKS)} PSKs, {scanned} texts, none found", flush=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        sys.exit(77)
    try:
        result = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[4:], exit=False).result
    finally:
        leave_netns()
        LAB.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
