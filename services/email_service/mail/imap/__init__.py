"""IMAP protocol adapter: connection, commands, the FETCH wire parser, UID sets, folder transfers."""
