"""What hashicorp/terraform-json does to a JSON plan, written from its source.

``json.Unmarshal(data, &tfjson.Plan{})`` decodes with Go's encoding/json into
the structs of plan.go and state.go and then runs ``Plan.Validate``. Read at
hashicorp/terraform-json 5a1ca9230975ec15a9885e4a35b755646fda3028:

- plan.go:17 ``PlanFormatVersionConstraints = ">= 0.1, < 2.0"``;
- plan.go:118-143 ``Validate``: format_version present, a go-version version,
  within the constraints;
- plan.go:149-165 ``UnmarshalJSON``: decode, then ``Validate``;
- plan.go:32-97 ``Plan``, plan.go:170-218 ``ResourceChange``, plan.go:291-348
  ``Change``, state.go:105-188 ``StateValues``/``StateModule``/``StateResource``:
  the fields and their Go types (below as ``STRUCTS``);
- state.go:16 and state.go:54-79: ``prior_state`` is a ``State`` and validated
  the same way (">= 0.1, < 2.0");
- action.go:38-119: the action lists the ``Actions`` helpers recognise
  (no-op, create, read, update, delete, delete+create, create+delete, forget).

Go's decoder (encoding/json ``Unmarshal``): unknown object keys are ignored;
``null`` is accepted for every field (it leaves a scalar alone and sets a
pointer, slice, map or interface to nil); anything else of the wrong JSON
kind is an ``UnmarshalTypeError`` and the whole decode fails. This module
reproduces exactly those checks, so a document it accepts is one
terraform-json accepts. On top, it requires every ``change.actions`` to be one
the ``Actions`` helpers recognise: Unmarshal takes any list of strings, but a
tool asking ``Create()`` or ``Replace()`` would see nothing in another one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CONSTRAINTS = ((">=", (0, 1)), ("<", (2, 0)))  # plan.go:17, state.go:18


class TerraformJSONError(ValueError):
    """What terraform-json's Unmarshal would return (the message says where)."""


@dataclass(frozen=True)
class Go:
    """A Go type: ``kind`` string|bool|uint|any|raw|slice|map|struct, ``of`` the element."""

    kind: str
    of: Any = None


STRING, BOOL, UINT, ANY, RAW = Go("string"), Go("bool"), Go("uint"), Go("any"), Go("raw")


def slice(of) -> Go:
    return Go("slice", of)


def mapping(of) -> Go:
    return Go("map", of)


def struct(name: str) -> Go:
    return Go("struct", name)


STRUCTS: dict[str, dict[str, Go]] = {
    "Plan": {  # plan.go:32-97
        "format_version": STRING, "terraform_version": STRING,
        "variables": mapping(struct("PlanVariable")), "planned_values": struct("StateValues"),
        "resource_drift": slice(struct("ResourceChange")),
        "resource_changes": slice(struct("ResourceChange")),
        "deferred_changes": slice(ANY), "complete": BOOL,
        "output_changes": mapping(struct("Change")), "prior_state": struct("State"),
        "configuration": ANY, "relevant_attributes": slice(struct("ResourceAttribute")),
        "checks": slice(ANY), "timestamp": STRING, "action_invocations": slice(ANY),
    },
    "PlanVariable": {"value": ANY},  # plan.go:368-371
    "ResourceAttribute": {"resource": STRING, "attribute": slice(RAW)},  # plan.go:100-106
    "ResourceChange": {  # plan.go:170-218
        "address": STRING, "previous_address": STRING, "module_address": STRING,
        "mode": STRING, "type": STRING, "name": STRING, "index": ANY,
        "provider_name": STRING, "deposed": STRING, "change": struct("Change"),
        "action_reason": STRING,
    },
    "Change": {  # plan.go:291-348
        "actions": slice(STRING), "before": ANY, "after": ANY, "after_unknown": ANY,
        "before_sensitive": ANY, "after_sensitive": ANY, "importing": struct("Importing"),
        "generated_config": STRING, "replace_paths": slice(ANY), "before_identity": ANY,
        "after_identity": ANY,
    },
    "Importing": {"id": STRING, "unknown": BOOL, "identity": ANY},  # plan.go:351-365
    "State": {  # state.go:21-42
        "format_version": STRING, "terraform_version": STRING,
        "values": struct("StateValues"), "checks": slice(ANY),
    },
    "StateValues": {"outputs": mapping(ANY), "root_module": struct("StateModule")},
    "StateModule": {"resources": slice(struct("StateResource")), "address": STRING,
                    "child_modules": slice(struct("StateModule"))},  # state.go:115-124
    "StateResource": {  # state.go:128-188
        "address": STRING, "mode": STRING, "type": STRING, "name": STRING, "index": ANY,
        "provider_name": STRING, "schema_version": UINT, "values": mapping(ANY),
        "sensitive_values": RAW, "depends_on": slice(STRING), "tainted": BOOL,
        "deposed_key": STRING, "identity_schema_version": UINT, "identity": mapping(ANY),
    },
}

# action.go:38-119: NoOp, Create, Read, Update, Delete, DestroyBeforeCreate,
# CreateBeforeDestroy, Forget.
RECOGNISED_ACTIONS = (["no-op"], ["create"], ["read"], ["update"], ["delete"],
                      ["delete", "create"], ["create", "delete"], ["forget"])


def _decode(value: Any, go: Go, where: str) -> None:
    if value is None:  # encoding/json: null is a no-op for every type
        return
    ok = {"string": isinstance(value, str), "bool": isinstance(value, bool),
          "uint": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
          "any": True, "raw": True, "slice": isinstance(value, list),
          "map": isinstance(value, dict), "struct": isinstance(value, dict)}[go.kind]
    if not ok:
        raise TerraformJSONError(f"json: cannot unmarshal {type(value).__name__} into Go value "
                                 f"of type {go.kind} at {where}")
    if go.kind == "slice":
        for i, item in enumerate(value):
            _decode(item, go.of, f"{where}[{i}]")
    elif go.kind == "map":
        for key, item in value.items():
            _decode(item, go.of, f"{where}.{key}")
    elif go.kind == "struct":
        fields = {k.lower(): v for k, v in STRUCTS[go.of].items()}  # Go matches keys case-insensitively
        for key, item in value.items():
            field = fields.get(key.lower())
            if field is not None:
                _decode(item, field, f"{where}.{key}")


_VERSION = re.compile(r"^v?([0-9]+(?:\.[0-9]+)*)(-[0-9A-Za-z.~-]+)?(\+[0-9A-Za-z.~-]+)?$")


def _check_version(text: Any, what: str) -> None:
    """plan.go:118-143 / state.go:54-79 with hashicorp/go-version's parser."""
    if not text:
        raise TerraformJSONError(f"unexpected {what} input, format version is missing")
    match = _VERSION.match(text)
    if not match:
        raise TerraformJSONError(f"invalid format version {text!r}")
    segments = tuple(int(s) for s in match.group(1).split("."))
    padded = (segments + (0, 0, 0))[:3]
    for op, bound in CONSTRAINTS:
        bound = (bound + (0, 0, 0))[:3]
        # go-version: a pre-release only satisfies constraints that name one
        if match.group(2) or not (padded >= bound if op == ">=" else padded < bound):
            raise TerraformJSONError(f"unsupported {what} format version: {text!r} does not "
                                     "satisfy \">= 0.1, < 2.0\"")


def unmarshal_plan(document: Any) -> dict:
    """``var p tfjson.Plan; json.Unmarshal(data, &p)``: the document, or TerraformJSONError."""
    if not isinstance(document, dict):
        raise TerraformJSONError("json: cannot unmarshal into Go value of type tfjson.Plan")
    _decode(document, struct("Plan"), "plan")
    _check_version(document.get("format_version"), "plan")
    if document.get("prior_state") is not None:
        _check_version(document["prior_state"].get("format_version"), "state")
    for key in ("resource_changes", "resource_drift"):
        for change in document.get(key) or ():
            actions = (change.get("change") or {}).get("actions")
            if actions not in RECOGNISED_ACTIONS:
                raise TerraformJSONError(f"{key} {change.get('address')}: actions {actions} "
                                         "are none of terraform-json's Actions")
    return document
