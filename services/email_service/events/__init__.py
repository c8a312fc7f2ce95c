"""The change log of each user (creates, updates, deletes of messages, ...) and the changes feed.

A change is appended in the same transaction as what it describes, so the log never tells of a change
that was rolled back and never misses one that was committed. Once committed, a Redis message wakes
the feed's long-polls. Webhooks and the IDLE watcher of the push issue build on this log.
"""
