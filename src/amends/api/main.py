"""The API object: routers, authentication, and errors as RFC 9457 problem details."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import Operation

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


def reject_unknown_query_parameters(
    run: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Every operation answers 400 to a query parameter it does not know: ignoring it would
    answer another question than the one asked (``?status=open`` listing every outage, or
    ``?stauts=resolved`` none of the filtering), and the caller would never find out."""
    operation: Operation = run.__self__  # type: ignore[attr-defined]
    known = _query_parameters(operation)

    @functools.wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        unknown = sorted(set(request.GET) - known)
        if unknown:
            error = AmendsError(f"unknown query parameter '{unknown[0]}'", field=unknown[0])
            return operation.api.on_exception(request, error)
        return run(request, *args, **kwargs)

    return checked


def _query_parameters(operation: Operation) -> set[str]:
    """The names an operation reads from the query string (pagination's limit/offset too)."""
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ == "query":
            flat = getattr(model, "__ninja_flatten_map__", None)
            names.update(flat or (f.alias or n for n, f in model.model_fields.items()))
    return names


api.add_decorator(reject_unknown_query_parameters, mode="view")
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
    errors: list[dict[str, str]] = []
    choices: dict[str, list[str]] = {}  # per field: every value its enums and literals allow
    for error in exc.errors:
        field = _field_name(error.get("loc", ()))
        if error.get("type") not in ("enum", "literal_error"):
            errors.append({"field": field, "message": str(error.get("msg", "is invalid"))})
            continue
        if field not in choices:  # the first member of a union: one error for the field
            choices[field] = []
            errors.append({"field": field, "message": ""})
        expected = str(error.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
        choices[field] += expected.replace("'", "").split(", ")
    for error in errors:
        if not error["message"]:
            # ninja drops the refused value; a query parameter's is still in the request
            value = request.GET.get(error["field"])
            refused = f"'{value}' is not" if value is not None else "must be"
            error["message"] = f"{refused} one of {', '.join(choices[error['field']])}"
    first = errors[0] if errors else {"field": "body", "message": "is invalid"}
    return problem(400, f"{first['field']}: {first['message']}", errors=errors)


# How pydantic names the member of a union that refused a value: "str-enum[Status]",
# "literal['open']". Not part of the field's name.
_UNION_MEMBER = re.compile(r"[a-z-]+\[.*\]")


def _field_name(location: Any) -> str:
    """("body", "body", "scope", 0, "kind") → "scope[0].kind"; where in the request is implied."""
    parts = [part for part in location if not _UNION_MEMBER.fullmatch(str(part))]
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
