"""Conversation threads: the references table the sync fills, and the read side over it."""
