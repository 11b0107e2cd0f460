from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from amends.core import audit
from amends.core.models import AuditEntry


def _record_three() -> list[AuditEntry]:
    return [
        audit.record("alice", "outage.declare", ("outages.outage", "1"), after={"title": "Fault"}),
        audit.record(
            "bob",
            "outage.update",
            ("outages.outage", "1"),
            before={"etr": None},
            after={"etr": "2026-11-27T13:00:00+00:00"},
        ),
        audit.record(None, "network.import_customers", after={"rows": 3, "amount": 12.5}),
    ]


@pytest.mark.django_db
def test_entries_are_chained_and_verify() -> None:
    first, second, third = _record_three()
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert third.actor == "system"
    assert list(audit.verify()) == []
    call_command("audit", "verify")


def _tamper(sql: str, params: list[object]) -> None:
    """Change the table the way an attacker with database rights would: triggers off first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
            cursor.execute(sql, params)


@pytest.mark.django_db
def test_edited_row_is_named_by_verify(capsys: pytest.CaptureFixture[str]) -> None:
    _record_three()
    _tamper("UPDATE core_auditentry SET actor = %s WHERE seq = %s", ["mallory", 2])
    problems = list(audit.verify())
    assert [p.seq for p in problems] == [2]
    assert "changed" in problems[0].message
    with pytest.raises(CommandError, match="broken at 1 place"):
        call_command("audit", "verify")
    assert "audit entry #2" in capsys.readouterr().err


@pytest.mark.django_db
def test_deleted_row_is_detected() -> None:
    _record_three()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM core_auditentry WHERE seq = 2")
    problems = list(audit.verify())
    assert problems and problems[0].seq == 3
    assert "missing" in problems[0].message


@pytest.mark.django_db
def test_database_refuses_updates_to_the_log() -> None:
    _record_three()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor = 'x' WHERE seq = 1")
    entry = AuditEntry.objects.get(seq=1)
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


@pytest.mark.django_db
def test_rolled_back_change_leaves_no_entry() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("alice", "outage.declare")
        raise RuntimeError("the change failed")
    assert AuditEntry.objects.count() == 0
    assert audit.record("alice", "outage.declare").seq == 1
