"""The IDLE watcher (`email-service watch`): one asyncio process holding IMAP IDLE on the INBOX of
every push-enabled account it leases, starting a sync of the folder when the server announces a change."""
