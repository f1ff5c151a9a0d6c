"""A YAML reader for files people write by hand and attackers may write instead.

PyYAML's `safe_load` expands aliases (a 400-byte alias bomb grows to gigabytes), recurses
once per nesting level (100k levels end in a RecursionError) and keeps the last of two
equal keys without a word. This reader refuses all three, naming the line: an alias or deep
nesting stops the reading; every duplicate key is listed, and the reading goes on.
"""

from __future__ import annotations

import yaml
from yaml.events import AliasEvent

MAX_DEPTH = 32  # the config file nests 3 levels deep; anything far beyond that is not a config


class StrictYamlError(ValueError):
    """A YAML document this reader refuses; `line` is 1-based, or None when unknown."""

    def __init__(self, problem: str, line: int | None):
        super().__init__(f"line {line}: {problem}" if line else problem)
        self.problem = problem
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self.duplicates: list[StrictYamlError] = []

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise StrictYamlError(
                f"alias *{event.anchor} refused: aliases are not accepted (put shared values under 'defaults:')",
                event.start_mark.line + 1,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise StrictYamlError(
                    f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                raise StrictYamlError("a mapping key must be a plain value", line) from None
            if first is not None:
                self.duplicates.append(
                    StrictYamlError(f"duplicate key {short_repr(key)} (first at line {first})", line)
                )
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        # PyYAML raises a bare ValueError for a date-shaped value that is no real day
        # (2026-02-30); left as text, it is refused by the field that reads it, with the others.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def short_repr(value: object, limit: int = 60) -> str:
    """repr() cut to `limit` characters, for messages that quote a value from the file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_strict(text: str) -> tuple[object, list[StrictYamlError]]:
    """Parse one YAML document: (the document, one error per duplicate key, in which the last
    value stands). StrictYamlError names the line of what stops the reading."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise StrictYamlError(f"not valid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise StrictYamlError(f"not valid YAML: {exc}", None) from None
    finally:
        loader.dispose()
