"""The condition language of automation rules: JSON over one CloudEvent, parsed into a small tree and
evaluated without any code execution.

    {"all": [c, ...]}   every one holds (an empty list holds)
    {"any": [c, ...]}   at least one holds (an empty list does not)
    {"not": c}
    {"eq": [path, value]}, {"ne": [path, value]}          ne is exactly not eq
    {"gt"|"ge"|"lt"|"le": [path, value]}                   numbers with numbers, text with text (ISO times sort)
    {"in": [path, [value, ...]]}
    {"exists": path}                                       present and not null
    {"contains": [path, value]}                            a text contains a text, or a list holds a value
    {"startswith": [path, text]}

A path names a part of the event: `type`, `subject`, `source`, `id`, `time`, or `data.<key>.<key>...`
(a number picks a list item). A comparison with a part that is absent is false (`ne`: true).

`parse` refuses anything else with a `ConditionError` naming where in the JSON the fault is (`$.all[1].eq`)
and what it is, as a code with parameters that the caller words in the reader's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 12
MAX_NODES = 200
MAX_PATH_PARTS = 12

ROOTS = ("id", "type", "source", "subject", "time", "specversion", "datacontenttype", "data")
BRANCHES = ("all", "any", "not")
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
OPERATORS = (*BRANCHES, *COMPARISONS, "in", "exists", "contains", "startswith")
_PART = re.compile(r"^[A-Za-z0-9_\-]+$")


class ConditionError(ValueError):
    """`code` is one of: not_object, one_operator, unknown_operator, operands, not_list, bad_path,
    bad_value, too_deep, too_large. `where` is a JSONPath-like location, `params` fill the message."""

    def __init__(self, where: str, code: str, **params: Any):
        super().__init__(f"{where}: {code} {params}")
        self.where = where
        self.code = code
        self.params = params


Path = tuple[str, ...]


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class Compare:
    op: str  # one of COMPARISONS, "contains", "startswith"
    path: Path
    value: Any


@dataclass(frozen=True)
class In:
    path: Path
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Exists:
    path: Path


Condition = All | AnyOf | Not | Compare | In | Exists
ALWAYS = All(())


def parse_path(text: Any, where: str) -> Path:
    """`data.qualification.code` -> ("data", "qualification", "code"); refuses anything else."""
    if not isinstance(text, str) or not text:
        raise ConditionError(where, "bad_path", path=_show(text))
    parts = tuple(text.split("."))
    if parts[0] not in ROOTS or len(parts) > MAX_PATH_PARTS or any(not _PART.match(p) for p in parts):
        raise ConditionError(where, "bad_path", path=text)
    if parts[0] != "data" and len(parts) > 1:
        raise ConditionError(where, "bad_path", path=text)
    return parts


def parse(raw: Any) -> Condition:
    """The condition tree of `raw` (already decoded from JSON)."""
    counter = [0]
    return _parse(raw, "$", 1, counter)


def _parse(raw: Any, where: str, depth: int, counter: list[int]) -> Condition:
    counter[0] += 1
    if depth > MAX_DEPTH:
        raise ConditionError(where, "too_deep", limit=MAX_DEPTH)
    if counter[0] > MAX_NODES:
        raise ConditionError(where, "too_large", limit=MAX_NODES)
    if not isinstance(raw, dict):
        raise ConditionError(where, "not_object")
    if len(raw) != 1:
        raise ConditionError(where, "one_operator", count=len(raw))
    op, operand = next(iter(raw.items()))
    here = f"{where}.{op}"
    if op not in OPERATORS:
        raise ConditionError(where, "unknown_operator", operator=str(op), known=", ".join(OPERATORS))
    if op in ("all", "any"):
        if not isinstance(operand, list):
            raise ConditionError(here, "not_list")
        items = tuple(_parse(item, f"{here}[{i}]", depth + 1, counter) for i, item in enumerate(operand))
        return All(items) if op == "all" else AnyOf(items)
    if op == "not":
        return Not(_parse(operand, here, depth + 1, counter))
    if op == "exists":
        return Exists(parse_path(operand, here))
    if not isinstance(operand, list) or len(operand) != 2:
        raise ConditionError(here, "operands", operator=op, count=2)
    path = parse_path(operand[0], f"{here}[0]")
    value = operand[1]
    if op == "in":
        if not isinstance(value, list) or not all(_scalar(v) for v in value):
            raise ConditionError(f"{here}[1]", "bad_value", operator=op, expected="list")
        return In(path, tuple(value))
    if op == "startswith" and not isinstance(value, str):
        raise ConditionError(f"{here}[1]", "bad_value", operator=op, expected="text")
    if op in ("gt", "ge", "lt", "le") and not (isinstance(value, str) or _number(value)):
        raise ConditionError(f"{here}[1]", "bad_value", operator=op, expected="number_or_text")
    if not _scalar(value):
        raise ConditionError(f"{here}[1]", "bad_value", operator=op, expected="scalar")
    return Compare(op, path, value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _number(value)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def lookup(event: dict[str, Any], path: Path) -> Any:
    """The value at `path` in the event, or MISSING."""
    value: Any = event
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _equal(a: Any, b: Any) -> bool:
    # JSON's true is not 1: compare booleans only with booleans.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _number(a) and _number(b):
        return a == b
    return type(a) is type(b) and a == b


def _ordered(op: str, a: Any, b: Any) -> bool:
    if not ((_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str))):
        return False
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


def evaluate(condition: Condition, event: dict[str, Any]) -> bool:
    """Whether `event` (a CloudEvent as a dict) satisfies `condition`."""
    match condition:
        case All(items):
            return all(evaluate(c, event) for c in items)
        case AnyOf(items):
            return any(evaluate(c, event) for c in items)
        case Not(item):
            return not evaluate(item, event)
        case Exists(path):
            return lookup(event, path) not in (MISSING, None)
        case In(path, values):
            value = lookup(event, path)
            return value is not MISSING and any(_equal(value, v) for v in values)
        case Compare(op, path, expected):
            value = lookup(event, path)
            if op == "ne":
                return value is MISSING or not _equal(value, expected)
            if value is MISSING:
                return False
            if op == "eq":
                return _equal(value, expected)
            if op == "contains":
                if isinstance(value, str):
                    return isinstance(expected, str) and expected in value
                return isinstance(value, list) and any(_equal(v, expected) for v in value)
            if op == "startswith":
                return isinstance(value, str) and value.startswith(expected)
            return _ordered(op, value, expected)
    raise TypeError(f"not a condition: {condition!r}")
