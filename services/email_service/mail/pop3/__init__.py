"""POP3 protocol adapter (standard library poplib): INBOX only, messages addressed by UIDL."""
