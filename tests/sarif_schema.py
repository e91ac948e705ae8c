"""SARIF as its consumers read it: the official OASIS 2.1.0 schema plus GitHub's needs.

The schema (errata 01) is vendored unchanged, with its source and licence, in
tests/data/sarif/; every test that produces SARIF validates it here.
"""
from __future__ import annotations

import functools
import json

import jsonschema
from paths import DATA

SARIF_SCHEMA_FILE = DATA / "sarif" / "sarif-schema-2.1.0.json"
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@functools.lru_cache(maxsize=1)
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema,
                                      format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def validate_sarif(log: dict) -> None:
    """The OASIS schema, then what GitHub code scanning requires on top of it
    (docs.github.com "SARIF support for code scanning"): a rule's help.text,
    a region's startLine on every result location, relative URIs."""
    sarif_validator().validate(log)
    jsonschema.Draft202012Validator(GITHUB_REQUIREMENTS).validate(log)


GITHUB_REQUIREMENTS = {
    "type": "object",
    "properties": {"runs": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["tool", "results"],
        "properties": {
            "tool": {"type": "object", "properties": {"driver": {
                "type": "object", "required": ["name", "informationUri", "rules"],
                "properties": {
                    "informationUri": {"type": "string", "pattern": "^https://"},
                    "rules": {"type": "array", "items": {
                        "type": "object",
                        "required": ["id", "name", "shortDescription", "help", "helpUri",
                                     "defaultConfiguration"],
                        "properties": {"help": {"type": "object",
                                                "required": ["text", "markdown"],
                                                "properties": {
                                                    "text": {"type": "string", "minLength": 1},
                                                    "markdown": {"type": "string",
                                                                 "minLength": 1}}}}}}}}}},
            "results": {"type": "array", "items": {
                "type": "object", "required": ["ruleId", "level", "message", "locations"],
                "properties": {"locations": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["physicalLocation"],
                    "properties": {"physicalLocation": {
                        "type": "object", "required": ["artifactLocation", "region"],
                        "properties": {
                            "artifactLocation": {"type": "object", "required": ["uri"],
                                                 "properties": {"uri": {
                                                     "type": "string", "pattern": "^[^/\\\\]"}}},
                            "region": {"type": "object",
                                       "required": ["startLine"]}}}}}}}}}}}}},
}


