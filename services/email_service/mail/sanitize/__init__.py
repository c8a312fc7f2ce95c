"""HTML sanitising with bounded, linear work per message."""
