from __future__ import annotations

import pytest

from email_service.core.config import ConfigError, load_settings, mask_url

DEV = {"APP_ENV": "development"}
KEY = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
PROD_SECRETS = {"JWT_SECRET": "j" * 40, "ENCRYPTION_KEYS": KEY}


def test_unset_app_env_is_production_and_refuses_to_start_without_secrets() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings({})
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings({"JWT_SECRET": "short"})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        load_settings({"JWT_SECRET": "j" * 40})
    settings = load_settings(PROD_SECRETS)
    assert settings.is_production
    assert settings.allowed_private_hosts == ()  # outbound host policy on


def test_development_and_test_are_chosen_explicitly() -> None:
    for env in ("development", "test"):
        settings = load_settings({"APP_ENV": env})
        assert settings.env == env and settings.allowed_private_hosts == ("*",)


def test_development_defaults_need_nothing_else() -> None:
    settings = load_settings(DEV)
    assert settings.database_url.startswith("sqlite")
    assert settings.broker_url == "redis://localhost:6379/0"
    assert settings.result_backend_url == "redis://localhost:6379/1"
    assert settings.sync_recent_flags_window == 1000


def test_redis_url_shortcut_uses_result_db_for_results() -> None:
    settings = load_settings({**DEV, "REDIS_URL": "redis://:pw@cache:6390/0", "REDIS_RESULT_DB": "3"})
    assert settings.broker_url == "redis://:pw@cache:6390/0"
    assert settings.result_backend_url == "redis://:pw@cache:6390/3"


def test_separate_result_server_and_ssl() -> None:
    settings = load_settings(
        {
            **DEV,
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
        ("RATE_LIMIT_USER", "lots"),
        ("RATE_LIMIT_TENANT", "0/minute"),
        ("SEND_LIMIT_USER", "5"),
        ("SYNC_TRIGGER_LIMIT_TENANT", "1/fortnight"),
        ("RATE_LIMITS_ENABLED", "maybe"),
        ("UPLOAD_QUOTA_BYTES_USER", "0"),
        ("UNUSED_UPLOAD_RETENTION_HOURS", "-3"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**DEV, name: value})
    assert str(info.value).startswith(name)


def test_production_requires_real_secrets() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings({"APP_ENV": "production"})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        load_settings({"APP_ENV": "production", "JWT_SECRET": "s" * 40})


def test_repr_and_str_show_no_secret() -> None:
    secrets = {
        "JWT_SECRET": "jwt-secret-" + "x" * 30,
        "ENCRYPTION_KEYS": "k9:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU=",
        "DATABASE_URL": "postgresql://app:db-pass-1@db/e",
        "MIGRATION_DATABASE_URL": "postgresql://owner:db-pass-2@db/e",
        "SYSTEM_DATABASE_URL": "postgresql://sys:db-pass-3@db/e?sslmode=require&password=db-pass-4",
        "REDIS_URL": "redis://:redis-pass-5@cache:6379/0",
        "SMTP_PASSWORD": "smtp-pass-6",
        "FLOWER_BASIC_AUTH": "admin:flower-pass-7",
    }
    settings = load_settings(secrets)
    for shown in (repr(settings), str(settings), f"{settings}"):
        for name, value in secrets.items():
            secret = value.split(":")[-1] if name in {"ENCRYPTION_KEYS", "FLOWER_BASIC_AUTH"} else value
            for part in ("jwt-secret", "QUJDREVG", *(f"pass-{i}" for i in range(1, 8))):
                assert part not in shown, (name, part)
            assert secret not in shown, name
        assert "postgresql+psycopg://app:***@db/e" in shown and "redis://:***@cache:6379/0" in shown
        assert "smtp_password='***'" in shown and "jwt_algorithm='HS256'" in shown


def test_mask_url_keeps_everything_but_the_password() -> None:
    assert mask_url("sqlite:///var/x.db") == "sqlite:///var/x.db"
    assert mask_url("postgresql://u@h:5/d") == "postgresql://u@h:5/d"
    assert (
        mask_url("postgresql://u:p%40ss@h:5/d?password=x&a=1") == "postgresql://u:***@h:5/d?password=***&a=1"
    )
    assert mask_url("rediss://:pw@h:6380/1?ssl_cert_reqs=none") == "rediss://:***@h:6380/1?ssl_cert_reqs=none"


def test_system_database_url_defaults_to_the_migration_url_then_the_database_url() -> None:
    """SQLite: one URL for all; PostgreSQL: the owner unless a BYPASSRLS role is named."""
    assert load_settings(DEV).system_database_url == load_settings(DEV).database_url
    app, owner = "postgresql://app:a@db/e", "postgresql://owner:o@db/e"
    settings = load_settings({**DEV, "DATABASE_URL": app, "MIGRATION_DATABASE_URL": owner})
    assert settings.system_database_url == "postgresql+psycopg://owner:o@db/e"
    named = load_settings(
        {**DEV, "DATABASE_URL": app, "SYSTEM_DATABASE_URL": "postgresql://sys:s3cret-pw@db/e"}
    )
    assert named.system_database_url == "postgresql+psycopg://sys:s3cret-pw@db/e"


def test_limits_have_defaults_and_take_the_limits_notation() -> None:
    settings = load_settings(DEV)
    assert (settings.rate_limit_user, settings.send_limit_user) == ("6000/minute", "200/hour")
    assert settings.upload_quota_bytes_user == 200 * 1024 * 1024 and settings.rate_limits_enabled
    custom = load_settings({**DEV, "SEND_LIMIT_USER": "2 per second;100/hour", "RATE_LIMITS_ENABLED": "no"})
    assert custom.send_limit_user == "2 per second;100/hour" and not custom.rate_limits_enabled
