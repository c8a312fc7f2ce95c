"""HTTP entry points: blueprints that parse, call services, and answer JSON."""
