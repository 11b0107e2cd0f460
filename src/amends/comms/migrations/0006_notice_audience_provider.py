"""A provided audience names its provider in a field of its own, no longer in
``audience_segment`` (which names a segment): existing notices move over, in one UPDATE."""

from typing import Any

from django.db import migrations, models
from django.db.models import F


def provider_to_own_field(apps: Any, schema_editor: Any) -> None:
    Notice = apps.get_model("comms", "Notice")
    Notice.objects.filter(audience="provided").update(
        audience_provider=F("audience_segment"), audience_segment=""
    )


def provider_back_to_segment(apps: Any, schema_editor: Any) -> None:
    Notice = apps.get_model("comms", "Notice")
    Notice.objects.filter(audience="provided").update(
        audience_segment=F("audience_provider"), audience_provider=""
    )


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0005_inbound_once_per_provider_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="notice",
            name="audience_provider",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.RunPython(provider_to_own_field, provider_back_to_segment),
    ]
