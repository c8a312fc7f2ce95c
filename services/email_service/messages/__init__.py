"""The read side of the mirror: messages, folders, attachments, listing and search, the messages API."""
