from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShellConfig(AppConfig):
    """The UI shell: base layout, navigation across all domains, home page, language switch."""

    name = "qualiflow.shell"
    label = "shell"
    verbose_name = _("User interface")
