import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID key, timestamps and external references (source system -> key) for 1:1 mapping to other systems."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    external_refs = models.JSONField(
        _("external references"),
        default=dict,
        blank=True,
        help_text=_("Keys of this record in other systems, e.g. {\"sap-hr\": \"00012345\"}."),
    )

    class Meta:
        abstract = True
