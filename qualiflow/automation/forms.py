"""Forms for the automation pages. They parse input only (text to JSON); the services check the rule."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import ValidationFailed
from qualiflow.org.forms import ServiceForm

from .models import FiringOutcome
from .services import parse_json

_JSON_HELP = _('JSON. Operators: all, any, not, eq, ne, in, gt, ge, lt, le, exists, contains, startswith; paths: '
               'type, subject, data.<field>. Example: {"eq": ["data.qualification_code", "EO-OP"]}. Empty: always.')
_ACTIONS_HELP = _('A JSON list. Types: assign_training, notify, im_webhook (wecom, dingtalk, feishu), call_webhook, '
                  'suspend_qualification. Example: [{"type": "notify", "to": ["person", "manager"], "subject": '
                  '"{data.qualification_code} expires"}]')


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


class RuleForm(ServiceForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    triggers = forms.CharField(
        label=_("Trigger events"), widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text=_("One event type per line; * matches any part, e.g. quality.event.*"),
    )
    condition = forms.CharField(label=_("Condition"), required=False, help_text=_JSON_HELP,
                                widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}))
    actions = forms.CharField(label=_("Actions"), help_text=_ACTIONS_HELP,
                              widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}))

    @classmethod
    def for_rule(cls, rule, data=None) -> RuleForm:
        return cls(data, initial={
            "name": rule.name, "description": rule.description, "triggers": "\n".join(rule.triggers),
            "condition": _json_text(rule.condition), "actions": _json_text(rule.actions),
        })

    def _json(self, part: str, text: str):
        try:
            return parse_json(part, text)
        except ValidationFailed as exc:
            raise forms.ValidationError([str(m) for m in exc.fields[part]]) from exc

    def clean_triggers(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["triggers"].splitlines() if line.strip()]

    def clean_condition(self):
        text = self.cleaned_data["condition"].strip()
        return self._json("condition", text) if text else {"all": []}

    def clean_actions(self):
        return self._json("actions", self.cleaned_data["actions"])

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("name", "description", "triggers", "condition", "actions")}


class ActivateForm(ServiceForm, forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("This rule suspends qualifications: activating it approves it with your e-signature."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class TestForm(forms.Form):
    event = forms.UUIDField(label=_("Event id"))


class FiringFilterForm(forms.Form):
    rule = forms.UUIDField(label=_("Rule"), required=False, widget=forms.HiddenInput)
    event = forms.UUIDField(label=_("Event id"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", _("All")), *FiringOutcome.choices], required=False)
    type = forms.CharField(label=_("Event type starts with"), required=False, max_length=120)

    def selector_kwargs(self) -> dict:
        """Filters for `selectors.firing_list`; a filter that does not parse is ignored."""
        self.is_valid()
        value = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        return {"rule_id": value.get("rule"), "event_id": value.get("event"), "outcome": value.get("outcome") or "",
                "event_type": value.get("type") or ""}
