"""MIME: parsing fetched messages (bounded), building outgoing ones, address handling."""
