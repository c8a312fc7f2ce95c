"""Standard Webhooks signing against the specification's published example, and the retry schedule."""

from __future__ import annotations

import random

from email_service.events.webhooks import schedule, signing

# The example of the Standard Webhooks specification (and its reference libraries' tests).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_published_vector() -> None:
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED
    headers = signing.headers(SECRET, MSG_ID, TIMESTAMP, BODY)
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": EXPECTED,
    }


def test_verify_refuses_another_body_or_secret() -> None:
    assert signing.verify(SECRET, MSG_ID, str(TIMESTAMP), BODY, EXPECTED)
    assert not signing.verify(SECRET, MSG_ID, str(TIMESTAMP), BODY + b" ", EXPECTED)
    assert not signing.verify(signing.new_secret(), MSG_ID, str(TIMESTAMP), BODY, EXPECTED)


def test_new_secrets_are_random_whsec_base64() -> None:
    one, two = signing.new_secret(), signing.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(signing.secret_key(one)) == signing.SECRET_BYTES


def test_default_schedule_spans_over_an_hour_with_the_first_retry_within_a_minute() -> None:
    from email_service.core.config import Settings

    waits = Settings.__dataclass_fields__["webhook_retry_seconds"].default
    assert isinstance(waits, tuple)
    assert schedule.max_attempts(waits) >= 8
    rng = random.Random(7)
    delays = [schedule.retry_delay(waits, n, rng) for n in range(1, len(waits) + 1)]
    assert all(d is not None for d in delays)
    assert delays[0] is not None and delays[0] <= 60
    assert sum(d for d in delays if d is not None) >= 3600
    assert schedule.retry_delay(waits, len(waits) + 1) is None  # no attempt left
