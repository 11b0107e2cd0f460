"""Policy documents name their currency by ISO 4217 code (``currency``) instead of a symbol
(``currency_symbol``): "£" was Ofcom's and Ofgem's pounds; "$" (the default) Australian dollars."""

from typing import Any

from django.db import migrations

_CODES = {"£": "GBP", "€": "EUR", "US$": "USD", "NZ$": "NZD"}


def _to_code(apps: Any, schema_editor: Any) -> None:
    """A handful of policy versions: read and written one by one."""
    versions = apps.get_model("remedy", "PolicyVersion").objects
    for version in versions.filter(document__has_key="currency_symbol"):
        symbol = version.document.pop("currency_symbol")
        version.document["currency"] = _CODES.get(symbol, "AUD")
        version.save(update_fields=["document"])


def _to_symbol(apps: Any, schema_editor: Any) -> None:
    symbols = {code: symbol for symbol, code in _CODES.items()}
    versions = apps.get_model("remedy", "PolicyVersion").objects
    for version in versions.filter(document__has_key="currency"):
        code = version.document.pop("currency")
        version.document["currency_symbol"] = symbols.get(code, "$")
        version.save(update_fields=["document"])


class Migration(migrations.Migration):
    dependencies = [("remedy", "0007_entitlement_sla_credits")]

    operations = [migrations.RunPython(_to_code, _to_symbol)]
