from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and load data (`seed_demo`, `seed_load`): the top of the import order, it may import every app."""

    verbose_name = "Demo data"
    name = "demo"
