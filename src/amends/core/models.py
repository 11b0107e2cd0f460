"""Core tables: the append-only, hash-chained audit log."""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditEntry(models.Model):
    """One state change: who did what to which object, with the before and after values.

    ``seq`` numbers entries 1, 2, 3… without gaps and ``hash`` covers the entry's content and the
    previous entry's hash, so changing, removing or reordering any entry breaks the chain from
    that entry on (see ``amends audit verify``). Database triggers refuse UPDATE and DELETE.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150, help_text="User name, or 'system:<process>'.")
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("audit entries are append-only")


class AuditHead(models.Model):
    """The single row holding the chain's tip; locking it serialises appends across workers."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"


class ApiToken(models.Model):
    """A bearer token for the API, stored only as its SHA-256 hash.

    It acts as ``user`` (whose roles decide what it may change) and is further limited to its
    ``scopes`` (e.g. ``outages:read outages:write intake``).
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.CharField(max_length=200)
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
