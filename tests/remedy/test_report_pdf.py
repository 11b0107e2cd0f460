"""The program report as PDF: the same document as the HTML page, paginated for print (every
page footed with the program and "Page i of n"), from the console, the API, the CLI and the
demo; and, where WeasyPrint cannot load the Pango libraries, one line saying what to install
while HTML and CSV go on working. The missing libraries are a real failed import: a module
named ``weasyprint`` first on the path that prints WeasyPrint's banner and raises OSError."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from amends.core.money import format_cents
from amends.core.pdf import PANGO_MISSING
from amends.core.roles import Role
from amends.core.tokens import token_create
from amends.demo import write_the_report
from amends.remedy.services.report import program_report
from amends.remedy.views.report import render_report_html, render_report_pdf
from tests.conftest import ROOT, amends_env, child_database_url
from tests.remedy.conftest import PASSWORD, staff
from tests.remedy.test_report import paying_program

BANNER = "WeasyPrint could not import some external libraries"


def pages_text(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def assert_is_the_report(pdf: bytes, reference: str, owed: str) -> None:
    """At least one page, each footed with the program and its number; the total owed."""
    pages = pages_text(pdf)
    assert len(pages) >= 1
    for number, text in enumerate(pages, start=1):
        assert f"Remediation report {reference}" in text
        assert f"Page {number} of {len(pages)}" in text
    assert owed in pages[0]


@pytest.fixture
def no_pango(tmp_path: Path) -> Path:
    """A folder whose ``weasyprint`` fails to import as WeasyPrint does without Pango."""
    shadow = tmp_path / "no-pango"
    shadow.mkdir()
    (shadow / "weasyprint.py").write_text(
        f"print({BANNER!r})\nraise OSError(\"cannot load library 'libpango-1.0-0'\")\n"
    )
    return shadow


@pytest.fixture
def pango_missing(no_pango: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process imports the failing ``weasyprint`` until the test ends."""
    monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
    monkeypatch.syspath_prepend(str(no_pango))


@pytest.mark.django_db
def test_the_pdf_is_the_html_report_paginated(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    report = program_report(setup.program)
    owed = format_cents(report.payments.owed_cents)
    assert f"<dd>{owed}</dd>" in render_report_html(report)  # the total as the HTML shows it

    pdf = render_report_pdf(report)
    assert_is_the_report(pdf, setup.program.reference, owed)
    text = "\n".join(pages_text(pdf))
    for words in ("Amount owed by segment", "Small business", "Consequential-loss claims"):
        assert words in text
    assert "This report as CSV" not in text  # the console's links are not in the document
    assert PdfReader(io.BytesIO(pdf)).metadata.title == (
        f"Remediation report {setup.program.reference}"
    )


@pytest.mark.django_db
def test_console_pdf_needs_a_signed_in_role(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    ref = setup.program.reference
    url = reverse("remedy:program-report-pdf", args=[ref])
    client = Client()
    assert client.get(url)["Location"].startswith(reverse("login"))
    nobody = User.objects.create_user("nobody", password=PASSWORD)
    assert client.login(username=nobody.username, password=PASSWORD)
    assert client.get(url).status_code == 403

    assert client.login(username=staff("vic", Role.VIEWER).username, password=PASSWORD)
    page = client.get(reverse("remedy:program-report", args=[ref])).content.decode()
    assert f'href="{url}">This report as PDF</a>' in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{ref}-report-')
    assert response["Content-Disposition"].endswith('.pdf"')
    owed = format_cents(program_report(setup.program).payments.owed_cents)
    assert_is_the_report(response.content, ref, owed)
    missing = reverse("remedy:program-report-pdf", args=["REM-1999-0001"])
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_api_serves_the_pdf_beside_the_json(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    ref = setup.program.reference

    def bearer(*scopes: str) -> dict[str, str]:
        name = f"reports-{len(scopes)}"
        _token, secret = token_create(
            actor="test", name=name, username=setup.analyst.username, scopes=list(scopes)
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    url = f"/api/v1/claims/reports/{ref}.pdf"
    assert Client().get(url, **bearer("outages:read")).status_code == 403
    reader = bearer("remedy:read")
    response = Client().get(url, **reader)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    owed = format_cents(program_report(setup.program).payments.owed_cents)
    assert_is_the_report(response.content, ref, owed)
    assert Client().get(f"/api/v1/claims/reports/{ref}", **reader).json()["program"]["reference"]
    assert Client().get("/api/v1/claims/reports/REM-1999-0001.pdf", **reader).status_code == 404


@pytest.mark.django_db
def test_without_pango_the_console_api_and_demo_say_so_in_one_line(
    tmp_path: Path, settings: Any, pango_missing: None
) -> None:
    setup = paying_program(tmp_path, settings)
    ref = setup.program.reference
    client = Client()
    assert client.login(username=staff("vic", Role.VIEWER).username, password=PASSWORD)
    response = client.get(reverse("remedy:program-report-pdf", args=[ref]))
    assert (response.status_code, response.content.decode()) == (503, PANGO_MISSING)
    page = client.get(reverse("remedy:program-report", args=[ref]))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert client.get(reverse("remedy:program-report-csv", args=[ref])).status_code == 200

    _token, secret = token_create(
        actor="test", name="reports", username=setup.analyst.username, scopes=["remedy:read"]
    )
    problem = Client().get(
        f"/api/v1/claims/reports/{ref}.pdf", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert problem.status_code == 503 and problem.json()["detail"] == PANGO_MISSING

    said: list[str] = []
    write_the_report(setup.program, data_dir=tmp_path, say=said.append)
    assert said == [f"16. No PDF of the report: {PANGO_MISSING}"]
    assert not list(tmp_path.glob("*.pdf"))


@pytest.mark.django_db
def test_the_demo_writes_the_pdf(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    said: list[str] = []
    write_the_report(setup.program, data_dir=tmp_path, say=said.append)
    path = tmp_path / f"{setup.program.reference}-report.pdf"
    (text,) = said
    assert (
        text.startswith("16. The remediation lead's report for the regulator") and str(path) in text
    )
    owed = format_cents(program_report(setup.program).payments.owed_cents)
    assert_is_the_report(path.read_bytes(), setup.program.reference, owed)


@pytest.mark.django_db(transaction=True)
def test_cli_writes_pdf_only_to_a_file(
    tmp_path: Path, settings: Any, cli: Any, no_pango: Path
) -> None:
    setup = paying_program(tmp_path, settings)
    ref = setup.program.reference
    out = tmp_path / "report.pdf"
    refused = cli("remedy", "report", ref, "--format", "pdf")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "out: a PDF is binary, not for the terminal: give --out FILE" in refused.stderr

    done = cli("remedy", "report", ref, "--format", "pdf", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out} (pdf, {out.stat().st_size:,} bytes)" in done.stdout
    owed = format_cents(program_report(setup.program).payments.owed_cents)
    assert_is_the_report(out.read_bytes(), ref, owed)

    def without_pango(*args: str) -> subprocess.CompletedProcess[str]:
        env = amends_env(DATABASE_URL=child_database_url(), PYTHONPATH=str(no_pango))
        command = [sys.executable, "-m", "amends", "remedy", "report", ref, *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)

    out.unlink()
    failed = without_pango("--format", "pdf", "--out", str(out))
    assert failed.returncode == 1 and not out.exists()
    assert failed.stderr.splitlines() == [f"CommandError: {PANGO_MISSING}"]
    assert failed.stdout == ""  # WeasyPrint's banner swallowed too
    csv_report = without_pango("--format", "csv")
    assert csv_report.returncode == 0 and f"program,reference,,,,,,,{ref}" in csv_report.stdout
    html = without_pango()
    assert html.returncode == 0 and "<svg" in html.stdout
