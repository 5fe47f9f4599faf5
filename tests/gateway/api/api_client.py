"""A small client for ergwd's management API, for tests and the benchmark:
HTTPS (Python's ssl) or the local unix socket (http.client over AF_UNIX),
and a checker that holds every response against the OpenAPI document."""
import http.client
import json
import os
import re
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time

import jsonschema


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = raw
        self.text = raw.decode("utf-8", "replace")
        self.json = None
        if self.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
            self.json = json.loads(self.text)

    def __repr__(self):
        return f"<{self.status} {self.text[:400]}>"


class OpenApi:
    """Finds the operation of a request in the document and checks a response
    against it: the status must be documented, the content type too, and the
    body must match the schema."""

    def __init__(self, path):
        with open(path) as f:
            self.doc = json.load(f)
        self.operations = {}
        for pattern, item in self.doc["paths"].items():
            regex = "^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            for method in item:
                self.operations[(method.upper(), pattern)] = re.compile(regex)
        self.seen = set()

    def resolve(self, node):
        if isinstance(node, dict):
            if "$ref" in node:
                target = self.doc
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                return self.resolve(target)
            return {k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        return node

    def operation_of(self, method, path):
        path = path.split("?")[0]
        matches = [key for key, regex in self.operations.items() if key[0] == method and regex.match(path)]
        # A literal beats a template ("/v1/config/confirm" over "/v1/config/revisions/{id}").
        matches.sort(key=lambda key: key[1].count("{"))
        return matches[0] if matches else None

    def check(self, method, path, response):
        key = self.operation_of(method, path)
        if key is None:
            if response.status in (404, 405):
                return
            raise AssertionError(f"{method} {path} answered {response.status} but is not in the OpenAPI document")
        self.seen.add(key)
        operation = self.doc["paths"][key[1]][key[0].lower()]
        responses = operation["responses"]
        spec = responses.get(str(response.status))
        if spec is None:
            raise AssertionError(f"{method} {key[1]}: status {response.status} is not documented: {response}")
        spec = self.resolve(spec)
        content = spec.get("content")
        if not content:
            assert not response.raw, f"{method} {key[1]} {response.status}: documented without a body"
            return
        ctype = response.headers.get("content-type", "").split(";")[0]
        assert ctype in content, f"{method} {key[1]} {response.status}: content type {ctype} not in {list(content)}"
        schema = content[ctype]["schema"]
        if response.json is not None:
            errors = list(jsonschema.Draft202012Validator(schema).iter_errors(response.json))
            assert not errors, f"{method} {key[1]} {response.status}: {errors[0].message} at {list(errors[0].path)}"
        for header, header_spec in spec.get("headers", {}).items():
            pattern = header_spec.get("schema", {}).get("pattern")
            value = response.headers.get(header.lower())
            if value is not None and pattern:
                assert re.match(pattern, value), f"{header}: {value!r} does not match {pattern}"

    def unexercised(self):
        return sorted(set(self.operations) - self.seen)


class Client:
    def __init__(self, openapi, port=None, cafile=None, key=None, socket_path=None, source="127.0.0.1"):
        self.openapi = openapi
        self.port = port
        self.cafile = cafile
        self.key = key
        self.socket_path = socket_path
        self.source = source
        self.bodies = []  # every response, for the secret scan

    def context(self, **kwargs):
        ctx = ssl.create_default_context(cafile=self.cafile)
        for k, v in kwargs.items():
            setattr(ctx, k, v)
        return ctx

    def connection(self, via="tls"):
        if via == "unix":
            return UnixConnection(self.socket_path)
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(), timeout=60,
                                           source_address=(self.source, 0))

    def request(self, method, path, body=None, key="default", headers=None, via="tls", check=True):
        headers = dict(headers or {})
        key = self.key if key == "default" else key
        if key and via == "tls":
            headers["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            headers.setdefault("Content-Type", "application/json")
        conn = self.connection(via)
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            response = Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()
        self.bodies.append(response.text)
        if check:
            self.openapi.check(method, path, response)
        return response


class TestServer:
    """api_test_server in a private state directory; stopped by its pid."""

    def __init__(self, binary, extra=(), state_dir=None, config=None):
        self.binary = binary
        self.extra = list(extra)
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="ergw-api-test-")
        self.socket_path = os.path.join(self.state_dir, "api.sock")
        self.config = config
        self.process = None
        self.port = None
        self.stderr_path = os.path.join(self.state_dir, "server.log")

    def start(self):
        args = [self.binary, "--state-dir", self.state_dir, "--socket", self.socket_path] + self.extra
        if self.config:
            args += ["--config", self.config]
        self.stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.process.stdout.readline().decode()
        if not line.startswith("ready"):
            self.process.wait(5)
            raise RuntimeError(f"server did not start: {line!r}; {open(self.stderr_path).read()}")
        self.port = int(re.search(r"port=(\d+)", line).group(1))
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.process.stdout.close()
            self.stderr.close()
        self.process = None

    def log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    @property
    def cafile(self):
        return os.path.join(self.state_dir, "api", "tls.crt")

    def admin_key(self, openapi, name="admin"):
        local = Client(openapi, socket_path=self.socket_path)
        r = local.request("POST", "/v1/apikeys", {"name": name, "scope": "admin"}, via="unix")
        assert r.status == 201, r
        return r.json["key"]


def wait_for(predicate, timeout=20, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def revision_texts(store):
    """Every stored revision's text (document, comment, outcome, hash, why
    reverted) from the store at `store`, read-only: for the secret scans."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return [("revision", " ".join(str(v) for v in row))
                for row in db.execute("SELECT document, comment, outcome, content_hash, reverted_why FROM revisions")]
    finally:
        db.close()


def assert_no_secret(test, texts, clients, secrets):
    """No secret in any of `texts` ((where, text) pairs) or in any body the
    `clients` received. Returns how many texts were scanned."""
    texts = list(texts)
    for client in clients:
        texts.extend(("response", b) for b in client.bodies)
    for where, text in texts:
        for secret in secrets:
            test.assertNotIn(secret, text, f"a PSK in a {where}")
    return len(texts)
