"""Tenant and user context: tokens, request auth, scoped queries."""
