"""SMTP protocol adapter: delivery with per-recipient results, typed errors."""
