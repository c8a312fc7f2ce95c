"""Seed the demo mailbox once: folders, then every demo message that is not there yet.

A marker file under VAR/sandbox records a finished seed, so messages the user deletes stay deleted
across restarts; an interrupted seed resumes without duplicates (messages are matched by Message-ID).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from email_service.sandbox.mailbox import demo_session, message_ids
from email_service.sandbox.seed_messages import SeedMessage, demo_messages
from email_service.sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)
FOLDERS = ("Sent", "Drafts", "Trash", "Junk", "Archive")
MARKER = "seeded"


def seed_mailbox(settings: SandboxSettings) -> int:
    """Create the standard folders and APPEND missing demo messages; returns how many were added."""
    marker = settings.data_dir / MARKER
    if marker.exists():
        return 0
    by_folder: dict[str, list[SeedMessage]] = defaultdict(list)
    for seed in demo_messages(settings.address):
        by_folder[seed.folder].append(seed)
    added = 0
    with demo_session(settings) as client:
        for folder in FOLDERS:
            if not client.folder_exists(folder):
                client.create_folder(folder)
        for folder, seeds in by_folder.items():
            present = message_ids(client, folder)
            missing = [seed for seed in seeds if seed.message_id not in present]
            if missing:  # one MULTIAPPEND per folder: pymap writes each APPEND command durably
                batch = [{"msg": s.as_bytes(), "flags": s.flags, "date": s.when} for s in missing]
                client.multiappend(folder, batch)
            added += len(missing)
    marker.write_text("demo mailbox seeded; delete this file to re-add missing demo messages\n")
    log.info("seeded %d demo messages for %s", added, settings.address)
    return added
