"""Full-text search of the caller's mail: the `q=` language (query.py) and its SQL (filters.py)."""
