"""The demo mailbox: about twenty varied messages a newcomer can sync, read, flag and delete.

Message-IDs are fixed so seeding can tell which ones are already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

DOMAIN = "sandbox.local"


@dataclass(frozen=True)
class SeedMessage:
    """One message to APPEND: where it goes, its flags and its age."""

    key: str
    folder: str
    message: EmailMessage
    flags: tuple[str, ...]
    when: datetime

    @property
    def message_id(self) -> str:
        return f"<seed-{self.key}@{DOMAIN}>"

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=self.message.policy.clone(linesep="\r\n"))


def _message(key: str, sender: str, to: str, subject: str, text: str, when: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<seed-{key}@{DOMAIN}>"
    msg.set_content(text)
    return msg


def _seed(key: str, folder: str, msg: EmailMessage, when: datetime, *flags: str) -> SeedMessage:
    return SeedMessage(key, folder, msg, tuple(flags), when)


_NOTES = [
    ("Ops Bot <ops@example.org>", "Nightly backup completed", "All 14 databases were backed up in 3m 12s."),
    (
        "Calendar <calendar@example.org>",
        "Reminder: 1:1 tomorrow at 10:00",
        "Room 4B, or the usual video link.",
    ),
    (
        "Lena Fischer <lena@example.de>",
        "Grüße aus Berlin — Übersicht",
        "Hallo! Anbei die Übersicht für März.",
    ),
    ("HR <hr@example.com>", "Holiday calendar for next year", "The company holidays are now in the wiki."),
    (
        "Billing <billing@example.net>",
        "Invoice #2024-117 is available",
        "Amount due: 49.00 EUR within 14 days.",
    ),
    (
        "Git Server <git@example.com>",
        "[repo] Pull request #42 merged",
        "feature/sync-engine was merged into main.",
    ),
    (
        "Travel Desk <travel@example.com>",
        "Your trip to Lisbon is confirmed",
        "Flight TP 555 departs 08:40 on Monday.",
    ),
    (
        "Support <support@example.net>",
        "Ticket 8812 resolved",
        "We believe your issue is solved; reply to reopen.",
    ),
    (
        "Newsletter <news@example.org>",
        "This week: 5 tips for clean inboxes",
        "1. Archive often. 2. Use filters. ...",
    ),
    (
        "Security <security@example.com>",
        "New sign-in from Firefox on Linux",
        "If this was you, no action is needed.",
    ),
    ("Jo Park <jo@example.com>", "Lunch on Thursday?", "The new ramen place opened next door."),
    (
        "CI <ci@example.com>",
        "Build #1288 failed on main",
        "test_sync_resume failed: connection reset by peer.",
    ),
    ("Mia Chen <mia@example.com>", "Draft blog post for review", "Could you read the draft by Wednesday?"),
    ("Recruiting <jobs@example.com>", "Interview schedule for Friday", "Three candidates, 45 minutes each."),
]


def notifications(me: str, now: datetime) -> list[SeedMessage]:
    """Plain one-part messages, most already read."""
    out = []
    for i, (sender, subject, text) in enumerate(_NOTES):
        when = now - timedelta(days=18 - i, hours=i)
        flags = ("\\Seen",) if i % 3 else ()
        out.append(
            _seed(f"note-{i}", "INBOX", _message(f"note-{i}", sender, me, subject, text, when), when, *flags)
        )
    return out


def rich_messages(me: str, now: datetime) -> list[SeedMessage]:
    """HTML with a link, an attachment, an unread flagged one."""
    t_html, t_report, t_urgent = (now - timedelta(hours=h) for h in (5, 3, 1))
    html = _message("html", "Product Team <team@example.com>", me, "Welcome to the sandbox", "", t_html)
    html.set_content("Welcome! Read the documentation at https://example.com/docs")
    html.add_alternative(
        "<html><body><h1>Welcome!</h1>"
        "<p>Read the <a href='https://example.com/docs'>documentation</a>.</p>"
        "<p style='color:#666'>You get this because you ran <code>make run</code>.</p></body></html>",
        subtype="html",
    )
    report = _message(
        "attach",
        "Dana Reyes <dana@example.com>",
        me,
        "Q3 report (CSV attached)",
        "Hi, the numbers are attached. Dana",
        t_report,
    )
    csv = "month,revenue\nJuly,1200\nAugust,1350\nSeptember,1410\n"
    report.add_attachment(csv.encode(), maintype="text", subtype="csv", filename="q3-report.csv")
    urgent = _message(
        "flagged", "Alex Kim <alex@example.com>", me, "Action required: sign the contract by Friday",
        "Please review and sign the contract before Friday noon.", t_urgent,
    )  # fmt: skip
    return [
        _seed("html", "INBOX", html, t_html, "\\Seen"),
        _seed("attach", "INBOX", report, t_report),
        _seed("flagged", "INBOX", urgent, t_urgent, "\\Flagged"),
    ]


def thread(me: str, now: datetime) -> list[SeedMessage]:
    """A four-message conversation linked by In-Reply-To and References."""
    people = [
        "Sam Ortiz <sam@example.com>",
        f"Demo User <{me}>",
        "Sam Ortiz <sam@example.com>",
        "Priya N <priya@example.com>",
    ]
    bodies = [
        "Shall we hold the project kickoff on Tuesday?",
        "Tuesday works for me. 10:00?",
        "10:00 it is. I'll send the invite.",
        "Count me in — I'll bring the roadmap slides.",
    ]
    out: list[SeedMessage] = []
    refs: list[str] = []
    for i, (sender, body) in enumerate(zip(people, bodies, strict=True)):
        key, when = f"thread-{i}", now - timedelta(days=2, hours=-3 * i)
        subject = "Project kickoff" if i == 0 else "Re: Project kickoff"
        msg = _message(key, sender, me if i != 1 else "sam@example.com", subject, body, when)
        if refs:
            msg["In-Reply-To"] = refs[-1]
            msg["References"] = " ".join(refs)
        refs.append(msg["Message-ID"])
        folder = "Sent" if i == 1 else "INBOX"
        flags = ("\\Seen", "\\Answered") if i == 0 else ("\\Seen",) if i < 3 else ()
        out.append(_seed(key, folder, msg, when, *flags))
    return out


def other_folders(me: str, now: datetime) -> list[SeedMessage]:
    """Something in Sent, Trash and Junk so those folders are not empty."""
    sent = _message(
        "sent", f"Demo User <{me}>", "team@example.com", "Notes from today", "Summary attached soon.", now
    )
    trash = _message("trash", "Deals <deals@example.net>", me, "Last chance: 70% off", "Old promotion.", now)
    junk = _message(
        "junk", "PayPaI Support <security@paypa1-verify.example>", me, "Your account is suspended",
        "Verify now at http://192.0.2.7/login or your account will be closed.", now,
    )  # fmt: skip
    junk.add_alternative(
        "<p>Verify at <a href='http://192.0.2.7/login'>https://www.paypal.com/verify</a></p>", subtype="html"
    )
    return [
        _seed("sent", "Sent", sent, now - timedelta(days=1), "\\Seen"),
        _seed("trash", "Trash", trash, now - timedelta(days=9), "\\Seen"),
        _seed("junk", "Junk", junk, now - timedelta(days=4)),
    ]


def demo_messages(me: str, now: datetime | None = None) -> list[SeedMessage]:
    """The whole demo mailbox, oldest first."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    seeds = [*notifications(me, now), *rich_messages(me, now), *thread(me, now), *other_folders(me, now)]
    return sorted(seeds, key=lambda seed: seed.when)
