"""Forms for webhooks and the filters of the delivery list and the event log."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualiflow.core.errors import QualiflowError

from .models import DeliveryStatus, Webhook


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.CharField(label=_("URL"), max_length=500,
                          help_text=_("The receiver's http:// or https:// address; events are POSTed to it."))
    event_types = forms.CharField(
        label=_("Event types"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One pattern per line, e.g. training.qualification.* ; * for every event."),
    )
    max_attempts = forms.IntegerField(label=_("Maximum attempts"), min_value=1, max_value=50, initial=10,
                                      help_text=_("After this many failed attempts a delivery becomes a dead letter."))

    def __init__(self, *args, webhook: Webhook | None = None, **kwargs):
        if webhook is not None:
            kwargs.setdefault("initial", {
                "name": webhook.name, "url": webhook.url, "event_types": "\n".join(webhook.event_types),
                "max_attempts": webhook.max_attempts, "is_active": webhook.is_active,
            })
        super().__init__(*args, **kwargs)
        if webhook is not None:
            self.fields["is_active"] = forms.BooleanField(label=_("Active"), required=False)
            self.fields["rotate_secret"] = forms.BooleanField(
                label=_("Give it a new signing secret"), required=False,
                help_text=_("The receiver must then verify with the new secret."),
            )

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("name", "url", "event_types", "max_attempts")}
        if "is_active" in self.fields:
            data["is_active"] = self.cleaned_data["is_active"]
        return data

    def add_service_error(self, exc: QualiflowError) -> None:
        fields = exc.details.get("fields") or {}
        if not fields:
            self.add_error(None, str(exc.message))
        for name, messages in fields.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All")), *list(DeliveryStatus.choices)])
    webhook = forms.ChoiceField(label=_("Target"), required=False)
    type = forms.CharField(label=_("Event type"), required=False)

    def __init__(self, *args, webhooks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["webhook"].choices = [("", _("All")), ("nats", "NATS JetStream")] + [
            (str(w.pk), w.name) for w in webhooks
        ]

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class EventFilterForm(forms.Form):
    type = forms.CharField(label=_("Event type"), required=False)
    subject = forms.CharField(label=_("Subject"), required=False)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}
