"""The README's reference tables, generated from the schema and the rule catalogue.

`python tests/readme_tables.py` prints them, `--write` updates README.md in
place; tests/test_readme.py fails when the README's copy differs, so the
documentation cannot drift from the code.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from ipam_model.catalogue import RULES
from ipam_model.core.limits import LIMITS
from ipam_model.declared.schema import stack_schema


def _type(spec: dict) -> str:
    if "enum" in spec:
        return " \\| ".join(spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {spec['items'].get('type', 'object')}"
    return "mapping" if kind == "object" else kind


def _row(key: str, spec: dict) -> str:
    default = f"`{json.dumps(spec['default'])}`" if "default" in spec else ""
    return f"| `{key}` | {_type(spec)} | {default} | {spec.get('description', '')} |"


def config_table() -> str:
    schema = stack_schema()
    cluster = schema["properties"]["cluster"]["properties"]
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    rows += [_row(f"calico-ipam:cluster.{k}", v) for k, v in cluster.items()]
    rows += [_row(f"calico-ipam:cluster.nodeGroups[].{k}", v)
             for k, v in cluster["nodeGroups"]["items"]["properties"].items()]
    rows += [_row(f"calico-ipam:ipamConfig.{k}", v)
             for k, v in schema["properties"]["ipamConfig"]["properties"].items()]
    rows += [_row(f"calico-ipam:pools.<name>.{k}", v)
             for k, v in schema["$defs"]["pool"]["properties"].items()]
    rows += [_row(f"calico-ipam:reservations.<name>.{k}", v)
             for k, v in schema["$defs"]["reservation"]["properties"].items()]
    rows += [_row(f"calico-ipam:namespaces.<name>.{k}", v)
             for k, v in schema["$defs"]["namespace"]["properties"].items()]
    return "\n".join(rows)


def rules_table() -> str:
    rows = ["| id | name | severity | what it catches | from |", "|---|---|---|---|---|"]
    for r in RULES.values():
        origin = "Calico" if r.source != "calico-ipam" else "calico-ipam"
        # The anchor is what SARIF's helpUri points at (core.project.rule_doc_url).
        anchor = f'<a id="{r.id.lower()}"></a>'
        rows.append(f"| {anchor}{r.id} | {r.name} | {r.severity.value} | {r.summary} | "
                    f"{origin} |")
    return "\n".join(rows)


def limits_table() -> str:
    """Every bound calico-ipam enforces, from ``ipam_model.core.limits``."""
    rows = ["| what | limit | why this value |", "|---|---|---|"]
    rows += [f"| {limit.name} | {limit.text} | {limit.why} |" for limit in LIMITS]
    return "\n".join(rows)


def write_readme(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for marker, table in (("config-table", config_table()), ("rules-table", rules_table()),
                          ("limits-table", limits_table())):
        text = re.sub(rf"(<!-- {marker}:start -->\n).*?(\n<!-- {marker}:end -->)",
                      lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_readme(Path(__file__).resolve().parent.parent / "README.md")
    else:
        print(config_table())
        print()
        print(rules_table())
        print()
        print(limits_table())
