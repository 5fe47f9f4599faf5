#!/usr/bin/env python3
"""The management API over HTTPS and the local socket, with Python's standard
library as the client, against api_test_server (the real store, service and
server; a fake daemon behind them). Every response is checked against
gateway/api/openapi.json, every operation of the document is exercised, and
no PSK may appear in any response, log, audit line or stored revision.

    api_http_test.py API_TEST_SERVER SOURCE_DIR
"""
import copy
import http.client
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_client import (Client, OpenApi, TestServer, UnixConnection, assert_no_secret, revision_texts,  # noqa: E402
                        wait_for)

BINARY, SOURCE = sys.argv[1], sys.argv[2]
OPENAPI = OpenApi(os.path.join(SOURCE, "gateway/api/openapi.json"))
PSKS = set()  # every PSK used: none may leak
SERVERS = []


def psk(tag):
    value = f"{tag}Psk{os.urandom(6).hex()}0123456789"
    PSKS.add(value)
    return value


def lab_config(key=None, dpd=45, name="azure-hub", mode="Default"):
    with open(os.path.join(SOURCE, "examples/lab.json")) as f:
        config = json.load(f)
    c = config["connections"][0]
    c["name"] = name
    props = c["azure"]["properties"]
    props["sharedKey"] = key or psk("lab")
    props["dpdTimeoutSeconds"] = dpd
    props["connectionMode"] = mode
    return config


def connection_body(key=None, remote="172.16.0.3", mode="Default"):
    config = lab_config(key=key, mode=mode)
    c = config["connections"][0]
    c["azureGateway"]["tunnelIpAddresses"] = [remote]
    return {"name": "ignored-below", "properties": c["azure"]["properties"],
            "ergw": {"azureGateway": c["azureGateway"], "local": c["local"], "interfaceId": 9}}


def start(extra=(), config=None):
    server = TestServer(BINARY, extra, config=config).start()
    SERVERS.append(server)
    return server


def etag(response):
    return response.headers["etag"]


def put_retrying(api, path, body, if_match):
    """PUT, retried while another apply runs (409 with Retry-After), as a client should."""
    for _ in range(50):
        r = api.request("PUT", path, body, headers={"If-Match": if_match})
        if r.status != 409 or "retry-after" not in r.headers:
            return r
        time.sleep(int(r.headers["retry-after"]) / 10)
    return r


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start()
        key = cls.server.admin_key(OPENAPI)
        PSKS.discard(key)
        cls.api = Client(OPENAPI, cls.server.port, cls.server.cafile, key, cls.server.socket_path)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def put_config(self, config, query="", if_match=None):
        if if_match is None:
            if_match = etag(self.api.request("GET", "/v1/config"))
        return self.api.request("PUT", "/v1/config" + query, config, headers={"If-Match": if_match})

    # -- authentication ---------------------------------------------------------
    def test_auth_negatives(self):
        anonymous = Client(OPENAPI, self.server.port, self.server.cafile, None, source="127.0.0.3")
        r = anonymous.request("GET", "/v1/status")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers["www-authenticate"], 'Bearer realm="ergw"')
        wrong = Client(OPENAPI, self.server.port, self.server.cafile, "ergw_0123456789abcdef_" + "A" * 43,
                       source="127.0.0.3")
        self.assertEqual(wrong.request("GET", "/v1/status").status, 401)
        self.assertEqual(wrong.request("GET", "/v1/status", key="not-a-key").status, 401)
        self.assertEqual(wrong.request("GET", "/v1/status", key=None, headers={"Authorization": "Basic Zm9vOmJhcg=="}).status, 401)
        # A read key reads and may not write.
        r = self.api.request("POST", "/v1/apikeys", {"name": "grafana", "scope": "read"})
        self.assertEqual(r.status, 201, r)
        reader = Client(OPENAPI, self.server.port, self.server.cafile, r.json["key"])
        self.assertEqual(reader.request("GET", "/v1/status").status, 200)
        self.assertEqual(reader.request("GET", "/metrics").status, 200)
        r = reader.request("PUT", "/v1/config", lab_config(), headers={"If-Match": '"0"'})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(reader.request("GET", "/v1/apikeys").status, 403)
        # Revoked: refused at once.
        self.assertEqual(self.api.request("DELETE", "/v1/apikeys/grafana").status, 204)
        self.assertEqual(reader.request("GET", "/v1/status").status, 401)
        self.assertEqual(self.api.request("DELETE", "/v1/apikeys/grafana").status, 404)
        # Plain HTTP on the HTTPS port: one plain answer, nothing served.
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("GET", "/v1/status")
        r = conn.getresponse()
        self.assertEqual(r.status, 400)
        self.assertIn(b"HTTPS only", r.read())
        conn.close()
        log = self.server.log()
        self.assertIn("refused GET /v1/status from 127.0.0.3", log)

    def test_failed_attempts_are_rate_limited(self):
        bad = Client(OPENAPI, self.server.port, self.server.cafile, "ergw_0123456789abcdef_" + "B" * 43,
                     source="127.0.0.4")
        statuses = [bad.request("GET", "/v1/status").status for _ in range(7)]
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[5:], [429, 429])
        r = bad.request("GET", "/v1/status")
        self.assertGreater(int(r.headers["retry-after"]), 0)
        # Even the right key is refused from that address meanwhile; others are not.
        good_from_there = Client(OPENAPI, self.server.port, self.server.cafile, self.api.key, source="127.0.0.4")
        self.assertEqual(good_from_there.request("GET", "/v1/status").status, 429)
        self.assertEqual(self.api.request("GET", "/v1/status").status, 200)
        self.assertIn("refusing it for 60 s", self.server.log())
        with open(os.path.join(self.server.state_dir, "audit.log")) as f:
            self.assertIn('"result":"blocked"', f.read())

    def test_tls_versions(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.create_default_context(cafile=self.server.cafile)
            ctx.minimum_version = ctx.maximum_version = version
            with ssl.create_connection(("127.0.0.1", self.server.port)) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    self.assertEqual(tls.version(), {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises(ssl.SSLError):
            with ssl.create_connection(("127.0.0.1", self.server.port)) as raw:
                ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    def test_local_socket_is_for_root(self):
        mode = stat.S_IMODE(os.stat(self.server.socket_path).st_mode)
        self.assertEqual(mode, 0o600)
        os.chmod(self.server.socket_path, 0o666)
        os.chmod(self.server.state_dir, 0o711)
        try:
            script = ("import http.client,socket,sys\n"
                      "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
                      "s.sendall(b'GET /v1/status HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); print(s.recv(100).decode())\n")
            out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                                  "-c", script, self.server.socket_path], capture_output=True, text=True, timeout=20)
            self.assertIn("403", out.stdout, out)
        finally:
            os.chmod(self.server.socket_path, 0o600)
            os.chmod(self.server.state_dir, 0o700)

    # -- the configuration ------------------------------------------------------
    def test_config_lifecycle(self):
        empty = self.api.request("GET", "/v1/config")
        start_etag = etag(empty)
        bad = lab_config()
        props = bad["connections"][0]["azure"]["properties"]
        props["dhGroup"] = "DHGroup99"
        props["ipsecPolicies"][0]["dhGroup"] = "DHGroup99"
        props["ipsecPolicies"][0]["saLifeTimeSeconds"] = 12
        bad["connections"][0]["local"]["asn"] = 65515
        r = self.api.request("POST", "/v1/config:validate", bad)
        self.assertEqual(r.status, 422, r)
        errors = [d for d in r.json["diagnostics"] if d["severity"] == "error"]
        self.assertGreaterEqual(len(errors), 2, r)  # every error at once, with paths
        paths = " ".join(d["path"] for d in errors)
        self.assertIn("ipsecPolicies[0].dhGroup", paths)
        self.assertIn("ipsecPolicies[0].saLifeTimeSeconds", paths)
        self.assertEqual(self.api.request("POST", "/v1/config:validate", lab_config()).status, 200)
        self.assertEqual(self.api.request("POST", "/v1/config:validate", b"{not json").status, 400)
        self.assertEqual(self.api.request("POST", "/v1/config:validate", b"{}", headers={"Content-Type": "text/plain"}).status, 415)
        # A PUT that fails validation is 422 and changes nothing.
        r = self.put_config(bad, if_match=start_etag)
        self.assertEqual(r.status, 422)
        self.assertEqual(etag(self.api.request("GET", "/v1/config")), start_etag)
        # Preconditions.
        self.assertEqual(self.api.request("PUT", "/v1/config", lab_config()).status, 428)
        self.assertEqual(self.api.request("PUT", "/v1/config", lab_config(), headers={"If-Match": '"999"'}).status, 412)
        self.assertEqual(self.api.request("PUT", "/v1/config", lab_config(), headers={"If-Match": "W/\"1\""}).status, 412)
        # Apply: the tunnel comes up, the answer says so.
        first_key = psk("first")
        r = self.put_config(lab_config(key=first_key, name="lifecycle"), if_match=start_etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["result"], "applied")
        self.assertIn({"name": "lifecycle", "change": "added", "state": "up"}, r.json["apply"]["connections"])
        first = r.json["revision"]
        self.assertEqual(etag(r), f'"{first}"')
        got = self.api.request("GET", "/v1/config")
        self.assertNotIn("sharedKey", got.text)
        # The same again: unchanged, no new revision.
        r = self.put_config(lab_config(key=first_key, name="lifecycle"))
        self.assertEqual(r.json["result"], "unchanged")
        self.assertEqual(r.json["revision"], first)
        # A PUT without the key keeps it (it cannot be read back to resend).
        again = got.json
        again["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 30
        r = self.put_config(again)
        self.assertEqual(r.status, 200, r)
        second = r.json["revision"]
        self.assertEqual(r.json["apply"]["connections"][0]["change"], "changed")
        diff = self.api.request("GET", f"/v1/config/revisions/{second}/diff")
        self.assertEqual(diff.json["from"], first)
        self.assertIn({"change": "changed", "path": "connections[lifecycle].azure.properties.dpdTimeoutSeconds",
                       "from": 45, "to": 30}, diff.json["changes"])
        self.assertEqual(diff.json["shared_keys_changed"], [])
        self.assertEqual(self.api.request("GET", f"/v1/config/revisions/{second}/diff?against=x").status, 400)
        self.assertEqual(self.api.request("GET", f"/v1/config/revisions/{second}/diff?against=999").status, 404)
        revisions = self.api.request("GET", "/v1/config/revisions")
        states = {rev["id"]: rev["state"] for rev in revisions.json["revisions"]}
        self.assertEqual(states[second], "active")
        self.assertEqual(states[first], "superseded")
        one = self.api.request("GET", f"/v1/config/revisions/{first}")
        self.assertEqual(one.json["document"]["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"], 45)
        self.assertEqual(one.json["author"], "admin")
        self.assertEqual(self.api.request("GET", "/v1/config/revisions/999").status, 404)
        # Rollback makes a new revision with the old content (and the old PSK).
        r = self.api.request("POST", f"/v1/config/revisions/{first}:rollback?comment=back+to+45",
                             headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        third = r.json["revision"]
        info = self.api.request("GET", f"/v1/config/revisions/{third}").json
        self.assertEqual(info["origin"], "rollback")
        self.assertEqual(info["comment"], "back to 45")
        self.assertEqual(self.api.request("POST", "/v1/config/revisions/999:rollback", headers={"If-Match": etag(r)}).status, 404)
        self.assertEqual(self.api.request("POST", f"/v1/config/revisions/{first}:rollback").status, 428)

    def test_connections(self):
        self.put_config(lab_config())
        listed = self.api.request("GET", "/v1/connections")
        self.assertEqual([c["name"] for c in listed.json["value"]], ["azure-hub"])
        hub = self.api.request("GET", "/v1/connections/azure-hub")
        props = hub.json["properties"]
        self.assertEqual(props["provisioningState"], "Succeeded")
        self.assertNotIn("sharedKey", props)
        wait_for(lambda: self.api.request("GET", "/v1/connections/azure-hub").json["properties"]["connectionStatus"] == "Connected")
        hub = self.api.request("GET", "/v1/connections/azure-hub").json
        self.assertGreater(hub["properties"]["ingressBytesTransferred"], 0)
        self.assertEqual(self.api.request("GET", "/v1/connections/nothing").status, 404)
        # A second connection, ARM-shaped.
        body = connection_body()
        body["name"] = "spoke"
        r = self.api.request("PUT", "/v1/connections/spoke", body, headers={"If-Match": etag(hub_r := self.api.request("GET", "/v1/config"))})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([c["name"] for c in r.json["apply"]["connections"] if c["change"] != "unchanged"], ["spoke"])
        spoke = self.api.request("GET", "/v1/connections/spoke")
        self.assertEqual(spoke.json["ergw"]["interfaceId"], 9)
        self.assertEqual(spoke.json["etag"], etag(spoke))
        # The name in the body must be the URL's; errors name the body's fields.
        body["name"] = "other"
        body["properties"]["dpdTimeoutSeconds"] = 5
        r = self.api.request("PUT", "/v1/connections/spoke", body, headers={"If-Match": etag(spoke)})
        self.assertEqual(r.status, 422, r)
        paths = [d["path"] for d in r.json["diagnostics"] if d["severity"] == "error"]
        self.assertIn("name", paths)
        self.assertIn("properties.dpdTimeoutSeconds", paths)
        # The PSK: write-only.
        before = etag(spoke)
        new_key = psk("rotated")
        r = self.api.request("PUT", "/v1/connections/spoke/sharedkey", {"value": new_key}, headers={"If-Match": before})
        self.assertEqual(r.status, 200, r)
        diff = self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}/diff")
        self.assertEqual(diff.json["shared_keys_changed"], ["spoke"])
        self.assertEqual(diff.json["changes"], [])
        self.assertEqual(self.api.request("GET", "/v1/connections/spoke/sharedkey").status, 405)
        r2 = self.api.request("PUT", "/v1/connections/spoke/sharedkey", {"value": 7}, headers={"If-Match": etag(r)})
        self.assertEqual(r2.status, 422)
        r2 = self.api.request("PUT", "/v1/connections/spoke/sharedkey", {"value": "bad key with spaces 0000000"}, headers={"If-Match": etag(r)})
        self.assertEqual(r2.status, 422, r2)
        self.assertEqual(self.api.request("PUT", "/v1/connections/none/sharedkey", {"value": psk("x")}, headers={"If-Match": etag(r)}).status, 404)
        # The BGP password (TCP MD5): write-only like the PSK, removed with null.
        password = psk("bgpmd5")
        r = self.api.request("PUT", "/v1/connections/spoke/bgppassword", {"value": password}, headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        diff = self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}/diff")
        self.assertEqual(diff.json["bgp_passwords_changed"], ["spoke"])
        self.assertEqual(diff.json["shared_keys_changed"], [])
        self.assertEqual(diff.json["changes"], [])
        self.assertEqual(self.api.request("GET", "/v1/connections/spoke/bgppassword").status, 405)
        self.assertNotIn("bgpPassword", self.api.request("GET", "/v1/connections/spoke").text)
        self.assertNotIn("bgpPassword", self.api.request("GET", "/v1/config").text)
        r2 = self.api.request("PUT", "/v1/connections/spoke/bgppassword", {"value": 7}, headers={"If-Match": etag(r)})
        self.assertEqual(r2.status, 422, r2)
        bad = psk("bad\"quote")
        r2 = self.api.request("PUT", "/v1/connections/spoke/bgppassword", {"value": bad}, headers={"If-Match": etag(r)})
        self.assertEqual(r2.status, 422, r2)
        self.assertIn("value not shown", r2.text)
        self.assertEqual(self.api.request("PUT", "/v1/connections/none/bgppassword", {"value": password}, headers={"If-Match": etag(r)}).status, 404)
        r = self.api.request("PUT", "/v1/connections/spoke/bgppassword", {"value": None}, headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        diff = self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}/diff")
        self.assertEqual(diff.json["bgp_passwords_changed"], ["spoke"])
        status = self.api.request("GET", "/v1/connections/spoke/status")
        self.assertEqual(status.json["name"], "spoke")
        self.assertEqual(self.api.request("GET", "/v1/connections/none/status").status, 404)
        r = self.api.request("DELETE", "/v1/connections/spoke", headers={"If-Match": etag(r)})
        self.assertEqual(r.status, 200, r)
        self.assertIn({"name": "spoke", "change": "removed", "state": "removed"}, r.json["apply"]["connections"])
        self.assertEqual(self.api.request("DELETE", "/v1/connections/spoke", headers={"If-Match": etag(r)}).status, 404)

    def test_daemon_refusals(self):
        # The daemon's own check: 422 like the rule book's.
        config = lab_config(name="daemon-refuses")
        r = self.put_config(config)
        self.assertEqual(r.status, 422)
        self.assertTrue(any("daemon" in d["message"] for d in r.json["diagnostics"]))
        # charon refusing at apply: 502, and the revision before is back.
        before = self.put_config(lab_config())
        base = etag(self.api.request("GET", "/v1/config"))
        r = self.put_config(lab_config(key=psk("charonrefuses")), if_match=base)
        self.assertEqual(r.status, 502, r)
        self.assertEqual(etag(r), base)
        self.assertEqual(etag(self.api.request("GET", "/v1/config")), base)
        info = self.api.request("GET", f"/v1/config/revisions/{r.json['revision']}").json
        self.assertEqual(info["state"], "reverted")
        self.assertIn("apply failed", info["reverted"]["why"])
        self.assertIsNotNone(before)

    def test_commit_confirm(self):
        self.put_config(lab_config())
        base = etag(self.api.request("GET", "/v1/config"))
        r = self.put_config(lab_config(dpd=40), "?confirm=60", if_match=base)
        self.assertEqual(r.status, 200, r)
        pending = r.json["revision"]
        self.assertIn("confirm", r.json)
        state = self.api.request("GET", "/v1/config/confirm").json
        self.assertTrue(state["pending"])
        self.assertEqual(state["revision"], pending)
        # Every other write waits.
        self.assertEqual(self.put_config(lab_config(dpd=41)).status, 409)
        self.assertEqual(self.api.request("DELETE", "/v1/connections/azure-hub", headers={"If-Match": etag(r)}).status, 409)
        self.assertEqual(self.api.request("POST", "/v1/config/confirm", headers={"If-Match": '"1"' if pending != 1 else '"2"'}).status, 412)
        self.assertEqual(self.api.request("POST", "/v1/config/confirm").status, 428)
        r = self.api.request("POST", "/v1/config/confirm", headers={"If-Match": f'"{pending}"'})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(self.api.request("GET", "/v1/config/confirm").json["pending"])
        self.assertEqual(self.api.request("POST", "/v1/config/confirm", headers={"If-Match": f'"{pending}"'}).status, 409)
        self.assertEqual(self.put_config(lab_config(dpd=60), "?confirm=1").status, 400)

    def test_confirm_expires_and_rolls_back(self):
        good_key = psk("good")
        self.put_config(lab_config(key=good_key))
        base = etag(self.api.request("GET", "/v1/config"))
        r = self.put_config(lab_config(key=psk("wrong")), "?confirm=5&wait=3", if_match=base)
        self.assertIn(r.status, (200, 202), r)
        broken = r.json["revision"]
        # The tunnel fails and says why.
        outcome = wait_for(lambda: (self.api.request("GET", f"/v1/config/revisions/{broken}").json["apply"] or {}).get("state") == "done" and
                           self.api.request("GET", f"/v1/config/revisions/{broken}").json["apply"])
        self.assertEqual(outcome["connections"][0]["state"], "failed")
        self.assertEqual(outcome["connections"][0]["reason"], "authentication failed")
        # Nobody confirms: back to the revision before, tunnel up again.
        wait_for(lambda: etag(self.api.request("GET", "/v1/config")) == base, timeout=15)
        self.assertEqual(etag(self.api.request("GET", "/v1/config")), base)
        info = self.api.request("GET", f"/v1/config/revisions/{broken}").json
        self.assertEqual(info["state"], "reverted")
        self.assertIn("confirmation did not arrive", info["reverted"]["why"])
        self.assertTrue(wait_for(lambda: self.api.request("GET", "/v1/connections/azure-hub").json["properties"]["connectionStatus"] == "Connected"))
        with open(os.path.join(self.server.state_dir, "audit.log")) as f:
            self.assertIn('"action":"confirm deadline passed"', f.read())

    def test_keys(self):
        r = self.api.request("POST", "/v1/apikeys", {"name": "ops", "scope": "admin"})
        self.assertEqual(r.status, 201)
        self.assertEqual(r.headers["location"], "/v1/apikeys/ops")
        self.assertEqual(self.api.request("POST", "/v1/apikeys", {"name": "ops", "scope": "read"}).status, 409)
        self.assertEqual(self.api.request("POST", "/v1/apikeys", {"name": "bad name", "scope": "root"}).status, 422)
        self.assertEqual(self.api.request("POST", "/v1/apikeys", b"[").status, 400)
        self.assertEqual(self.api.request("POST", "/v1/apikeys", b"{}", headers={"Content-Type": "text/plain"}).status, 415)
        listed = self.api.request("GET", "/v1/apikeys")
        self.assertIn("ops", [k["name"] for k in listed.json["keys"]])
        self.assertNotIn(r.json["key"], listed.text)
        self.assertNotIn(r.json["key"][len("ergw_") + 17:], listed.text)

    def test_state_endpoints(self):
        self.assertEqual(self.api.request("GET", "/healthz", key=None).status, 200)
        ready = self.api.request("GET", "/readyz", key=None)
        self.assertIn(ready.status, (200, 503))
        doc = self.api.request("GET", "/v1/openapi.json", key=None)
        self.assertEqual(doc.json["openapi"], "3.1.0")
        self.assertEqual(self.api.request("GET", "/v1/status").json["config"]["active_revision"] >= 0, True)
        self.assertEqual(self.api.request("GET", "/v1/bgp/sessions").json["enabled"], False)
        self.assertEqual(self.api.request("GET", "/v1/bgp/routes").json["routes"], [])
        # The test server runs no diagnoser: a documented 501 (ergwd's findings: diagnose_lab_test).
        self.assertEqual(self.api.request("GET", "/v1/diagnose").status, 501)
        self.assertEqual(self.api.request("GET", "/v1/connections/azure-hub/diagnose").status, 501)
        self.assertEqual(self.api.request("GET", "/v1/nothing").status, 404)
        self.assertEqual(self.api.request("PATCH", "/v1/config").status, 405)
        metrics = self.api.request("GET", "/metrics")
        self.assertIn("ergw_config_revision", metrics.text)
        self.assertTrue(metrics.headers["content-type"].startswith("text/plain; version=0.0.4"))
        if shutil.which("promtool"):
            out = subprocess.run(["promtool", "check", "metrics"], input=metrics.text, capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        # Malformed HTTP and oversized bodies are refused, not served.
        with ssl.create_default_context(cafile=self.server.cafile).wrap_socket(
                __import__("socket").create_connection(("127.0.0.1", self.server.port)), server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\n\r\n")
            self.assertIn(b"400", s.recv(200))
        conn = self.api.connection()
        conn.putrequest("PUT", "/v1/config")
        conn.putheader("Content-Length", str(9 << 20))
        conn.putheader("Authorization", f"Bearer {self.api.key}")
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 413)
        conn.close()


class OneWriterTest(unittest.TestCase):
    """A slow daemon: a second write gets 409 at once, reads never wait."""

    def test_one_writer_reads_never_wait(self):
        server = start(["--apply-delay-ms", "2000"])
        try:
            api = Client(OPENAPI, server.port, server.cafile, server.admin_key(OPENAPI))
            results = {}

            def first():
                results["first"] = api.request("PUT", "/v1/config?wait=0", lab_config(), headers={"If-Match": '"0"'})
            t = threading.Thread(target=first)
            t.start()
            time.sleep(0.5)
            r = api.request("PUT", "/v1/config", lab_config(), headers={"If-Match": '"0"'})
            self.assertEqual(r.status, 409, r)
            self.assertEqual(r.headers["retry-after"], "1")
            took = []
            for path in ("/v1/status", "/metrics", "/v1/config", "/v1/config/revisions", "/v1/connections"):
                began = time.monotonic()
                self.assertEqual(api.request("GET", path).status, 200)
                took.append(time.monotonic() - began)
            self.assertLess(max(took), 0.5, took)  # the apply takes 2 s
            self.assertEqual(api.request("GET", "/v1/connections").json["value"][0]["properties"]["provisioningState"] if api.request("GET", "/v1/connections").json["value"] else "Updating", "Updating")
            t.join()
            self.assertIn(results["first"].status, (200, 202))
        finally:
            server.stop()

    def test_slow_tunnels_answer_202_and_the_outcome_lands(self):
        server = start(["--up-delay-ms", "3000"])
        try:
            api = Client(OPENAPI, server.port, server.cafile, server.admin_key(OPENAPI))
            r = api.request("PUT", "/v1/config?wait=0", lab_config(), headers={"If-Match": '"0"'})
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.json["apply"]["state"], "running")
            location = r.headers["location"]
            done = wait_for(lambda: api.request("GET", location).json["apply"]["state"] == "done", timeout=15)
            self.assertTrue(done)
            self.assertEqual(api.request("GET", location).json["apply"]["connections"][0]["state"], "up")
        finally:
            server.stop()


class RestartTest(unittest.TestCase):
    """The confirmation deadline is kept in the store."""

    def test_deadline_survives_a_restart(self):
        server = start()
        api = Client(OPENAPI, server.port, server.cafile, server.admin_key(OPENAPI))
        base = api.request("PUT", "/v1/config", lab_config(), headers={"If-Match": '"0"'})
        self.assertEqual(base.status, 200, base)
        r = api.request("PUT", "/v1/config?confirm=6", lab_config(dpd=33), headers={"If-Match": etag(base)})
        pending = r.json["revision"]
        server.stop()
        server.start()
        api.port = server.port
        state = api.request("GET", "/v1/config/confirm").json
        self.assertTrue(state["pending"])
        self.assertEqual(state["revision"], pending)
        self.assertLessEqual(state["seconds_left"], 6)
        self.assertTrue(wait_for(lambda: etag(api.request("GET", "/v1/config")) == etag(base), timeout=15))
        # Stopped across the deadline: rolled back at start.
        r = put_retrying(api, "/v1/config?confirm=5", lab_config(dpd=34), etag(base))
        late = r.json["revision"]
        server.stop()
        time.sleep(6)
        server.start()
        api.port = server.port
        self.assertEqual(etag(api.request("GET", "/v1/config")), etag(base))
        self.assertEqual(api.request("GET", f"/v1/config/revisions/{late}").json["state"], "reverted")
        self.assertIn("ergwd was stopped", server.log())
        server.stop()


class FileWorkflowTest(unittest.TestCase):
    def test_file_edit_sighup_and_export(self):
        directory = tempfile.mkdtemp(prefix="ergw-api-file-")
        path = os.path.join(directory, "ergw.json")
        with open(path, "w") as f:
            json.dump(lab_config(), f)
        server = start(config=path)
        try:
            api = Client(OPENAPI, server.port, server.cafile, server.admin_key(OPENAPI))
            revisions = api.request("GET", "/v1/config/revisions").json["revisions"]
            self.assertEqual([(r["id"], r["origin"], r["author"]) for r in revisions], [(1, "file", "file")])
            # Exported: the PSK moved to a 0600 key file, the file references it.
            with open(path) as f:
                exported = json.load(f)
            key_file = exported["connections"][0]["sharedKeyFile"]
            self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
            self.assertNotIn("sharedKey", exported["connections"][0]["azure"]["properties"])
            # Edit + SIGHUP: a new revision through the same validation.
            exported["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 50
            edit = json.dumps(exported)
            with open(path, "w") as f:
                f.write(edit)
            server.process.send_signal(1)
            self.assertTrue(wait_for(lambda: etag(api.request("GET", "/v1/config")) == '"2"'), server.log())
            # ergwd writes revision 2 back (its own layout): only then is the next edit made to it.

            def written_back():
                with open(path) as f:
                    text = f.read()
                return text != edit and json.loads(text)
            exported = wait_for(written_back)
            self.assertEqual(exported["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"], 50)
            # A broken edit is refused whole.
            exported["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 1
            with open(path, "w") as f:
                json.dump(exported, f)
            server.process.send_signal(1)
            self.assertTrue(wait_for(lambda: "stays as it was" in server.log()), server.log())
            self.assertEqual(etag(api.request("GET", "/v1/config")), '"2"')
            # An API write is exported back to the file.
            config = api.request("GET", "/v1/config").json
            config["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"] = 55
            r = api.request("PUT", "/v1/config", config, headers={"If-Match": '"2"'})
            self.assertEqual(r.status, 200, r)
            with open(path) as f:
                self.assertEqual(json.load(f)["connections"][0]["azure"]["properties"]["dpdTimeoutSeconds"], 55)
            # Restarted with its own export (stale or current): no new revision.
            server.stop()
            server.start()
            api.port = server.port
            self.assertEqual(etag(api.request("GET", "/v1/config")), '"3"')
        finally:
            server.stop()
            shutil.rmtree(directory)


class MutualTlsTest(unittest.TestCase):
    def test_client_certificate_required(self):
        directory = tempfile.mkdtemp(prefix="ergw-api-mtls-")
        try:
            def openssl(*args):
                subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.crt")
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                    "/CN=automation", "-keyout", "client.key", "-out", "client.csr")
            openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2", "-out", "client.crt")
            server = start(["--client-ca", os.path.join(directory, "ca.crt")])
            try:
                key = server.admin_key(OPENAPI)
                bare = ssl.create_default_context(cafile=server.cafile)
                with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
                    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=bare, timeout=10)
                    conn.request("GET", "/v1/status", headers={"Authorization": f"Bearer {key}"})
                    conn.getresponse().read()
                with_cert = ssl.create_default_context(cafile=server.cafile)
                with_cert.load_cert_chain(os.path.join(directory, "client.crt"), os.path.join(directory, "client.key"))
                for headers, expected in (({"Authorization": f"Bearer {key}"}, 200), ({}, 401)):
                    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=with_cert, timeout=10)
                    conn.request("GET", "/v1/status", headers=headers)
                    self.assertEqual(conn.getresponse().status, expected)
                    conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=with_cert, timeout=10)
                conn.request("POST", "/v1/apikeys", body=json.dumps({"name": "via-cert", "scope": "read"}),
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                self.assertEqual(conn.getresponse().status, 201)
                with open(os.path.join(server.state_dir, "audit.log")) as f:
                    self.assertIn("CN=automation", f.read())
            finally:
                server.stop()
        finally:
            shutil.rmtree(directory)


class ZZCoverageAndSecretsTest(unittest.TestCase):
    """Runs last (unittest sorts classes by name)."""

    def test_every_operation_was_exercised(self):
        self.assertEqual(OPENAPI.unexercised(), [])

    def test_no_secret_anywhere(self):
        texts = []
        for server in SERVERS:
            texts.append(("log", server.log()))
            audit = os.path.join(server.state_dir, "audit.log")
            if os.path.exists(audit):
                with open(audit) as f:
                    texts.append(("audit", f.read()))
            store = os.path.join(server.state_dir, "store.db")
            if os.path.exists(store):
                texts.extend(revision_texts(store))
        self.assertGreater(len(PSKS), 5)
        assert_no_secret(self, texts, CLIENTS, PSKS)


CLIENTS = []
_original_init = Client.__init__


def _tracking_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    CLIENTS.append(self)


Client.__init__ = _tracking_init

if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: needs root (the local socket is root's)")
        sys.exit(0)
    try:
        unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
    finally:
        for s in SERVERS:
            s.stop()
            shutil.rmtree(s.state_dir, ignore_errors=True)
