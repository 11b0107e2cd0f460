"""amends token create|list|revoke — API tokens (shown once at creation, stored hashed)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amends.core.errors import AmendsError
from amends.core.models import ApiToken
from amends.core.tokens import SCOPES, token_create, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it once")
        create.add_argument("name")
        create.add_argument("--user", required=True, help="the staff account it acts as")
        create.add_argument(
            "--scopes", required=True, help=f"comma-separated, among {', '.join(SCOPES)}"
        )
        sub.add_parser("list", help="list tokens (never their secret)")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except AmendsError as exc:
            raise CommandError(str(exc)) from None

    def _create(self, options: dict[str, Any]) -> None:
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        token, plain = token_create(
            actor="cli", name=options["name"], username=options["user"], scopes=scopes
        )
        self.stdout.write(
            f"{plain}\n(token {token.prefix}… for {options['user']}, scopes "
            f"{token.scopes}; it is not shown again)"
        )

    def _list(self, options: dict[str, Any]) -> None:
        for token in ApiToken.objects.select_related("user").order_by("created_at"):
            state = "revoked" if token.revoked_at else "active"
            self.stdout.write(
                f"{token.prefix}…  {token.name:<20} {token.user.username:<12} "
                f"{token.scopes:<40} {state}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = token_revoke(actor="cli", prefix=options["prefix"])
        self.stdout.write(f"revoked {token}")
