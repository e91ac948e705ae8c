"""The JSON Schema of the ``calico-ipam:*`` stack config, and friendly errors.

The schema (``data/stack.schema.json``) checks shape and types only. Value
rules that Calico enforces (CIDR syntax, block-size range, modes) belong to
``calico.py`` so their findings carry Calico's wording and rule ids.
"""
from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Callable, Mapping

import fastjsonschema

if TYPE_CHECKING:  # imported where a config is worded: nearly every config passes the gate
    import jsonschema

from ..core.errors import CIP002, InputError
from ..core.model import YamlPath
from ..core.words import a_kind, did_you_mean
from ..data import load_json

_TYPE_NAMES = {"integer": "an integer", "string": "a string", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "number": "a number", "null": "null"}


@functools.lru_cache(maxsize=1)
def stack_schema() -> dict:
    """The stack-config JSON Schema shipped in the package."""
    return load_json("stack.schema.json")


def _inline_refs(node, defs):
    """The schema with local ``#/$defs/...`` references replaced by their targets:
    jsonschema resolves a ``$ref`` on every instance, which dominated validation
    time for stacks with thousands of pools."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inline_refs(defs[ref[len("#/$defs/"):]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _is_integer(checker, instance) -> bool:
    """An integer is an ``int`` as the YAML loader built it: JSON Schema counts
    ``3.0`` as an integer, but ``count: 3.0`` would reach code that counts with
    it (``range(3.0)``), and Calico's Go types would refuse it."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = stack_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    strict = jsonschema.validators.extend(
        cls, type_checker=cls.TYPE_CHECKER.redefine("integer", _is_integer))
    return strict(_inline_refs(schema, schema.get("$defs", {})))


def _holds_a_float(value: Any) -> bool:
    """Whether any value below *value* is a float (no field of the schema takes
    one; the fast gate would let an integer-valued one pass)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            return True
    return False


def describe(value: Any) -> str:
    """A value as the user wrote it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _type_hint(value: Any, expected: str) -> str:
    if isinstance(value, str) and expected in ("integer", "number"):
        try:
            int(value.strip())
            return f" (write {value.strip()} without quotes)"
        except ValueError:
            return ""
    if isinstance(value, float) and expected == "integer" and value.is_integer():
        return f" (write {int(value)})"
    if isinstance(value, str) and expected == "boolean" and value.lower() in ("true", "false",
                                                                               "yes", "no"):
        return f" (write {value.lower() in ('true', 'yes') and 'true' or 'false'} without quotes)"
    if expected == "string" and isinstance(value, (bool, int, float)):
        return f' (quote it: "{describe(value)}")'
    return ""


def _message(error: jsonschema.ValidationError) -> tuple[str, tuple]:
    """A one-line message and the extra path elements it points at."""
    v = error.validator
    if v == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in error.schema.get("properties", {})]
        key = sorted(extras)[0]
        hint = did_you_mean(key, allowed) or (
            f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        return f'unknown key "{key}"{hint}', (key,)
    if v == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        want = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        if error.instance is None:
            return f"is empty, expected {want}", ()
        if isinstance(error.instance, (dict, list)):
            return f"expected {want}, not {a_kind(error.instance)}", ()
        return (f"{describe(error.instance)} is {a_kind(error.instance)}, expected {want}"
                f"{_type_hint(error.instance, names[0])}", ())
    if v == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return f'missing required key "{missing[0]}"', ()
    if v == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        hint = did_you_mean(str(error.instance), [str(o) for o in error.validator_value])
        return f"{describe(error.instance)} is not one of: {options}{hint}", ()
    if v == "minimum":
        return f"{describe(error.instance)} is below the minimum of {error.validator_value}", ()
    if v == "maximum":
        return f"{describe(error.instance)} is above the maximum of {error.validator_value}", ()
    if v == "minLength":
        return "must not be empty", ()
    return error.message, ()


@functools.lru_cache(maxsize=1)
def _fast_gate():
    """A compiled validator of the same schema: ~20x faster than jsonschema on a
    valid config, which is nearly every config. jsonschema stays the authority:
    it runs whenever the gate objects, and only its verdict and messages count
    (tests/test_schema.py checks that both agree)."""
    schema = stack_schema()
    inlined = _inline_refs(schema, schema.get("$defs", {}))
    # The schema only uses keywords with the same meaning in draft 7, which the
    # compiler supports; never let it insert defaults into the user's config.
    body = {k: v for k, v in inlined.items() if k not in ("$schema", "$id", "$defs")}
    return fastjsonschema.compile(body, use_default=False)


def gate_accepts(config: Any) -> bool:
    """Whether the compiled gate lets *config* skip jsonschema. A config with
    a float never does: the gate counts ``3.0`` as an integer, and no field
    takes a float, so jsonschema (with the strict integer type) must word it."""
    if _holds_a_float(config):
        return False
    try:
        _fast_gate()(config)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def validate_config(config: Mapping[str, Any], *, file: str | None,
                    to_yaml_path: Callable[[tuple], YamlPath],
                    position: Callable[[YamlPath], tuple[int | None, int | None]]) -> None:
    """Raise an InputError for the first schema violation in document order,
    carrying every other one of the file (``InputError.problems()``), so that
    one run reports all of them.

    ``config`` is the calico-ipam mapping keyed ``cluster``/``pools``/
    ``namespaces``; ``to_yaml_path`` maps a schema path to the YAML path in
    the file and ``position`` gives its (line, column).
    """
    if gate_accepts(config):
        return
    located = []
    for err in _validator().iter_errors(config):
        message, extra = _message(err)
        path = to_yaml_path(tuple(err.absolute_path) + extra)
        line, col = position(path)
        located.append(((line or 0, col or 0), message, path, line, col))
    if not located:
        return
    located.sort(key=lambda item: item[0])
    errors = [InputError(message, file=file, path=path, line=line, column=col, rule=CIP002)
              for _, message, path, line, col in dict.fromkeys(
                  (key, m, p, ln, c) for key, m, p, ln, c in located)]
    first = errors[0]
    raise InputError(first.message, file=file, path=first.location.path,
                     line=first.location.line, column=first.location.column, rule=CIP002,
                     also=tuple(errors[1:]))


@functools.lru_cache(maxsize=None)
def _document_validator(name: str):
    import jsonschema

    schema = load_json(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_document(schema_name: str, data: Any, *, file: str | None,
                      position: Callable[[YamlPath], tuple[int | None, int | None]]) -> None:
    """Raise one InputError for the first violation (in document order) of the
    package schema *schema_name*; the YAML path is the schema path."""
    located = []
    for err in _document_validator(schema_name).iter_errors(data):
        message, extra = _message(err)
        path = tuple(err.absolute_path) + extra
        line, col = position(path)
        # in one object, a misspelt key explains a missing one: name it first
        at = position(tuple(err.absolute_path))
        rank = 0 if err.validator == "additionalProperties" else 1
        located.append(((at[0] or 0, at[1] or 0, rank), message, path, line, col))
    if not located:
        return
    located.sort(key=lambda item: item[0])
    _, message, path, line, col = located[0]
    raise InputError(message, file=file, path=path, line=line, column=col, rule=CIP002)
