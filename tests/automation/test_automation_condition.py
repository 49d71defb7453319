"""The condition language: properties of the evaluator, examples, and the faults `parse` names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualiflow.automation.domain import actions as spec
from qualiflow.automation.domain.condition import ALWAYS, AnyOf, ConditionError, evaluate, parse

EVENT = {
    "type": "training.qualification.expiring", "subject": "training/grant/1", "source": "urn:qualiflow:plant",
    "id": "e1", "time": "2026-03-01T08:00:00Z",
    "data": {"qualification": {"code": "EO-OP"}, "days": 12, "tags": ["cleanroom", "eo"], "ok": True, "none": None,
             "list": [{"n": 1}, {"n": 2}]},
}

paths = st.sampled_from(["type", "subject", "data.days", "data.qualification.code", "data.tags", "data.ok",
                         "data.none", "data.absent", "data.list.1.n"])
values = st.one_of(st.integers(-20, 20), st.sampled_from(["EO-OP", "eo", "training", "cleanroom", ""]), st.booleans(),
                   st.none())
leaves = st.one_of(
    st.builds(lambda op, p, v: {op: [p, v]}, st.sampled_from(["eq", "ne", "contains"]), paths, values),
    st.builds(lambda op, p, v: {op: [p, v]}, st.sampled_from(["gt", "ge", "lt", "le"]), paths,
              st.one_of(st.integers(-20, 20), st.text(max_size=3))),
    st.builds(lambda p, vs: {"in": [p, vs]}, paths, st.lists(values, max_size=3)),
    st.builds(lambda p: {"exists": p}, paths),
    st.builds(lambda p, v: {"startswith": [p, v]}, paths, st.sampled_from(["EO", "train", "", "x"])),
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(st.builds(lambda cs: {"all": cs}, st.lists(inner, max_size=3)),
                            st.builds(lambda cs: {"any": cs}, st.lists(inner, max_size=3)),
                            st.builds(lambda c: {"not": c}, inner)),
    max_leaves=8,
)


def holds(raw) -> bool:
    return evaluate(parse(raw), EVENT)


@settings(max_examples=300, deadline=None)
@given(conditions)
def test_double_negation_is_the_condition(c):
    assert holds({"not": {"not": c}}) == holds(c)


@settings(max_examples=300, deadline=None)
@given(conditions, conditions)
def test_de_morgan(a, b):
    assert holds({"not": {"all": [a, b]}}) == holds({"any": [{"not": a}, {"not": b}]})
    assert holds({"not": {"any": [a, b]}}) == holds({"all": [{"not": a}, {"not": b}]})


@settings(max_examples=200, deadline=None)
@given(paths, values)
def test_ne_is_not_eq(path, value):
    assert holds({"ne": [path, value]}) == (not holds({"eq": [path, value]}))


@settings(max_examples=200, deadline=None)
@given(st.lists(conditions, max_size=4))
def test_all_and_any_agree_with_python(cs):
    assert holds({"all": cs}) == all(holds(c) for c in cs)
    assert holds({"any": cs}) == any(holds(c) for c in cs)


def test_empty_all_holds_and_empty_any_does_not():
    assert evaluate(ALWAYS, EVENT) is True
    assert evaluate(AnyOf(()), EVENT) is False


@pytest.mark.parametrize(("raw", "expected"), [
    ({"eq": ["data.qualification.code", "EO-OP"]}, True),
    ({"eq": ["type", "training.qualification.expiring"]}, True),
    ({"eq": ["data.days", 12.0]}, True),
    ({"eq": ["data.ok", 1]}, False),  # JSON true is not 1
    ({"ne": ["data.absent", "x"]}, True),
    ({"in": ["data.qualification.code", ["EO-OP", "X"]]}, True),
    ({"gt": ["data.days", 10]}, True),
    ({"le": ["data.days", 11]}, False),
    ({"gt": ["data.days", "10"]}, False),  # a number is not compared with a text
    ({"ge": ["time", "2026-03-01T00:00:00Z"]}, True),
    ({"exists": "data.none"}, False),
    ({"exists": "data.qualification"}, True),
    ({"contains": ["data.tags", "eo"]}, True),
    ({"contains": ["subject", "grant"]}, True),
    ({"startswith": ["type", "training."]}, True),
    ({"eq": ["data.list.1.n", 2]}, True),
    ({"eq": ["data.list.5.n", 2]}, False),
    ({"not": {"eq": ["data.absent", None]}}, True),
])
def test_examples(raw, expected):
    assert holds(raw) is expected


@pytest.mark.parametrize(("raw", "where", "code", "params"), [
    ([], "$", "not_object", {}),
    ({"eq": ["type", "x"], "ne": ["type", "y"]}, "$", "one_operator", {"count": 2}),
    ({"all": [{"eq": ["type", "x"]}, {"equals": ["type", "x"]}]}, "$.all[1]", "unknown_operator",
     {"operator": "equals"}),
    ({"eq": ["type"]}, "$.eq", "operands", {"operator": "eq", "count": 2}),
    ({"any": {"eq": ["type", "x"]}}, "$.any", "not_list", {}),
    ({"eq": ["data..code", 1]}, "$.eq[0]", "bad_path", {"path": "data..code"}),
    ({"eq": ["payload.code", 1]}, "$.eq[0]", "bad_path", {"path": "payload.code"}),
    ({"eq": ["type.x", 1]}, "$.eq[0]", "bad_path", {"path": "type.x"}),
    ({"eq": ["data.__class__.x()", 1]}, "$.eq[0]", "bad_path", {"path": "data.__class__.x()"}),
    ({"in": ["type", "x"]}, "$.in[1]", "bad_value", {"expected": "list"}),
    ({"eq": ["type", {"a": 1}]}, "$.eq[1]", "bad_value", {"expected": "scalar"}),
    ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"exists": "type"}}}}}}}}}}}}},
     "$.not.not.not.not.not.not.not.not.not.not.not.not", "too_deep", {"limit": 12}),
])
def test_parse_names_the_fault_and_where(raw, where, code, params):
    with pytest.raises(ConditionError) as caught:
        parse(raw)
    assert (caught.value.where, caught.value.code) == (where, code)
    assert params.items() <= caught.value.params.items()


def test_too_many_nodes_is_refused():
    with pytest.raises(ConditionError) as caught:
        parse({"any": [{"exists": "type"}] * 250})
    assert caught.value.code == "too_large"


def test_templates_render_values_without_code():
    template = spec.parse_template({"en": "{data.qualification.code} for {{you}} {data.absent}.", "zh-hans": "资质 {data.days}"}, "$")
    assert spec.render(template, EVENT, "en") == "EO-OP for {you} ."
    assert spec.render(template, EVENT, "zh-hans") == "资质 12"
    # Keys are looked up in the event's JSON, never as attributes: a dunder is just an absent key.
    assert spec.render(spec.parse_template("Hello {data.__class__.__init__.__globals__}", "$"), EVENT, "en") == "Hello "
    with pytest.raises(ConditionError) as caught:
        spec.parse_template("Hello {data.x[0]}", "$[0].subject")
    assert (caught.value.where, caught.value.code) == ("$[0].subject", "bad_template")
    with pytest.raises(ConditionError):
        spec.parse_template("{0.__class__}", "$")


@pytest.mark.parametrize(("raw", "where", "code"), [
    ([{"type": "notify", "to": ["person"]}], "$[0]", "missing_key"),
    ([{"type": "explode"}], "$[0].type", "unknown_type"),
    ([{"type": "call_webhook", "url": "ftp://x/"}], "$[0].url", "bad_url"),
    ([{"type": "call_webhook", "url": "https://x/", "retries": 3}], "$[0]", "unknown_key"),
    ([{"type": "im_webhook", "platform": "slack", "url": "https://x/", "text": "t"}], "$[0].platform", "bad_value"),
    ([{"type": "notify", "to": ["everyone"], "subject": "s"}], "$[0].to[0]", "bad_value"),
    ([{"type": "assign_training", "course": "C", "due_days": 0}], "$[0].due_days", "bad_value"),
    ([{"type": "assign_training", "who": {"employee": "data.employee_id"}}], "$[0]", "missing_key"),
    ([], "$", "empty"),
])
def test_action_faults(raw, where, code):
    with pytest.raises(ConditionError) as caught:
        spec.parse_actions(raw)
    assert (caught.value.where, caught.value.code) == (where, code)


def test_triggers_and_robot_bodies():
    assert spec.parse_triggers(["quality.event.*", "quality.event.*"]) == ("quality.event.*",)
    assert spec.triggered(("quality.event.*",), "quality.event.closed")
    assert not spec.triggered(("*",), "automation.rule.fired")
    with pytest.raises(ConditionError) as caught:
        spec.parse_triggers(["automation.rule.fired"])
    assert caught.value.code == "own_events"
    assert spec.im_message("wecom", "hi") == {"msgtype": "text", "text": {"content": "hi"}}
    assert spec.im_message("dingtalk", "hi") == {"msgtype": "text", "text": {"content": "hi"}}
    assert spec.im_message("feishu", "hi") == {"msg_type": "text", "content": {"text": "hi"}}
