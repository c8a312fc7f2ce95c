"""Email accounts: model, create/update/test connection, connection settings, the accounts API."""
