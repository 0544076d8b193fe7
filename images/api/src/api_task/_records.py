"""Records out of a page, and the incremental cursor over them."""

from __future__ import annotations

from typing import Any

from task_config.api import Incremental, JsonScalar

from api_task._paths import MISSING, compile_path


class RecordsError(ValueError):
    """The response does not hold records where the config says."""


class RecordsLocator:
    def __init__(self, records_path: str | None, single_object_ok: bool) -> None:
        self._path = records_path
        self._get = (
            compile_path(records_path, "api_config.records_path", many=True)
            if (records_path)
            else None
        )
        # Without pagination, an object body is one record (e.g. a status endpoint).
        self._single_object_ok = single_object_ok

    def records(self, body: Any, page_number: int) -> list[Any]:
        if body is None:
            return []
        value = body
        if self._get is not None:
            value = self._get(body)
            if value is MISSING:
                if page_number == 1:
                    raise RecordsError(
                        f"api_config.records_path: {self._path!r} is not in the response "
                        f"of page 1 ({_describe(body)}); point it at the list of records"
                    )
                return []  # a last page may leave the list out altogether
            if value is None:
                return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict) and self._get is None:
            if self._single_object_ok:
                return [value]
            raise RecordsError(
                f"api_config.records_path: page {page_number} is {_describe(value)}; set "
                'records_path to the list of records in it (e.g. "$.data")'
            )
        raise RecordsError(
            f"api_config.records_path: {self._path!r} on page {page_number} is "
            f"{_describe(value)}, not a list of records"
        )


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(list(value)[:10])
        return f"an object with keys [{keys}]"
    return f"a JSON {type(value).__name__}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def cursor_greater(left: Any, right: Any) -> bool:
    """`left > right` for cursor values: numbers numerically (also when one side is a
    numeric string), strings as strings (ISO timestamps order correctly)."""
    if isinstance(left, str) and isinstance(right, str):
        return left > right
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a > b
    return str(left) > str(right)


class IncrementalFilter:
    """Keeps records newer than the incoming state and remembers the highest cursor."""

    def __init__(self, config: Incremental) -> None:
        self.field = config.cursor_field
        self.incoming: JsonScalar | None = config.state
        self.highest: Any = None
        self.skipped = 0
        self.without_cursor = 0
        self._get = compile_path(config.cursor_field, "api_config.incremental.cursor_field")

    def newer(self, records: list[Any]) -> list[Any]:
        state = self.incoming
        kept = []
        for record in records:
            value = self._get(record)
            if value is MISSING or value is None or isinstance(value, dict | list):
                self.without_cursor += 1
                kept.append(record)  # cannot judge it; losing data is worse than a repeat
            elif state is None or cursor_greater(value, state):
                kept.append(record)
            else:
                self.skipped += 1
        return kept

    def observe(self, records: list[Any]) -> None:
        """Records actually written move the state forward."""
        for record in records:
            value = self._get(record)
            if value is MISSING or value is None or isinstance(value, dict | list):
                continue
            if self.highest is None or cursor_greater(value, self.highest):
                self.highest = value

    def state(self) -> Any:
        return self.highest if self.highest is not None else self.incoming
