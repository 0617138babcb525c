"""Channels against receivers on 127.0.0.1: webhook signatures, retries with backoff and
refusals, e-mail over SMTP, and severity routing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from email import message_from_string

from alert_receivers import SmtpReceiver, WebhookReceiver
from tidecast.alerts.channels import (
    LogChannel,
    Notification,
    SmtpChannel,
    WebhookChannel,
    deliver,
    sign,
    verify_signature,
)
from tidecast.alerts.rules import Smtp, Webhook

NOTICE = Notification(
    event="firing",
    incident_id=7,
    rule="sales-accuracy",
    kind="accuracy",
    subject="sales",
    severity="critical",
    value=3.2,
    threshold="> 1.5",
    message="realised wql over backtest 3.2x over 7d, above 1.5x",
    started_at="2024-02-01T00:00:00+00:00",
)


def webhook_channel(url: str, sleeps: list[float], **options: object) -> WebhookChannel:
    config = Webhook.model_validate({"url": url, "secret": "k", "backoff_seconds": 0.5, **options})
    return WebhookChannel(config, sleep=sleeps.append)


def test_when_a_webhook_is_sent_then_the_body_is_json_signed_with_hmac_sha256(
    webhook: WebhookReceiver,
) -> None:
    delivery = webhook_channel(webhook.url, []).send(NOTICE)
    assert (delivery.ok, delivery.attempts) == (True, 1)
    (post,) = webhook.posts
    stamp = post.headers["X-Tidecast-Timestamp"]
    expected = hmac.new(b"k", f"{stamp}.".encode() + post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Tidecast-Signature"] == f"sha256={expected}"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body)["incident_id"] == 7
    assert verify_signature("k", stamp, post.body, post.headers["X-Tidecast-Signature"])
    assert not verify_signature("other", stamp, post.body, post.headers["X-Tidecast-Signature"])
    assert not verify_signature("k", stamp, post.body + b" ", post.headers["X-Tidecast-Signature"])
    old = str(int(time.time()) - 3600)  # a replayed message, however well signed, is refused
    assert not verify_signature("k", old, post.body, sign("k", old, post.body))


def test_when_the_receiver_fails_then_the_webhook_retries_with_doubling_backoff(
    webhook: WebhookReceiver,
) -> None:
    webhook.answers = [503, 502, 429]
    sleeps: list[float] = []
    delivery = webhook_channel(webhook.url, sleeps, retries=3).send(NOTICE)
    assert (delivery.ok, delivery.attempts, sleeps) == (True, 4, [0.5, 1.0, 2.0])
    assert len(webhook.posts) == 4 and len({p.body for p in webhook.posts}) == 1


def test_when_retries_run_out_or_the_receiver_refuses_then_the_delivery_says_why(
    webhook: WebhookReceiver,
) -> None:
    webhook.answers = [500, 500, 500]
    exhausted = webhook_channel(webhook.url, [], retries=2).send(NOTICE)
    assert (exhausted.ok, exhausted.attempts, exhausted.error) == (False, 3, "RuntimeError: HTTP 500")
    webhook.answers = [403]
    refused = webhook_channel(webhook.url, [], retries=5).send(NOTICE)
    assert (refused.ok, refused.attempts, refused.error) == (False, 1, "HTTP 403")  # no retry of a no


def test_when_nothing_listens_then_the_webhook_fails_after_its_retries() -> None:
    sleeps: list[float] = []
    delivery = webhook_channel("http://127.0.0.1:9/hook", sleeps, retries=1, timeout_seconds=2).send(NOTICE)
    assert (delivery.ok, delivery.attempts, len(sleeps)) == (False, 2, 1)
    assert "ConnectError" in (delivery.error or "")


def test_when_an_email_is_sent_then_the_smtp_server_gets_subject_and_message(
    smtp_server: SmtpReceiver,
) -> None:
    config = Smtp.model_validate(
        {
            "host": "127.0.0.1",
            "port": smtp_server.port,
            "from": "tidecast@example.com",
            "to": ["ops@example.com"],
        }
    )
    delivery = SmtpChannel(config).send(NOTICE)
    assert delivery.ok, delivery.error
    (received,) = smtp_server.messages
    assert (received["from"], received["to"]) == ("tidecast@example.com", ["ops@example.com"])
    mail = message_from_string(str(received["data"]))
    assert mail["Subject"] == "[tidecast] FIRING critical: sales-accuracy on sales"
    assert NOTICE.message in mail.get_payload()


def test_when_a_channel_wants_higher_severity_then_it_is_skipped(webhook: WebhookReceiver) -> None:
    critical_only = webhook_channel(webhook.url, [], min_severity="critical")
    warning = Notification(**{**NOTICE.__dict__, "severity": "warning"})
    outcomes = deliver([LogChannel(), critical_only], warning)
    assert [o["channel"] for o in outcomes] == ["log"] and webhook.posts == []
    assert len(deliver([LogChannel(), critical_only], NOTICE)) == 2 and len(webhook.posts) == 1
