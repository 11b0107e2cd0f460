"""No database FOREIGN KEY on a service's customer, product and element, nor a customer's team.

Per-row constraint checks cost an import of a million services more than all its other work;
the importer checks those references set-based instead (see network.models).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0002_path_collation"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="network.team",
            ),
        ),
        migrations.AlterField(
            model_name="service",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="services",
                to="network.customer",
            ),
        ),
        migrations.AlterField(
            model_name="service",
            name="element",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="services",
                to="network.networkelement",
            ),
        ),
        migrations.AlterField(
            model_name="service",
            name="product",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="services",
                to="network.product",
            ),
        ),
    ]
