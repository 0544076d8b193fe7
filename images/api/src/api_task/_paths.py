"""JSON paths into response bodies and records: `$.data.items`, `meta.next`, `a[0].b`.

Plain paths are walked directly (the hot path: once per page or record); anything
richer (wildcards, filters, `..`) goes to jsonpath-ng.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

MISSING: Any = object()
_SEGMENT = re.compile(r"""\.([A-Za-z_$@][\w$@-]*)|\[(-?\d+)\]|\['([^']*)'\]|\["([^"]*)"\]""")

Getter = Callable[[Any], Any]


def _plain_segments(path: str) -> list[str | int] | None:
    rest = path[1:] if path.startswith("$") else "." + path
    if not rest:
        return []
    segments: list[str | int] = []
    pos = 0
    while pos < len(rest):
        match = _SEGMENT.match(rest, pos)
        if match is None:
            return None
        name, index, single, double = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(next(s for s in (name, single, double) if s is not None))
        pos = match.end()
    return segments


def compile_path(path: str, field: str, *, many: bool = False) -> Getter:
    """A function returning the value at `path`, or MISSING. Raises ValueError naming
    `field` when the path does not parse. With `many`, a path matching several values
    (`$.data[*]`) gives the list of them."""
    segments = _plain_segments(path.strip())
    if segments is not None:

        def walk(value: Any) -> Any:
            for segment in segments:
                if isinstance(segment, int):
                    if not isinstance(value, list) or not -len(value) <= segment < len(value):
                        return MISSING
                elif not isinstance(value, dict) or segment not in value:
                    return MISSING
                value = value[segment]
            return value

        return walk
    try:
        expression = parse_jsonpath(path)
    except (JSONPathError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{field}: {path!r} is not a JSON path ({exc})") from None

    def find(value: Any) -> Any:
        matches = [m.value for m in expression.find(value)]
        if not matches:
            return MISSING
        if len(matches) == 1 and (not many or isinstance(matches[0], list)):
            return matches[0]
        return matches if many else matches[0]

    return find
