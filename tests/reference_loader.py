"""The straightforward YAML loader that ipam_model/stackfile.py's fast one replaced.

PyYAML's own resolver and constructor, one recursive call per node, with the
same refusals and messages. tests/test_stackfile.py compares the fast loader
with it on every value, source-map entry and refusal; bench/load_stacks.py
times it as the baseline.
"""
from __future__ import annotations

import yaml

from ipam_model.core.errors import InputError
from ipam_model.declared import yaml as stackfile


class ReferenceBuilder:
    def __init__(self, file):
        self.file, self.source, self.count = file, {}, 0
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, message, node, path, rule="CIP001"):
        raise InputError(message, file=self.file, path=path, line=node.start_mark.line + 1,
                         column=node.start_mark.column + 1, rule=rule)

    def build(self, node, path):
        self.count += 1
        if self.count > stackfile.MAX_NODES:
            self.fail(f"the document expands to more than {stackfile.MAX_NODES:,} values "
                      "(YAML aliases referring to aliases?); refusing to load it", node, path,
                      rule="CIP004")
        self.source.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        refused = (f"YAML tag {node.tag} is not allowed (only plain mappings, lists and "
                   "scalars)")
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self.fail(refused, node, path, rule="CIP004")
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self.fail(refused, node, path, rule="CIP004")
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag not in stackfile.SAFE_TAGS:
            self.fail(refused, node, path, rule="CIP004")
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.fail(f"invalid value: {getattr(exc, 'problem', exc)}", node, path)

    def build_mapping(self, node, path):
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.fail("YAML merge keys (<<) are not supported in stack files; write the "
                          "keys out", key_node, path, rule="CIP004")
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail("a mapping key must be a plain string", key_node, path)
            if key_node.tag == "tag:yaml.org,2002:str":
                key = key_node.value  # a string key is not counted as a value
            else:
                # built at a made-up path for its checks, whose entry is dropped
                # (unless a real key "<key>" recorded it)
                known = path + ("<key>",) in self.source
                key = self.build(key_node, path + ("<key>",))
                if not known:
                    self.source.pop(path + ("<key>",), None)
            if not isinstance(key, str):
                key = key_node.value if isinstance(key_node.value, str) else str(key)
            if key in out:
                first_line = self.source.get(path + (key,), (None, None))[0]
                self.fail(f'duplicate key "{key}" (first defined on line {first_line}); '
                          "YAML would silently keep only the last value", key_node,
                          path + (key,), rule="CIP003")
            self.source[path + (key,)] = (key_node.start_mark.line + 1,
                                          key_node.start_mark.column + 1)
            out[key] = self.build(value_node, path + (key,))
        return out


def reference_load(text: str, file: str):
    """(data, source) the plain way, for a text that parses as one document."""
    nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    assert len(nodes) == 1
    builder = ReferenceBuilder(file)
    return builder.build(nodes[0], ()), builder.source
