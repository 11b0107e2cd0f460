"""A text is kept once per provider message id: a retried webhook is answered, not kept again."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0004_provided_audience"),
        ("network", "0005_service_state_index"),
        ("outages", "0002_social_posts"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="inboundmessage",
            constraint=models.UniqueConstraint(
                condition=models.Q(("provider_id", ""), _negated=True),
                fields=("channel", "provider_id"),
                name="inbound_once_per_provider_id",
            ),
        ),
    ]
