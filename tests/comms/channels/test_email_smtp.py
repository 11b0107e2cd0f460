from __future__ import annotations

import pytest
from pytest_django import Settings

from amends.comms.channels import ChannelError, OutboundMessage
from amends.comms.channels.email_smtp import SmtpChannel
from tests.comms.servers import SmtpServer, free_port


def email(n: int) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=n,
        idempotency_key=f"n1-c{n}-email",
        capability="email",
        to=f"customer{n}@example.com",
        subject=f"Outage update {n}",
        text=f"Hello {n}, service is back.",
        html=f"<p>Hello {n}, service is back.</p>",
        headers={
            "List-Unsubscribe": f"<https://amends.example/u/{n}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        message_id=f"<n1-c{n}@amends.example>",
    )


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Outages <outages@telco.example>"
    return settings


def test_batch_arrives_with_headers_and_both_parts(
    smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    results = SmtpChannel().send_batch([email(1), email(2), email(3)])

    assert [r.ok for r in results] == [True, True, True]
    assert [r.provider_id for r in results] == [f"<n1-c{n}@amends.example>" for n in (1, 2, 3)]
    assert len(smtp_server.received) == 3
    for n, (recipients, message) in enumerate(smtp_server.received, start=1):
        assert recipients == [f"customer{n}@example.com"]
        assert message["To"] == f"customer{n}@example.com"
        assert message["From"] == "Outages <outages@telco.example>"
        assert message["Subject"] == f"Outage update {n}"
        assert message["Message-ID"] == f"<n1-c{n}@amends.example>"
        assert message["Date"]
        assert message["List-Unsubscribe"] == f"<https://amends.example/u/{n}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]


def test_refused_recipient_is_a_permanent_failure_of_that_message_only(
    smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse["customer2@example.com"] = "550 5.1.1 No such user"

    results = SmtpChannel().send_batch([email(1), email(2), email(3)])

    assert [(r.delivery_id, r.ok) for r in results] == [(1, True), (2, False), (3, True)]
    assert results[1].permanent and "550" in results[1].error
    assert [rcpt for rcpt, _ in smtp_server.received] == [
        ["customer1@example.com"],
        ["customer3@example.com"],
    ]


def test_recipient_deferred_with_4xx_is_temporary(
    smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse["customer1@example.com"] = "450 4.2.1 Mailbox busy, try later"

    [result] = SmtpChannel().send_batch([email(1)])

    assert not result.ok and not result.permanent


def test_server_down_fails_the_whole_batch_temporarily(settings: Settings) -> None:
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()

    with pytest.raises(ChannelError) as raised:
        SmtpChannel().send_batch([email(1)])
    assert not raised.value.permanent
