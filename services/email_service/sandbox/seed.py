"""Seed the demo mailbox once: folders, then every demo message that is not there yet.

A marker file under VAR/sandbox records a finished seed, so messages the user deletes stay deleted
across restarts; an interrupted seed resumes without duplicates (messages are matched by Message-ID).
"""

from __future__ import annotations

import logging

from email_service.sandbox.mailbox import append_message, demo_session, has_message_id
from email_service.sandbox.seed_messages import demo_messages
from email_service.sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)
FOLDERS = ("Sent", "Drafts", "Trash", "Junk", "Archive")
MARKER = "seeded"


def seed_mailbox(settings: SandboxSettings) -> int:
    """Create the standard folders and APPEND missing demo messages; returns how many were added."""
    marker = settings.data_dir / MARKER
    if marker.exists():
        return 0
    added = 0
    with demo_session(settings) as client:
        for folder in FOLDERS:
            if not client.folder_exists(folder):
                client.create_folder(folder)
        for seed in demo_messages(settings.address):
            if client.folder_exists(seed.folder) and has_message_id(client, seed.folder, seed.message_id):
                continue
            append_message(client, seed.folder, seed.as_bytes(), seed.flags, seed.when)
            added += 1
    marker.write_text("demo mailbox seeded; delete this file to re-add missing demo messages\n")
    log.info("seeded %d demo messages for %s", added, settings.address)
    return added
