"""The API object: routers, authentication, and errors as RFC 9457 problem details."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from amends.api.auth import StaffSession, TokenAuth
from amends.comms.api import router as comms_router
from amends.comms.api import suppression_router
from amends.core.errors import AmendsError
from amends.outages.api import router as outages_router
from amends.outages.intake import router as intake_router

api = NinjaAPI(
    title="Amends API",
    version="1",
    description="Outages, impact and alert intake. Authenticate with `Authorization: Bearer "
    "<token>` (create one with `amends token create`). Errors are RFC 9457 problem details.",
    urls_namespace="api",
    auth=[TokenAuth(), StaffSession()],
)
api.add_router("/outages", outages_router)
api.add_router("/intake", intake_router)
api.add_router("/comms", comms_router)
api.add_router("/suppression", suppression_router)
api.add_router("/remedy", "amends.remedy.api_payments.router")
api.add_router("/remedy", "amends.remedy.api_programs.router")
api.add_router("/claims", "amends.remedy.api_claims.router")


def problem(status: int, detail: str, **extra: Any) -> HttpResponse:
    import json

    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return HttpResponse(
        json.dumps(body, default=str), status=status, content_type="application/problem+json"
    )


@api.exception_handler(AmendsError)
def amends_error(request: HttpRequest, exc: AmendsError) -> HttpResponse:
    extra = {"field": exc.field} if exc.field else {}
    return problem(exc.status, exc.message, **extra)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field_name(error.get("loc", ())), "message": error.get("msg", "is invalid")}
        for error in exc.errors
    ]
    first = errors[0] if errors else {"field": "body", "message": "is invalid"}
    return problem(400, f"{first['field']}: {first['message']}", errors=errors)


def _field_name(location: Any) -> str:
    """("body", "body", "scope", 0, "kind") → "scope[0].kind"; where in the request is implied."""
    parts = list(location)
    while parts and parts[0] in ("body", "query", "path"):
        parts.pop(0)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name or "body"


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(401, "a valid API token is required (Authorization: Bearer …)")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc))
