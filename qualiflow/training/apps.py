from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Facts that change who must hold what: hiring, a position change, a requirement, a qualification's
# documents or its retirement, a document revision.
RECONCILE_ON = (
    "people.employee.created", "people.employee.position_changed", "training.requirement.*",
    "training.qualification.documents_changed", "training.qualification.deactivated", "documents.revision.*",
)


def reconcile_after(event) -> None:
    """Reconcile the people an event concerns, once it is committed; the daily job catches anything missed."""
    from django.utils import timezone

    from .services.reconcile import assignments_reconcile, people_affected

    people = people_affected(event.type, event.subject, event.data)
    if people is not None:
        assignments_reconcile(employees=people, at=timezone.now())


class TrainingConfig(AppConfig):
    name = "qualiflow.training"
    label = "training"
    verbose_name = _("Training and qualification")

    def ready(self) -> None:
        from qualiflow.integration import events

        for pattern in RECONCILE_ON:
            events.subscribe(pattern, reconcile_after)
