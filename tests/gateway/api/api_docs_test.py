#!/usr/bin/env python3
"""docs/api.md against gateway/api/openapi.json: every operation of the
document has its section in the page and every section is an operation; every
parameter and every response status the document uses is explained on the
page. (The answers themselves are checked against the document by the HTTP
tests.)

    api_docs_test.py SOURCE_DIR
"""
import json
import os
import re
import sys
import unittest

SOURCE = sys.argv[1]


def load():
    with open(os.path.join(SOURCE, "gateway/api/openapi.json")) as f:
        doc = json.load(f)
    with open(os.path.join(SOURCE, "docs/api.md")) as f:
        page = f.read()
    return doc, page


def resolve(doc, node):
    if isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return target
    return node


class ApiDocsTest(unittest.TestCase):
    doc, page = load()

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method, operation in item.items():
                yield method.upper(), path, operation

    def test_every_operation_has_its_section_and_no_more(self):
        documented = set(re.findall(r"^### `(GET|PUT|POST|DELETE|PATCH) ([^`]+)`$", self.page, re.M))
        operations = {(m, p) for m, p, _ in self.operations()}
        self.assertEqual(sorted(operations - documented), [], "operations without a section in docs/api.md")
        self.assertEqual(sorted(documented - operations), [], "sections of docs/api.md that are no operation")

    def test_every_parameter_is_explained(self):
        names = set()
        for _, _, operation in self.operations():
            for parameter in operation.get("parameters", []):
                parameter = resolve(self.doc, parameter)
                if parameter["in"] in ("query", "header"):
                    names.add(parameter["name"])
        self.assertTrue(names)
        for name in sorted(names):
            self.assertRegex(self.page, rf"`[^`]*\b{re.escape(name)}\b[^`]*`", f"parameter {name} not on the page")

    def test_every_status_is_explained(self):
        statuses = set()
        for _, _, operation in self.operations():
            statuses.update(operation["responses"])
        table = set()
        for row in re.findall(r"^\| ([\d /]+) \|", self.page, re.M):
            table.update(row.replace("/", " ").split())
        mentioned = set(re.findall(r"\b([1-5]\d\d)\b", self.page))
        for status in sorted(statuses):
            if int(status) >= 400:
                self.assertIn(status, table, f"status {status} is not in the page's table of failures")
            else:
                self.assertIn(status, mentioned, f"status {status} is not on the page")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
