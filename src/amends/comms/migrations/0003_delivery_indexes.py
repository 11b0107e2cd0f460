"""The outbox for million-row notices: no automatic foreign-key indexes or database-level
foreign keys on comms_delivery (each was written, or checked at commit, for every row of a
notice), partial indexes where most rows have nothing to index, and the lease token that tells
a worker which claimed rows are still its own."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0002_subscribers"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="lease_token",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RemoveIndex(model_name="delivery", name="delivery_provider_id"),
        migrations.RemoveIndex(model_name="delivery", name="delivery_customer"),
        migrations.RemoveIndex(model_name="delivery", name="delivery_leases"),
        migrations.AlterField(
            model_name="delivery",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="network.customer",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="notice",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="comms.notice",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="subscriber",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="comms.subscriber",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("provider_id", ""), _negated=True),
                fields=["provider", "provider_id"],
                name="delivery_provider_id",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status", "sending")),
                fields=["lease_token"],
                name="delivery_leases",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", False)),
                fields=["customer", "sent_at"],
                name="delivery_customer_sent",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("subscriber__isnull", False)),
                fields=["subscriber"],
                name="delivery_subscriber",
            ),
        ),
    ]
