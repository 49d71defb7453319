from django.core.management.base import BaseCommand

from qualiflow.automation.services import rules_install_defaults


class Command(BaseCommand):
    help = "Install the plant's default automation rules that are not installed yet (active from now)."

    def handle(self, *args, **options):
        created = rules_install_defaults()
        for rule in created:
            self.stdout.write(f"installed: {rule.name}")
        self.stdout.write(f"{len(created)} default rule(s) installed")
