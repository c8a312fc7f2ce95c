"""OAuth2 accounts: tokens encrypted at rest, the provider's token endpoint, refresh before login."""
