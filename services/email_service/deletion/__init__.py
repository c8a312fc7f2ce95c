"""Soft delete (to Trash, restorable), permanent delete and restore: use cases, tasks, API."""
