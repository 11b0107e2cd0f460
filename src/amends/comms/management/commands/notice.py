"""amends notice create|preview|submit|approve|cancel|send|status — notices from the shell.

Every write calls the same services as the console and API, as the staff account named by
``--as`` (its role decides what it may do; approval needs a second person). ``send`` does in the
foreground what the task worker does: it sends what is due until nothing is, leaving retries,
quiet hours and messages held until restoration to the worker. ``--json`` prints the API's own
shapes.
"""

from __future__ import annotations

import dataclasses
import json
from argparse import ArgumentParser
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from amends.comms import dispatch, preview, queries, services
from amends.comms.api import NoticeOut
from amends.comms.audience import count_audience
from amends.comms.models import Audience, Notice, NoticeKind, NoticeStatus, Priority
from amends.comms.preview import already_told_words
from amends.core.commands import add_examples
from amends.core.errors import AmendsError, Conflict, NotFound
from amends.outages import queries as outage_queries
from amends.outages.models import Outage

_AUDIENCES = ", ".join(Audience.values)
WRITES = {
    "submit": services.notice_submit,
    "approve": services.notice_approve,
    "cancel": services.notice_cancel,
}


class Command(BaseCommand):
    help = "Write, approve, send and follow notices."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_examples(
            parser,
            "amends notice create --outage OUT-2026-0001 --kind acknowledge --as comms",
            'amends notice create --outage OUT-2026-0001 --kind update --message "Crews are on '
            'site." --as comms --json',
        )
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="draft a notice")
        create.add_argument("--outage", help="outage reference (every audience but 'list')")
        create.add_argument("--kind", required=True, help=", ".join(NoticeKind.values))
        create.add_argument("--audience", default=Audience.ALL_AFFECTED, help=_AUDIENCES)
        create.add_argument("--segment", default="", help="for --audience segment")
        create.add_argument(
            "--customer", nargs="+", action="extend", default=[], help="external id(s), for list"
        )
        create.add_argument("--message", default="", help="the notice's own words")
        create.add_argument(
            "--include-already-told",
            action="store_true",
            help="restored, apology, credit_applied, survey: also customers already told "
            "this kind about the outage (left out by default)",
        )
        for name, text in [
            ("preview", "who it would reach, on which channels, and who it cannot"),
            ("submit", "send it (small) or ask for approval (above the threshold)"),
            ("approve", "a second person's approval: releases it"),
            ("cancel", "stop it: what no provider has yet is never sent"),
            ("send", "send what is due now, in the foreground"),
            ("status", "deliveries by status"),
        ]:
            sub.add_parser(name, help=text).add_argument("id", type=int)
        for name in ("create", *WRITES):
            sub.choices[name].add_argument(
                "--as",
                dest="as_user",
                metavar="USER",
                required=True,
                help="the staff account acting",
            )
        for name in ("create", "preview", "submit", "approve", "cancel", "status"):
            sub.choices[name].add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action in WRITES:
                self._write(action, options)
            else:
                getattr(self, f"_{action}")(options)
        except AmendsError as exc:
            raise CommandError(str(exc)) from None

    def _create(self, o: dict[str, Any]) -> None:
        notice = services.notice_create(
            actor=_user(o["as_user"]),
            kind=o["kind"],
            audience=o["audience"],
            outage=_outage(o["outage"]),
            segment=o["segment"],
            customers=o["customer"],
            message=o["message"],
            include_already_told=o["include_already_told"],
        )
        self._print_notice(notice, as_json=o["json"])

    def _write(self, action: str, o: dict[str, Any]) -> None:
        notice = WRITES[action](actor=_user(o["as_user"]), notice=_notice(o["id"]))
        self._print_notice(notice, as_json=o["json"])

    def _preview(self, o: dict[str, Any]) -> None:
        notice = _notice(o["id"])
        counts = count_audience(notice)
        english = [str(fallback) for fallback in preview.english_fallbacks(notice)]
        if o["json"]:
            self._json({**dataclasses.asdict(counts), "english_fallbacks": english})
            return
        self.stdout.write(
            f"{counts.reachable:,} of {counts.customers:,} customers reachable "
            f"({counts.held:,} held until their mobile service is back)\n"
            f"  by channel: {_pairs(counts.by_channel)}\n"
            f"  by language: {_pairs(counts.by_language)}\n"
            f"  by priority: {_pairs(counts.by_priority, _priority)}\n"
            f"  unreachable: {_pairs(counts.unreachable)}"
        )
        for line in english:
            self.stdout.write(f"  in English: {line}")
        if counts.already_told:
            told = already_told_words(counts.already_told, included=notice.include_already_told)
            self.stdout.write(f"  {told}")

    def _send(self, o: dict[str, Any]) -> None:
        notice = _notice(o["id"])
        if notice.status not in (NoticeStatus.SENDING, NoticeStatus.SENT):
            raise Conflict(
                f"notice {notice.pk} is {notice.get_status_display().lower()}: "
                "only a submitted (and approved) notice sends",
                field="id",
            )
        state = "more"
        while state == "more":
            state = dispatch.run_notice(notice.pk)
            self.stdout.write(f"{state:<5} {_pairs(queries.notice_progress(notice))}")
        if state == "later":
            self.stdout.write(
                "the rest waits for retries, quiet hours or restoration; the worker "
                "(amends serve / amends worker) sends it when due"
            )
        notice.refresh_from_db()
        self.stdout.write(f"notice {notice.pk}: {notice.get_status_display().lower()}")

    def _status(self, o: dict[str, Any]) -> None:
        self._print_notice(_notice(o["id"]), as_json=o["json"])

    def _print_notice(self, notice: Notice, *, as_json: bool) -> None:
        progress = queries.notice_progress(notice)
        if as_json:
            self._json({"notice": NoticeOut.from_orm(notice).dict(), "deliveries": progress})
            return
        outage = f" about {notice.outage.reference}" if notice.outage else ""
        self.stdout.write(
            f"notice {notice.pk}: {notice.kind} to {notice.audience}{outage}, "
            f"{notice.recipients:,} recipient(s), {notice.get_status_display().lower()}"
        )
        if progress:
            self.stdout.write(f"  deliveries: {_pairs(progress)}")

    def _json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2))


def _user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True, is_staff=True).first()
    if user is None:
        raise AmendsError(f"no active staff account {username!r}", field="as")
    return user


def _outage(reference: str | None) -> Outage | None:
    if not reference:
        return None
    try:
        return outage_queries.outage_by_reference(reference)
    except NotFound as exc:
        raise NotFound(exc.message, field="outage") from None


def _notice(notice_id: int) -> Notice:
    notice = Notice.objects.select_related("outage").filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(f"no notice {notice_id}", field="id")
    return notice


def _pairs(counts: Mapping[Any, int], label: Callable[[Any], str] = str) -> str:
    """``counts`` in key order as "label n, label n"."""
    return ", ".join(f"{label(key)} {n:,}" for key, n in sorted(counts.items())) or "none"


def _priority(value: int) -> str:
    return str(Priority(value).label).lower()
