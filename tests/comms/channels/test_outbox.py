from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from pytest_django import Settings

from amends.comms.channels import ChannelError, OutboundMessage, channel_for
from amends.comms.channels.outbox import Outbox, file_name


def email(key: str, *, text: str = "Service is back.", delivery_id: int = 1) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=delivery_id,
        idempotency_key=key,
        capability="email",
        to="Ana Rossi <ana@example.com>",
        subject="Your internet is back",
        text=text,
        html=f"<p>{text}</p>",
        headers={
            "List-Unsubscribe": "<https://amends.example/u/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        message_id="<n1-c1-email@amends.example>",
    )


def test_email_is_a_real_multipart_message(tmp_path: Path) -> None:
    results = Outbox("email", tmp_path).send_batch([email("n1-c1-email")])

    assert results[0].ok and results[0].provider_id == "n1-c1-email.eml"
    parsed = message_from_bytes((tmp_path / "n1-c1-email.eml").read_bytes(), policy=policy.default)
    assert parsed["To"] == "Ana Rossi <ana@example.com>"
    assert parsed["Subject"] == "Your internet is back"
    assert parsed["Message-ID"] == "<n1-c1-email@amends.example>"
    assert parsed["Date"]
    assert parsed["List-Unsubscribe"] == "<https://amends.example/u/abc>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    assert text_part is not None and text_part.get_content().strip() == "Service is back."
    assert html_part is not None and html_part.get_content().strip() == "<p>Service is back.</p>"


def test_resend_overwrites_instead_of_duplicating(tmp_path: Path) -> None:
    outbox = Outbox("email", tmp_path)
    outbox.send_batch([email("n1-c1-email", text="first")])
    outbox.send_batch([email("n1-c1-email", text="second")])

    assert [p.name for p in tmp_path.iterdir()] == ["n1-c1-email.eml"]
    assert b"second" in (tmp_path / "n1-c1-email.eml").read_bytes()


def test_text_channels_get_a_header_block(tmp_path: Path) -> None:
    sms = OutboundMessage(1, "n1-c1-sms", "sms", "+61412345678", text="Back at 5pm.")
    Outbox("sms", tmp_path).send_batch([sms])

    content = (tmp_path / "n1-c1-sms.txt").read_text()
    assert content == "To: +61412345678\nSubject: \n\nBack at 5pm.\n"


def test_webhook_is_json(tmp_path: Path) -> None:
    hook = OutboundMessage(
        1, "n1-s9-webhook", "webhook", "https://hooks.example/x", text='{"a": 1}'
    )
    Outbox("webhook", tmp_path).send_batch([hook])

    written = json.loads((tmp_path / "n1-s9-webhook.json").read_text())
    assert written == {"to": "https://hooks.example/x", "body": {"a": 1}}


def test_unsafe_keys_get_distinct_safe_names() -> None:
    first, second = file_name("../a/b", ".txt"), file_name("../a_b", ".txt")

    assert "/" not in first and not first.startswith(".")
    assert first != second
    assert file_name("n1-c1-sms", ".txt") == "n1-c1-sms.txt"


def test_unwritable_outbox_fails_the_batch(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    with pytest.raises(ChannelError) as raised:
        Outbox("sms", blocker / "sms").send_batch([OutboundMessage(1, "k", "sms", "+61400000000")])
    assert not raised.value.permanent


def test_registry_default_writes_under_data_dir(settings: Settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    push = OutboundMessage(7, "n2-c3-push", "push", "device-token", subject="Outage", text="Hi")

    results = channel_for("push").send_batch([push])

    assert results[0].ok
    assert (tmp_path / "outbox" / "push" / "n2-c3-push.txt").exists()


def test_message_id_falls_back_to_one_derived_from_the_key(
    settings: Settings, tmp_path: Path
) -> None:
    settings.SITE_URL = "https://status.telco.example"
    message = OutboundMessage(1, "n9-c9-email", "email", "a@example.com", text="x")

    Outbox("email", tmp_path).send_batch([message])

    parsed = message_from_bytes((tmp_path / "n9-c9-email.eml").read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<n9-c9-email@status.telco.example>"
    assert parsed.get_content_type() == "text/plain"
