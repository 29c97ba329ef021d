from django.apps import AppConfig


class VmclientConfig(AppConfig):
    name = "vmclient"
    verbose_name = "Xuandashi upstream"
