"""What a rule does when it fires, checked before it is saved: each action type's parameters, message
templates with `{data.path}` placeholders, trigger patterns, and the robot message bodies of the IM
platforms. Pure: whether a named course, role or user exists is the services' question.

Actions (a JSON list of objects, each with "type"):

    assign_training        course (code) or course_for_run (path to an operation run id: the courses
                           conferring what the gate found missing there); who: {"employee": path} |
                           {"employees": path} | {"position": path} | {"run_operator": path}
                           (default: the person the event concerns); due_days (1-365, default 14);
                           reason (an assignment reason, default "capa")
    notify                 to: ["person" | "manager" | {"user": username} | {"role": role, "scope":
                           "event" | "anywhere"}, ...]; subject, body (templates); email (bool, default
                           true); dedupe (template: one message per recipient and key)
    im_webhook             platform: wecom | dingtalk | feishu; url (http/https); text (template)
    call_webhook           url (http/https); timeout (1-30 seconds, default 10)
    suspend_qualification  qualification (code; default: the event's data.qualification_id);
                           who: {"employee": path} (default: the person); days (1-3650; default: until
                           lifted)

A template is a text, or {language: text} (e.g. {"en": ..., "zh-hans": ...}); `{path}` puts in a value of
the event, `{{` and `}}` stand for braces. Rendering only looks values up: no attribute access, no calls.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .condition import MISSING, ConditionError, Path, lookup, parse_path

ACTION_TYPES = ("assign_training", "notify", "im_webhook", "call_webhook", "suspend_qualification")
PLATFORMS = ("wecom", "dingtalk", "feishu")
RECIPIENT_WORDS = ("person", "manager")
ROLE_SCOPES = ("event", "anywhere")
WHO_KINDS = ("employee", "employees", "position", "run_operator")
MAX_ACTIONS = 20
MAX_TRIGGERS = 20
MAX_TEMPLATE = 4000
DEFAULT_DUE_DAYS = 14
DEFAULT_TIMEOUT = 10
# Whom an event concerns when an action does not say: the first of these paths present in the event.
PERSON_PATHS: tuple[Path, ...] = (("data", "employee_id"), ("data", "operator_id"))

_KEYS = {
    "assign_training": ({"type"}, {"course", "course_for_run", "who", "due_days", "reason"}),
    "notify": ({"type", "to", "subject"}, {"body", "email", "dedupe"}),
    "im_webhook": ({"type", "platform", "url", "text"}, set()),
    "call_webhook": ({"type", "url"}, {"timeout"}),
    "suspend_qualification": ({"type"}, {"qualification", "who", "days"}),
}
_TRIGGER = re.compile(r"^[a-z_*?\[\]!]+(\.[a-z_*?\[\]!]+){0,2}$")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class ActionError(ConditionError):
    """Codes beyond the condition's: not_list, empty, too_many, unknown_type, missing_key, unknown_key,
    bad_value (with `key` and `expected`), bad_url, bad_template, bad_trigger, own_events."""


@dataclass(frozen=True)
class Template:
    texts: tuple[tuple[str, str], ...]  # (language, text); "" is the text for every language

    def text_for(self, language: str) -> str:
        texts = dict(self.texts)
        for key in (language, language.split("-")[0], "", "en"):
            if key in texts:
                return texts[key]
        return self.texts[0][1]


@dataclass(frozen=True)
class Action:
    type: str
    params: dict[str, Any]  # as validated; templates already parsed into `Template`


# ---- triggers -----------------------------------------------------------------------------------------


def parse_triggers(raw: Any) -> tuple[str, ...]:
    """Shell-style event type patterns, e.g. `training.qualification.expiring` or `quality.event.*`."""
    if not isinstance(raw, list):
        raise ActionError("$", "not_list")
    if not raw:
        raise ActionError("$", "empty")
    if len(raw) > MAX_TRIGGERS:
        raise ActionError("$", "too_many", limit=MAX_TRIGGERS)
    for i, pattern in enumerate(raw):
        if not isinstance(pattern, str) or not _TRIGGER.match(pattern):
            raise ActionError(f"$[{i}]", "bad_trigger", pattern=str(pattern))
        if pattern.startswith("automation."):
            raise ActionError(f"$[{i}]", "own_events", pattern=pattern)
    return tuple(dict.fromkeys(raw))


def triggered(patterns: tuple[str, ...] | list[str], event_type: str) -> bool:
    """Rules never fire on the automation's own events: a rule on `*` would otherwise feed on its firings."""
    if event_type.startswith("automation."):
        return False
    return any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


# ---- templates ----------------------------------------------------------------------------------------


def parse_template(raw: Any, where: str) -> Template:
    if isinstance(raw, str):
        texts = (("", raw),)
    elif isinstance(raw, dict) and raw and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        texts = tuple((k.lower(), v) for k, v in raw.items())
    else:
        raise ActionError(where, "bad_value", expected="template")
    for language, text in texts:
        here = f"{where}.{language}" if language else where
        if len(text) > MAX_TEMPLATE:
            raise ActionError(here, "too_large", limit=MAX_TEMPLATE)
        for match in _PLACEHOLDER.finditer(text):
            token = match.group(0)
            if token in ("{{", "}}"):
                continue
            if match.group(1) is None:
                raise ActionError(here, "bad_template", text=token)
            try:
                parse_path(match.group(1).strip(), here)
            except ConditionError as exc:
                raise ActionError(here, "bad_template", text=token) from exc
    return Template(texts)


def _text(value: Any) -> str:
    if value is MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def render(template: Template, event: dict[str, Any], language: str) -> str:
    """The template's text for `language` with each `{path}` replaced by the event's value there."""

    def put(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return _text(lookup(event, tuple(match.group(1).strip().split("."))))

    return _PLACEHOLDER.sub(put, template.text_for(language))


# ---- actions ------------------------------------------------------------------------------------------


def _require_text(action: dict, key: str, where: str, *, limit: int = 200) -> str:
    value = action.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ActionError(f"{where}.{key}", "bad_value", key=key, expected="text")
    return value.strip()


def _int(action: dict, key: str, where: str, low: int, high: int, default: int | None) -> int | None:
    if key not in action:
        return default
    value = action[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(f"{where}.{key}", "bad_value", key=key, expected=f"{low}-{high}")
    return value


def _url(action: dict, where: str) -> str:
    value = action.get("url")
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 500:
        raise ActionError(f"{where}.url", "bad_url", url=str(value)[:100])
    return value


def _path(value: Any, where: str) -> str:
    parse_path(value, where)
    return value


def _who(action: dict, where: str, kinds: tuple[str, ...]) -> dict[str, str] | None:
    if "who" not in action:
        return None
    value = action["who"]
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in kinds:
        raise ActionError(f"{where}.who", "bad_value", key="who", expected=" | ".join(kinds))
    kind, path = next(iter(value.items()))
    return {kind: _path(path, f"{where}.who.{kind}")}


def _recipients(action: dict, where: str) -> list[Any]:
    value = action.get("to")
    if not isinstance(value, list) or not value:
        raise ActionError(f"{where}.to", "bad_value", key="to", expected="recipients")
    result: list[Any] = []
    for i, item in enumerate(value):
        here = f"{where}.to[{i}]"
        if isinstance(item, str) and item in RECIPIENT_WORDS:
            result.append(item)
        elif isinstance(item, dict) and set(item) == {"user"} and isinstance(item["user"], str) and item["user"].strip():
            result.append({"user": item["user"].strip()})
        elif (isinstance(item, dict) and "role" in item and set(item) <= {"role", "scope"}
              and isinstance(item["role"], str) and item.get("scope", "event") in ROLE_SCOPES):
            result.append({"role": item["role"], "scope": item.get("scope", "event")})
        else:
            raise ActionError(here, "bad_value", key="to", expected="recipient")
    return result


def parse_action(raw: Any, where: str) -> Action:
    if not isinstance(raw, dict):
        raise ActionError(where, "not_object")
    kind = raw.get("type")
    if kind not in ACTION_TYPES:
        raise ActionError(f"{where}.type", "unknown_type", type=str(kind), known=", ".join(ACTION_TYPES))
    required, optional = _KEYS[kind]
    missing, unknown = sorted(required - set(raw)), sorted(map(str, set(raw) - required - optional))
    if missing:
        raise ActionError(where, "missing_key", key=missing[0], type=kind)
    if unknown:
        raise ActionError(where, "unknown_key", key=unknown[0], type=kind)
    params: dict[str, Any] = {}
    if kind == "assign_training":
        if ("course" in raw) == ("course_for_run" in raw):
            raise ActionError(where, "missing_key", key="course", type=kind)
        if "course" in raw:
            params["course"] = _require_text(raw, "course", where, limit=40)
        else:
            params["course_for_run"] = _path(raw["course_for_run"], f"{where}.course_for_run")
        params["who"] = _who(raw, where, WHO_KINDS)
        params["due_days"] = _int(raw, "due_days", where, 1, 365, DEFAULT_DUE_DAYS)
        params["reason"] = _require_text(raw, "reason", where, limit=40) if "reason" in raw else "capa"
    elif kind == "notify":
        params["to"] = _recipients(raw, where)
        params["subject"] = parse_template(raw["subject"], f"{where}.subject")
        params["body"] = parse_template(raw["body"], f"{where}.body") if "body" in raw else None
        if not isinstance(raw.get("email", True), bool):
            raise ActionError(f"{where}.email", "bad_value", key="email", expected="boolean")
        params["email"] = raw.get("email", True)
        params["dedupe"] = parse_template(raw["dedupe"], f"{where}.dedupe") if "dedupe" in raw else None
    elif kind == "im_webhook":
        if raw["platform"] not in PLATFORMS:
            raise ActionError(f"{where}.platform", "bad_value", key="platform", expected=" | ".join(PLATFORMS))
        params["platform"] = raw["platform"]
        params["url"] = _url(raw, where)
        params["text"] = parse_template(raw["text"], f"{where}.text")
    elif kind == "call_webhook":
        params["url"] = _url(raw, where)
        params["timeout"] = _int(raw, "timeout", where, 1, 30, DEFAULT_TIMEOUT)
    else:
        params["qualification"] = _require_text(raw, "qualification", where, limit=40) if "qualification" in raw else None
        params["who"] = _who(raw, where, ("employee",))
        params["days"] = _int(raw, "days", where, 1, 3650, None)
    return Action(kind, params)


def parse_actions(raw: Any) -> tuple[Action, ...]:
    if not isinstance(raw, list):
        raise ActionError("$", "not_list")
    if not raw:
        raise ActionError("$", "empty")
    if len(raw) > MAX_ACTIONS:
        raise ActionError("$", "too_many", limit=MAX_ACTIONS)
    return tuple(parse_action(item, f"$[{i}]") for i, item in enumerate(raw))


def needs_signature(actions: tuple[Action, ...]) -> bool:
    """Suspending a qualification stops a person working: such a rule runs only once approved by signature."""
    return any(a.type == "suspend_qualification" for a in actions)


def person_path(who: dict[str, str] | None, event: dict[str, Any]) -> Path | None:
    """Where the person an action concerns is named: its `who` path, else the event's person."""
    if who is not None:
        return tuple(next(iter(who.values())).split("."))
    return next((p for p in PERSON_PATHS if lookup(event, p) not in (MISSING, None)), None)


# ---- IM robots ----------------------------------------------------------------------------------------


def im_message(platform: str, text: str) -> dict[str, Any]:
    """The text message body each robot webhook expects."""
    if platform == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    # WeCom (企业微信) and DingTalk (钉钉) group robots share the shape.
    return {"msgtype": "text", "text": {"content": text}}
