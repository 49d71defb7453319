from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "qualiflow.demo"
    label = "demo"
    verbose_name = "Demo plant"
