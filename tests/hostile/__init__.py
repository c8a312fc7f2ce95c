"""Hostile and malformed messages synced from a real Dovecot: stored or quarantined, never executed."""
