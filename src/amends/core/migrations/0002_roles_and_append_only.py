"""Create the staff role groups, and triggers that refuse UPDATE/DELETE on the audit log."""

from __future__ import annotations

from typing import Any

from django.db import migrations

ROLES = (
    "viewer",
    "agent",
    "communications",
    "commander",
    "remediation analyst",
    "approver",
    "admin",
)

TABLE = "core_auditentry"

SQLITE_FORWARD = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update"]

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION amends_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION amends_audit_append_only()",
]
POSTGRES_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    "DROP FUNCTION IF EXISTS amends_audit_append_only()",
]


def create_roles(apps: Any, schema_editor: Any) -> None:
    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.get_or_create(name=name)


def remove_roles(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    # SQLite flushes test databases with DELETE, so there only UPDATE is refused; deleting
    # entries still breaks the chain, which `amends audit verify` reports.
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def add_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD})


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
