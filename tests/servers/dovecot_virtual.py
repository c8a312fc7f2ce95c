"""A virtual `\\All` mailbox for the test Dovecot (its virtual plugin): every message of every folder.

Dovecot's virtual All is what a `\\All` special-use folder looks like on a server other than Gmail:
a second view of mail stored elsewhere, which a mirror must list but not store again.
"""

from __future__ import annotations

import os
from pathlib import Path

VIRTUAL_ALL_NAME = "Virtual.All"  # the inbox namespace's separator is "." (maildir)


def virtual_all_config(root: Path, mail_uid: int, mail_gid: int) -> str:
    """Write the shared virtual definition under root and return the config lines that mount it."""
    base = root / "virtual"
    folder = base / "All"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dovecot-virtual").write_text("*\n  all\n")
    for path in (base, folder, folder / "dovecot-virtual"):
        os.chown(path, mail_uid, mail_gid)
    return f"""\
mail_plugins = $mail_plugins virtual
namespace virtual {{
  prefix = Virtual.
  separator = .
  location = virtual:{base}:INDEX=~/virtual-index
  mailbox All {{
    special_use = \\All
  }}
}}
"""
