"""Operations, their timelines and the sync state keep a message key and its values instead of
the words in two languages (`message_zh`, `detail_zh`, `error_message_zh` go).

Rows written before keep their words frozen: the English stays in `message` (`detail`,
`error_message`), the Chinese moves to `<field>_frozen` as {"zh-hans": ...}, so history reads the
same. Backwards, the Chinese comes back from the frozen words, or is worded from the key.
"""

from django.db import migrations, models

# (model, field) pairs whose Chinese twin goes.
FIELDS = (
    ("operation", "message"),
    ("operationevent", "detail"),
    ("syncstate", "error_message"),
)


def freeze_chinese(apps, schema_editor):
    for model_name, field in FIELDS:
        model = apps.get_model("dashboard", model_name)
        rows = model.objects.exclude(**{f"{field}_zh": ""})
        for row in rows.iterator():
            setattr(row, f"{field}_frozen", {"zh-hans": getattr(row, f"{field}_zh")})
            row.save(update_fields=[f"{field}_frozen"])


def thaw_chinese(apps, schema_editor):
    from dashboard.wording import recorded_words

    for model_name, field in FIELDS:
        model = apps.get_model("dashboard", model_name)
        for row in model.objects.iterator():
            if getattr(row, f"{field}_key"):
                chinese = recorded_words(row, field, "zh-hans")
            else:
                chinese = (getattr(row, f"{field}_frozen") or {}).get("zh-hans", "")
            if chinese and chinese != getattr(row, field):
                setattr(row, f"{field}_zh", chinese)
                row.save(update_fields=[f"{field}_zh"])


def _new_fields(model_name, field):
    return [
        migrations.AddField(
            model_name=model_name,
            name=f"{field}_key",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name=model_name,
            name=f"{field}_values",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name=model_name,
            name=f"{field}_frozen",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0013_new_audit_actions_timeline_entries_and_status_words"),
    ]

    operations = [
        *[op for model_name, field in FIELDS for op in _new_fields(model_name, field)],
        migrations.RunPython(freeze_chinese, thaw_chinese),
        *[
            migrations.RemoveField(model_name=model_name, name=f"{field}_zh")
            for model_name, field in FIELDS
        ],
    ]
