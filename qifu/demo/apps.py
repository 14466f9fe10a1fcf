from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "qifu.demo"
    verbose_name = "Demo"
