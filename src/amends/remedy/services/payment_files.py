"""The billing file of a payout batch, as CSV or JSON Lines, byte for byte reproducible.

One line per payout, in payout id order: the batch id (billing applies a batch once), payout
and entitlement (or claim) ids, the customer's external id, method, amount in cents and in
units of the policy's currency with its ISO 4217 code, the reference billing pays to (a
refund's payment details reference; the program reference on a bill credit) and the words
for the bill line. Everything comes from the payout
rows as they were exported, so exporting the same batch again gives the same bytes (its
``sha256`` is kept on the batch and checked).

On PostgreSQL the file comes straight out of the database, ``COPY (SELECT …) TO STDOUT``, and
is hashed as it streams: a million lines never pass through Python one by one. The SELECT
writes each field exactly as the Python writer below does (the SQLite path, and the
definition of the format), so both databases give the same bytes for the same payouts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from typing import IO

from django.db import connection
from django.http import StreamingHttpResponse

from amends.core.errors import Conflict
from amends.core.money import format_money, money_prefix
from amends.remedy.models import BatchFormat, Payout, PayoutBatch, PayoutMethod

COLUMNS = (
    "batch_id",
    "payout_id",
    "entitlement_id",
    "claim_id",
    "customer_external_id",
    "method",
    "amount_cents",
    "amount",
    "currency",
    "interest_cents",
    "reference",
    "description",
    "payment_date",
)
CHUNK = 10_000
FLUSH_BYTES = 1 << 20  # hash and write the COPY stream a megabyte at a time, not row by row


def _rows(batch: PayoutBatch) -> Iterator[dict[str, object]]:
    program = batch.program.reference
    currency = batch.program.policy_version.currency
    payment_date = batch.payment_date.isoformat() if batch.payment_date else ""
    payouts = (
        Payout.objects.filter(program_id=batch.program_id, batch=batch)
        .order_by("id")
        .values_list(
            "id",
            "entitlement_id",
            "claim_id",
            "customer__external_id",
            "method",
            "amount_cents",
            "interest_cents",
            "payment_reference",
        )
    )
    for pid, entitlement, claim, customer, method, cents, interest, reference in payouts.iterator(
        chunk_size=CHUNK
    ):
        refund = method == PayoutMethod.REFUND
        what = "refund" if refund else "credit"
        description = f"Outage {what} {program}"
        if interest:
            description += f" incl. {format_money(interest, currency)} interest"
        yield {
            "batch_id": batch.batch_id,
            "payout_id": pid,
            "entitlement_id": entitlement or "",
            "claim_id": claim or "",
            "customer_external_id": customer,
            "method": method,
            "amount_cents": cents,
            "amount": f"{cents // 100}.{cents % 100:02d}",
            "currency": currency,
            "interest_cents": interest,
            "reference": reference if refund else program,
            "description": description,
            "payment_date": payment_date,
        }


def _python_chunks(batch: PayoutBatch) -> Iterator[str]:
    """The file's text in pieces (CSV with a header row, or one JSON object per line)."""
    if batch.file_format == BatchFormat.JSONL:
        for row in _rows(batch):
            yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _rows(batch):
        writer.writerow(row)
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# Each field as the Python writer prints it. Empty text becomes NULL, which COPY's CSV writes
# as nothing at all, as csv.writer does (an empty string it would write as ""). Amounts are
# whole cents ≥ 0; the interest in the description is format_money's "$1,234.56" (its
# ``money_prefix``, then the digits: the console's en_AU writes every currency that way).
_FIELDS_SQL = """
SELECT CAST(%(batch_id)s AS text) AS batch_id, p.id AS payout_id, p.entitlement_id,
  p.claim_id, NULLIF(c.external_id, '') AS customer_external_id, p.method, p.amount_cents,
  CAST(p.amount_cents / 100 AS text) || '.' || lpad(CAST(p.amount_cents %% 100 AS text), 2, '0')
    AS amount,
  CAST(%(currency)s AS text) AS currency,
  p.interest_cents,
  NULLIF(CASE WHEN p.method = %(refund)s THEN p.payment_reference ELSE CAST(%(program)s AS text)
    END, '')
    AS reference,
  'Outage ' || CASE WHEN p.method = %(refund)s THEN 'refund' ELSE 'credit' END || ' '
    || CAST(%(program)s AS text) || CASE WHEN p.interest_cents = 0 THEN '' ELSE ' incl. '
    || CAST(%(prefix)s AS text) || to_char(p.interest_cents / 100, 'FM999,999,999,999,990') || '.'
    || lpad(CAST(p.interest_cents %% 100 AS text), 2, '0') || ' interest' END AS description,
  NULLIF(CAST(%(payment_date)s AS text), '') AS payment_date
FROM remedy_payout p JOIN network_customer c ON c.id = p.customer_id
WHERE p.program_id = %(program_id)s AND p.batch_id = %(batch)s
"""
NUMBERS = ("payout_id", "entitlement_id", "claim_id", "amount_cents", "interest_cents")


def _json_line_sql() -> str:
    """One JSON object per line, keys in COLUMNS order, as json.dumps(separators=(",", ":"),
    ensure_ascii=False) writes it: to_json escapes text the same way; ids absent are ""."""
    members = []
    for name in COLUMNS:
        if name in NUMBERS:
            value = f"COALESCE(CAST(f.{name} AS text), '\"\"')"
        else:
            value = f"CAST(to_json(COALESCE(f.{name}, '')) AS text)"
        members.append(f"'\"{name}\":' || {value}")
    return "'{' || " + " || ',' || ".join(members) + " || '}'"


_COPY_SQL: dict[str, str] = {
    BatchFormat.CSV: f"COPY ({_FIELDS_SQL} ORDER BY p.id) TO STDOUT WITH (FORMAT csv, HEADER)",
    # CSV with a delimiter and quote no JSON text contains (to_json escapes control
    # characters): each line comes out as it is, where the text format would double every
    # backslash.
    BatchFormat.JSONL: f"COPY (SELECT {_json_line_sql()} FROM ({_FIELDS_SQL}) f "  # noqa: S608
    "ORDER BY f.payout_id) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')",
}


def _copied(batch: PayoutBatch) -> Iterator[bytes]:
    """The file's bytes from PostgreSQL's COPY, a megabyte at a time."""
    params = {
        "batch_id": batch.batch_id,
        "batch": batch.pk,
        "program_id": batch.program_id,
        "refund": PayoutMethod.REFUND,
        "program": batch.program.reference,
        "currency": batch.program.policy_version.currency,
        "prefix": money_prefix(batch.program.policy_version.currency),
        "payment_date": batch.payment_date.isoformat() if batch.payment_date else "",
    }
    pending = bytearray()
    with connection.cursor() as cursor, cursor.copy(_COPY_SQL[batch.file_format], params) as copy:
        for data in copy:
            pending += data
            if len(pending) >= FLUSH_BYTES:
                yield bytes(pending)
                pending.clear()
    yield bytes(pending)


def encoded(batch: PayoutBatch) -> Iterator[bytes]:
    """The file as bytes: from COPY on PostgreSQL, from the Python writer elsewhere. (Check it
    with ``write`` before streaming it to someone: once a response has started, a problem can
    no longer be reported.)"""
    if connection.vendor == "postgresql":
        yield from _copied(batch)
        return
    for text in _python_chunks(batch):
        yield text.encode("utf-8")


def write(batch: PayoutBatch, handle: IO[bytes] | None = None) -> str:
    """Write the file to ``handle`` (or nowhere) and return its SHA-256. A batch exported
    before must come out exactly as it did: anything else is refused, not sent."""
    hasher = hashlib.sha256()
    for data in encoded(batch):
        hasher.update(data)
        if handle is not None:
            handle.write(data)
    found = hasher.hexdigest()
    if batch.sha256 and found != batch.sha256:
        raise Conflict(
            f"batch {batch.batch_id} no longer reproduces the file billing was given "
            f"(sha256 {batch.sha256[:12]}…): it was confirmed in part or changed; "
            "its confirmation file and the audit log are the record"
        )
    return found


def download(batch: PayoutBatch) -> StreamingHttpResponse:
    """The file as an HTTP attachment, checked against the batch's SHA-256 before it starts."""
    write(batch)
    response = StreamingHttpResponse(encoded(batch), content_type=content_type(batch))
    response["Content-Disposition"] = f'attachment; filename="{file_name(batch)}"'
    response["X-Batch-Id"] = batch.batch_id
    return response


def file_name(batch: PayoutBatch) -> str:
    return f"{batch.batch_id}.{batch.file_format}"


def content_type(batch: PayoutBatch) -> str:
    return "text/csv" if batch.file_format == BatchFormat.CSV else "application/x-ndjson"
