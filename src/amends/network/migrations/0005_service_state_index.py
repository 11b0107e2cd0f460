"""A service's state index without the locality behind it.

Every query that filters services by place (outages.impact, outages.classification) asks for a
state, or for a locality as ``state = %s AND UPPER(locality) = %s``: no plan can use the
locality column of a (state, locality) index for that, so only its state prefix ever served.
The two-column index was the dearest to build after a bulk import (locality breaks the ties of
a column of eight values: 1.0–1.8 s of a million-service import against 0.5–0.8 s for state
alone) and the plans stay the same.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0004_service_codes_collation"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="service",
            name="network_ser_state_53ecbe_idx",
        ),
        migrations.AddIndex(
            model_name="service",
            index=models.Index(fields=["state"], name="network_ser_state_70a299_idx"),
        ),
    ]
