# This migration once gave the audit actions and alert kinds of five branches one choice list.
# Choices are no longer part of the migrations (dashboard/models/fields.py says why), so it has
# nothing left to do; it stays because databases record it as applied and later ones follow it.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0020_money"),
    ]

    operations = []
