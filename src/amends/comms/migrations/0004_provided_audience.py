"""A notice's audience may be chosen by another app (``comms.audience_providers``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0003_delivery_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notice",
            name="audience",
            field=models.CharField(
                choices=[
                    ("all_affected", "Everyone affected"),
                    ("still_affected", "Everyone still affected"),
                    ("etr_changed", "Those whose restoration time changed"),
                    ("restored", "Those restored"),
                    ("segment", "A segment of those affected"),
                    ("list", "A list of customers"),
                    ("subscribers", "Status page subscribers"),
                    ("provided", "Chosen by another app"),
                ],
                max_length=20,
            ),
        ),
    ]
