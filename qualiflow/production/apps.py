from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "qualiflow.production"
    label = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        # An operation's required qualifications are controlled with its routing, not edited beside it.
        from qualiflow.training.models import TargetKind
        from qualiflow.training.services import requirement_target_guard_register

        from .services.catalogue import operation_requirements_lock

        requirement_target_guard_register(TargetKind.OPERATION, operation_requirements_lock)
