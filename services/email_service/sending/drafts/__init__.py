"""Drafts: kept in the database at once and in the server's Drafts folder by a write-back task."""
