"""Autoconfig: an address's IMAP/POP3/SMTP settings from the shipped provider table, then DNS."""
