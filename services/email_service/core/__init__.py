"""The shared core: config, database, tenancy, errors, logging, crypto, outbound policy, tasking."""
