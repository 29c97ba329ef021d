from django.core.management.base import BaseCommand, CommandError

from dashboard import services
from dashboard.models import AlertChannel, AlertDelivery


class Command(BaseCommand):
    help = "Send a test message to a chat channel now, and say whether the platform took it."

    def add_arguments(self, parser):
        parser.add_argument("channel", help="The channel's name.")

    def handle(self, *args, channel: str, **options):
        target = AlertChannel.objects.filter(name=channel).first()
        if target is None:
            names = ", ".join(AlertChannel.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No channel is named {channel!r} (channels: {names}).")
        delivery = services.alert_test(target, None)
        if delivery.state != AlertDelivery.State.SENT:
            raise CommandError(
                f"The test message was not delivered: {delivery.last_result}. It is tried again "
                "with the other deliveries (the channel's page in the admin shows how it goes)."
            )
        self.stdout.write(f"delivered a test message to {target.name}")
