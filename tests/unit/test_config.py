from __future__ import annotations

import pytest

from email_service.config import ConfigError, load_settings


def test_defaults_need_nothing() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite")
    assert settings.broker_url == "redis://localhost:6379/0"
    assert settings.result_backend_url == "redis://localhost:6379/1"
    assert settings.sync_recent_flags_window == 1000


def test_redis_url_shortcut_uses_result_db_for_results() -> None:
    settings = load_settings({"REDIS_URL": "redis://:pw@cache:6390/0", "REDIS_RESULT_DB": "3"})
    assert settings.broker_url == "redis://:pw@cache:6390/0"
    assert settings.result_backend_url == "redis://:pw@cache:6390/3"


def test_separate_result_server_and_ssl() -> None:
    settings = load_settings(
        {
            "REDIS_HOST": "broker",
            "REDIS_PASSWORD": "p@ss",
            "REDIS_USE_SSL": "true",
            "REDIS_SSL_VERIFY_CERT": "false",
            "REDIS_RESULT_HOST": "results",
            "REDIS_RESULT_PORT": "6380",
            "REDIS_RESULT_USE_SSL": "false",
        }
    )
    assert settings.broker_url == "rediss://:p%40ss@broker:6379/0?ssl_cert_reqs=none"
    assert settings.result_backend_url == "redis://:p%40ss@results:6380/1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_PORT", "abc"),
        ("REDIS_PORT", "70000"),
        ("REDIS_BROKER_DB", "16"),
        ("REDIS_USE_SSL", "maybe"),
        ("REDIS_RESULT_PORT", "-1"),
        ("DATABASE_URL", "mysql://x/y"),
        ("REDIS_URL", "http://x"),
        ("ENCRYPTION_KEYS", "nocolon"),
        ("ENCRYPTION_KEYS", "k1:c2hvcnQ="),
        ("APP_ENV", "staging"),
        ("SYNC_BATCH_SIZE", "0"),
        ("SYNC_RECENT_FLAGS_WINDOW", "-1"),
        ("SYSTEM_DATABASE_URL", "mysql://x/y"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    assert str(info.value).startswith(name)


def test_production_requires_real_secrets() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings({"APP_ENV": "production"})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        load_settings({"APP_ENV": "production", "JWT_SECRET": "s" * 40})


def test_secrets_not_in_repr() -> None:
    settings = load_settings({"SMTP_PASSWORD": "hunter2-secret"})
    assert "hunter2-secret" not in repr(settings)


def test_system_database_url_defaults_to_the_migration_url_then_the_database_url() -> None:
    """SQLite: one URL for all; PostgreSQL: the owner unless a BYPASSRLS role is named."""
    assert load_settings({}).system_database_url == load_settings({}).database_url
    app, owner = "postgresql://app:a@db/e", "postgresql://owner:o@db/e"
    settings = load_settings({"DATABASE_URL": app, "MIGRATION_DATABASE_URL": owner})
    assert settings.system_database_url == "postgresql+psycopg://owner:o@db/e"
    named = load_settings({"DATABASE_URL": app, "SYSTEM_DATABASE_URL": "postgresql://sys:s3cret-pw@db/e"})
    assert named.system_database_url == "postgresql+psycopg://sys:s3cret-pw@db/e"
    assert "s3cret-pw" not in repr(named)
