from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "qualiflow.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from .dbguards import install_db_guards

        # Database-level guards (immutability, raw-SQL trace) are schema, not domain behaviour: they are
        # (re)installed after every migrate so that new regulated tables are covered too.
        post_migrate.connect(install_db_guards, dispatch_uid="qualiflow.audit.install_db_guards")
