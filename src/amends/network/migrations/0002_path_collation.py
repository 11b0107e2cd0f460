"""On PostgreSQL, compare element paths byte by byte (collation "C").

Subtree queries are ranges on ``path``; a locale collation would ignore the '/' separators and
put paths in a different order than SQLite's binary comparison, breaking those ranges.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def use_c_collation(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE network_networkelement ALTER COLUMN path TYPE varchar(1024) COLLATE "C"'
        )


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]

    operations = [migrations.RunPython(use_c_collation, migrations.RunPython.noop)]
