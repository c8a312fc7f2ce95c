"""Settings: the only module that reads the environment.

Every value is parsed and checked once at start; a bad value raises ConfigError naming the variable,
so a misconfigured process stops before it serves anything.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


def _parse_port(raw: str) -> int:
    port = int(raw)
    if not 0 < port < 65536:
        raise ValueError("expected a port between 1 and 65535")
    return port


def _parse_db_index(raw: str) -> int:
    index = int(raw)
    if not 0 <= index <= 15:
        raise ValueError("expected a Redis database index 0..15")
    return index


def _parse_positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


RATE_LIMIT = re.compile(r"^[1-9][0-9]*/[smh]$")


def _parse_rate_limit(raw: str) -> str:
    """A Celery task rate limit: tasks per second, minute or hour ("60/m"), per worker node."""
    value = raw.strip()
    if not RATE_LIMIT.match(value):
        raise ValueError("expected N/s, N/m or N/h, e.g. 60/m")
    return value


def _parse_api_limit(raw: str) -> str:
    """An API rate limit in the limits library's notation: "6000/minute", "10 per second;500/hour"."""
    from limits import parse_many

    value = raw.strip()
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise ValueError('expected e.g. "6000/minute" or "10/second;500/hour"')
    return value


def _parse_count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected a whole number (0 or more)")
    return value


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _parse_log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in _LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}")
    return value


_SEARCH_MODES = ("fulltext", "substring")


def _parse_search_mode(raw: str) -> str:
    value = raw.strip().lower()
    if value not in _SEARCH_MODES:
        raise ValueError(f"expected one of {', '.join(_SEARCH_MODES)}")
    return value


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def parse_nameserver(raw: str) -> tuple[str, int]:
    """ "ip", "ip:port" or "[ipv6]:port" -> (ip, port); ValueError for anything else (no host names)."""
    text = raw.strip()
    host, port = text, 53
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"bad nameserver {raw!r}")
        port = int(rest[1:]) if rest else 53
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    ipaddress.ip_address(host)
    if not 0 < port < 65536:
        raise ValueError(f"bad nameserver port in {raw!r}")
    return host, port


def _parse_nameservers(raw: str) -> tuple[str, ...]:
    """AUTOCONFIG_NAMESERVERS: comma-separated IP[:port] (IPv6 as [ip]:port); empty = the system resolver."""
    items = _parse_list(raw)
    for item in items:
        try:
            parse_nameserver(item)
        except ValueError:
            raise ValueError("expected comma-separated IP or IP:port, e.g. 127.0.0.1:5353,[::1]:53") from None
    return items


class _Reader:
    """Reads typed values from a mapping and reports the offending variable on error."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def get(self, name: str, default: T, parse: Callable[[str], T]) -> T:
        raw = self.env.get(name)
        if raw is None or raw == "":
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: invalid value {raw!r} ({exc})") from None

    def text(self, name: str, default: str = "") -> str:
        return self.env.get(name, default) or default


def _redis_url(host: str, port: int, password: str, db: int, use_ssl: bool, verify: bool) -> str:
    scheme = "rediss" if use_ssl else "redis"
    auth = f":{quote(password, safe='')}@" if password else ""
    query = "" if not use_ssl else f"?ssl_cert_reqs={'required' if verify else 'none'}"
    return f"{scheme}://{auth}{host}:{port}/{db}{query}"


def _with_db(url: str, db: int) -> str:
    """Replace the database index of a redis:// URL (REDIS_URL shortcut → results db)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hostpart = rest.split("/", 1)[0]
    return f"{scheme}://{hostpart}/{db}" + (f"?{query}" if query else "")


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> str:
    if not url.startswith(schemes):
        raise ConfigError(f"{name}: must start with one of {', '.join(schemes)}")
    return url


# Field metadata for repr(): a secret is shown as '***', a URL with its password masked.
_SECRET = {"mask": "secret"}
_URL = {"mask": "url"}
_QUERY_PASSWORD = re.compile(r"(?i)(password=)[^&]*")
CONNECTION_TEST_MAX_SECONDS = 15  # issue 16 item 5: the hard bound of the synchronous connection test


def mask_url(url: str) -> str:
    """The URL with any password (user:password@ or ?password=) replaced by '***', for logs and repr."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        url = url.replace(parts.netloc, f"{userinfo.split(':', 1)[0]}:***@{host}", 1)
    base, mark, query = url.partition("?")
    return base + mark + _QUERY_PASSWORD.sub(r"\1***", query)


def _masked(value: Any, mask: str | None) -> str:
    if mask == "secret":
        return "'***'" if value else repr(value)
    if mask == "url":
        return repr(mask_url(value))
    return repr(value)


@dataclass(frozen=True, repr=False)
class Settings:
    """Typed, validated settings for every process (api, worker, beat, cli)."""

    env: str
    database_url: str = field(metadata=_URL)
    migration_database_url: str = field(metadata=_URL)
    # Cross-tenant jobs (periodic fan-out, cleanup, CLI) connect as this role, which must bypass RLS.
    system_database_url: str = field(metadata=_URL)
    broker_url: str = field(metadata=_URL)
    result_backend_url: str = field(metadata=_URL)
    jwt_secret: str = field(metadata=_SECRET)
    jwt_algorithm: str
    jwt_ttl_seconds: int
    encryption_keys: tuple[str, ...] = field(metadata=_SECRET)
    frontend_url: str
    log_level: str
    log_json: bool
    sync_batch_size: int
    sync_lock_ttl_seconds: int
    # Syncs of one tenant that run at once (the rest wait in the queue, not in a worker process).
    sync_tenant_concurrency: int
    # Newest messages whose flags every sync compares without CONDSTORE (0: only the full scan does).
    sync_recent_flags_window: int
    # POP3 accounts: DELE messages stored more than this many days ago at each sync (0 = leave on server).
    pop3_delete_after_days: int
    imap_timeout_seconds: int
    imap_command_timeout_seconds: int
    imap_min_bytes_per_second: int
    # IMAP connections open at once to one mailbox, across every process (a provider's own budget in
    # accounts/autoconfig/providers.py wins), and how long a login waits for one to close.
    imap_max_connections: int
    imap_connection_wait_seconds: int
    smtp_timeout_seconds: int
    max_recipients: int
    max_message_bytes: int
    send_at_horizon_days: int
    send_lock_wait_seconds: int
    task_record_retention_days: int
    change_retention_days: int
    outbox_retention_days: int
    allowed_private_hosts: tuple[str, ...]
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str = field(metadata=_SECRET)
    smtp_from: str = "no-reply@localhost"
    smtp_starttls: bool = True
    notification_skip_patterns: tuple[str, ...] = ("*@placeholder.*", "*.invalid", "*@example.invalid")
    flower_basic_auth: str = field(default="", metadata=_SECRET)
    # POST /api/accounts/<id>/test answers synchronously: IMAP and SMTP together (connect, TLS, login,
    # logout) within this many seconds, at most CONNECTION_TEST_MAX_SECONDS, so a silent host holds an
    # API thread no longer.
    connection_test_seconds: int = 15
    api_workers: int = 2
    api_threads: int = 4
    api_access_log: bool = False
    # Celery limits: soft raises SoftTimeLimitExceeded inside the task, hard kills the child (seconds).
    task_soft_time_limit: int = 1500
    task_time_limit: int = 1800
    # Worker defaults; a `-c` on the worker's command line wins over worker_concurrency.
    worker_concurrency: int = 2
    worker_prefetch_multiplier: int = 1
    worker_max_tasks_per_child: int = 1000
    # send_notification through the one system relay that every tenant shares, per worker node.
    notification_rate_limit: str = "60/m"
    # The workers' log level (default: LOG_LEVEL); Celery's own --loglevel is not consulted.
    worker_loglevel: str = "INFO"
    # q= on the message listing: "fulltext" (the search index, operators; issue 17) or "substring" (the
    # earlier ILIKE over subject, sender and snippet, no operators: kept as the benchmark's baseline).
    search_mode: str = "fulltext"
    # Per-tenant limits (issue 16): API requests per user and per tenant, and stricter named limits on
    # the routes that send mail or start work; stored upload bytes. See core/http/rate_limits.py.
    rate_limits_enabled: bool = True
    rate_limit_user: str = "6000/minute"
    rate_limit_tenant: str = "30000/minute"
    send_limit_user: str = "200/hour"
    send_limit_tenant: str = "2000/hour"
    notification_test_limit_user: str = "5/hour"
    notification_test_limit_tenant: str = "50/hour"
    sync_trigger_limit_user: str = "60/minute"
    sync_trigger_limit_tenant: str = "600/minute"
    # GET /api/autoconfig: up to six DNS queries and a thread for up to 6 s per request.
    autoconfig_limit_user: str = "60/minute"
    autoconfig_limit_tenant: str = "600/minute"
    upload_quota_bytes_user: int = 200 * 1024 * 1024
    upload_quota_bytes_tenant: int = 10 * 1024 * 1024 * 1024
    # Uploads no outbox row refers to are deleted by cleanup_stale_results once this old.
    unused_upload_retention_hours: int = 24
    # GET /api/autoconfig and address-only account creation ask these DNS servers (IP[:port]); empty: the
    # system resolver (/etc/resolv.conf).
    autoconfig_nameservers: tuple[str, ...] = ()
    # Set by gunicorn_conf.on_starting in the master before the workers fork (prometheus_client reads it too).
    prometheus_multiproc_dir: str = ""
    # OAuth2 client credentials for the google/microsoft providers (token refresh); "custom" accounts
    # carry their own token_url, client_id and client_secret.
    google_client_id: str = ""
    google_client_secret: str = field(default="", metadata=_SECRET)
    microsoft_client_id: str = ""
    microsoft_client_secret: str = field(default="", metadata=_SECRET)
    microsoft_tenant: str = "common"
    # Webhooks (events/webhooks): the waits before each retry (seconds; attempts = len + 1, jittered
    # ±20 %), the per-attempt bound, failed events in a row that disable an endpoint, deliveries one
    # endpoint receives at once, and how long the delivery log is kept.
    webhook_retry_seconds: tuple[float, ...] = (30.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_failures: int = 5
    webhook_max_in_flight: int = 4
    webhook_retention_days: int = 7
    # The authorization-code flow (GET /api/oauth/<provider>/start): where the provider sends the browser
    # back (the frontend's page, which POSTs code and state to /api/oauth/<provider>/callback), and the
    # providers' endpoints (overridable for a local identity provider).
    oauth_redirect_uri: str = ""
    google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
    # Microsoft's endpoints are <this>/<MICROSOFT_TENANT>/oauth2/v2.0/authorize and .../token.
    microsoft_login_url: str = "https://login.microsoftonline.com"
    # An access token with no more than this many seconds left is refreshed before a login.
    oauth_refresh_margin_seconds: int = 60
    # The IDLE watcher (`email-service watch`, sync/watch): a watcher's lease on an account lasts this
    # long unless renewed (a dead watcher's accounts are taken over after it), the account list is
    # re-read this often, a server's change waits this long for more before its sync is started,
    # at most this many IDLE connections go to one host, and new connections start at this rate.
    watch_lease_seconds: int = 30
    watch_poll_seconds: int = 10
    watch_debounce_ms: int = 1000
    watch_host_connection_cap: int = 1000
    watch_starts_per_second: int = 50
    # Folders IDLEd beside INBOX (each on its own connection), by name, on every push-enabled account.
    watch_extra_folders: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """Every field, secrets masked: settings end up in logs and tracebacks."""
        shown = (f"{f.name}={_masked(getattr(self, f.name), f.metadata.get('mask'))}" for f in fields(self))
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment; raise ConfigError naming the first bad variable."""
    env = os.environ if environ is None else environ
    r = _Reader(env)
    # Fails closed: only an explicit development or test environment gets the insecure defaults.
    app_env = r.text("APP_ENV", "production")
    if app_env not in {"development", "test", "production"}:
        raise ConfigError("APP_ENV: must be development, test or production")

    redis_host = r.text("REDIS_HOST", "localhost")
    redis_port = r.get("REDIS_PORT", 6379, _parse_port)
    redis_password = r.text("REDIS_PASSWORD")
    broker_db = r.get("REDIS_BROKER_DB", 0, _parse_db_index)
    use_ssl = r.get("REDIS_USE_SSL", False, _parse_bool)
    verify = r.get("REDIS_SSL_VERIFY_CERT", True, _parse_bool)
    result_db = r.get("REDIS_RESULT_DB", 1, _parse_db_index)
    redis_url = r.text("REDIS_URL")
    if redis_url:
        broker_url = _check_url("REDIS_URL", redis_url, ("redis://", "rediss://", "unix://"))
        result_url = _with_db(broker_url, result_db) if not broker_url.startswith("unix") else broker_url
    else:
        broker_url = _redis_url(redis_host, redis_port, redis_password, broker_db, use_ssl, verify)
        result_url = _redis_url(
            r.text("REDIS_RESULT_HOST", redis_host),
            r.get("REDIS_RESULT_PORT", redis_port, _parse_port),
            r.text("REDIS_RESULT_PASSWORD", redis_password),
            result_db,
            r.get("REDIS_RESULT_USE_SSL", use_ssl, _parse_bool),
            verify,
        )

    database_url = _check_url(
        "DATABASE_URL",
        r.text("DATABASE_URL", "sqlite:///var/email_service.db"),
        ("sqlite://", "postgresql://", "postgresql+psycopg://"),
    )
    database_url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    migration_url = r.text("MIGRATION_DATABASE_URL", database_url).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    system_url = _check_url(
        "SYSTEM_DATABASE_URL",
        r.text("SYSTEM_DATABASE_URL", migration_url),
        ("sqlite://", "postgresql://", "postgresql+psycopg://"),
    ).replace("postgresql://", "postgresql+psycopg://", 1)

    jwt_secret = r.text("JWT_SECRET")
    no_keys: tuple[str, ...] = ()
    keys = r.get("ENCRYPTION_KEYS", no_keys, _parse_list)
    if app_env == "production":
        if len(jwt_secret) < 32:
            raise ConfigError("JWT_SECRET: required in production, at least 32 characters")
        if not keys:
            raise ConfigError("ENCRYPTION_KEYS: required in production")
    if not jwt_secret:
        jwt_secret = "dev-insecure-jwt-secret-change-me-0123456789"  # noqa: S105 - dev/test default only
    if not keys:
        keys = ("dev:ZGV2LWluc2VjdXJlLWtleS1mb3ItbG9jYWwtb25seSE=",)
    _validate_keys(keys)

    soft_limit, hard_limit, lock_ttl = _time_limits(r)
    log_level = r.get("LOG_LEVEL", "INFO", _parse_log_level)
    return Settings(
        env=app_env,
        database_url=database_url,
        migration_database_url=migration_url,
        system_database_url=system_url,
        broker_url=broker_url,
        result_backend_url=result_url,
        jwt_secret=jwt_secret,
        jwt_algorithm="HS256",
        jwt_ttl_seconds=r.get("JWT_TTL_SECONDS", 3600, _parse_positive_int),
        encryption_keys=keys,
        frontend_url=r.text("FRONTEND_URL", "http://localhost:3000").rstrip("/"),
        log_level=log_level,
        log_json=r.get("LOG_JSON", True, _parse_bool),
        sync_batch_size=r.get("SYNC_BATCH_SIZE", 500, _parse_positive_int),
        sync_lock_ttl_seconds=lock_ttl,
        sync_tenant_concurrency=r.get("SYNC_TENANT_CONCURRENCY", 2, _parse_positive_int),
        sync_recent_flags_window=r.get("SYNC_RECENT_FLAGS_WINDOW", 1000, _parse_count),
        pop3_delete_after_days=r.get("POP3_DELETE_AFTER_DAYS", 0, _parse_count),
        imap_timeout_seconds=r.get("IMAP_TIMEOUT_SECONDS", 60, _parse_positive_int),
        imap_command_timeout_seconds=r.get("IMAP_COMMAND_TIMEOUT_SECONDS", 60, _parse_positive_int),
        imap_min_bytes_per_second=r.get("IMAP_MIN_BYTES_PER_SECOND", 16384, _parse_positive_int),
        imap_max_connections=r.get("IMAP_MAX_CONNECTIONS", 5, _parse_positive_int),
        imap_connection_wait_seconds=r.get("IMAP_CONNECTION_WAIT_SECONDS", 10, _parse_count),
        smtp_timeout_seconds=r.get("SMTP_TIMEOUT_SECONDS", 60, _parse_positive_int),
        max_recipients=r.get("MAX_RECIPIENTS", 100, _parse_positive_int),
        max_message_bytes=r.get("MAX_MESSAGE_BYTES", 25 * 1024 * 1024, _parse_positive_int),
        send_at_horizon_days=r.get("SEND_AT_HORIZON_DAYS", 365, _parse_positive_int),
        send_lock_wait_seconds=r.get("SEND_LOCK_WAIT_SECONDS", 60, _parse_positive_int),
        task_record_retention_days=r.get("TASK_RECORD_RETENTION_DAYS", 30, _parse_positive_int),
        change_retention_days=r.get("CHANGE_RETENTION_DAYS", 7, _parse_positive_int),
        outbox_retention_days=r.get("OUTBOX_RETENTION_DAYS", 90, _parse_positive_int),
        allowed_private_hosts=r.get(
            "ALLOWED_PRIVATE_HOSTS", () if app_env == "production" else ("*",), _parse_list
        ),
        smtp_host=r.text("SMTP_HOST"),
        smtp_port=r.get("SMTP_PORT", 587, _parse_port),
        smtp_user=r.text("SMTP_USER"),
        smtp_password=r.text("SMTP_PASSWORD"),
        smtp_from=r.text("SMTP_FROM", "no-reply@localhost"),
        smtp_starttls=r.get("SMTP_STARTTLS", True, _parse_bool),
        notification_skip_patterns=r.get(
            "NOTIFICATION_SKIP_PATTERNS", ("*@placeholder.*", "*.invalid", "*@example.invalid"), _parse_list
        ),
        flower_basic_auth=r.text("FLOWER_BASIC_AUTH"),
        connection_test_seconds=min(
            CONNECTION_TEST_MAX_SECONDS, r.get("CONNECTION_TEST_SECONDS", 15, _parse_positive_int)
        ),
        api_workers=r.get("API_WORKERS", 2, _parse_positive_int),
        api_threads=r.get("API_THREADS", 4, _parse_positive_int),
        api_access_log=r.get("API_ACCESS_LOG", False, _parse_bool),
        prometheus_multiproc_dir=r.text("PROMETHEUS_MULTIPROC_DIR"),
        task_soft_time_limit=soft_limit,
        task_time_limit=hard_limit,
        worker_concurrency=r.get("CELERY_WORKER_CONCURRENCY", 2, _parse_positive_int),
        worker_prefetch_multiplier=r.get("CELERY_WORKER_PREFETCH_MULTIPLIER", 1, _parse_positive_int),
        worker_max_tasks_per_child=r.get("CELERY_WORKER_MAX_TASKS_PER_CHILD", 1000, _parse_positive_int),
        notification_rate_limit=r.get("NOTIFICATION_RATE_LIMIT", "60/m", _parse_rate_limit),
        worker_loglevel=r.get("CELERY_WORKER_LOGLEVEL", log_level, _parse_log_level),
        search_mode=r.get("SEARCH_MODE", "fulltext", _parse_search_mode),
        autoconfig_nameservers=r.get("AUTOCONFIG_NAMESERVERS", (), _parse_nameservers),
        google_client_id=r.text("GOOGLE_CLIENT_ID"),
        google_client_secret=r.text("GOOGLE_CLIENT_SECRET"),
        microsoft_client_id=r.text("MICROSOFT_CLIENT_ID"),
        microsoft_client_secret=r.text("MICROSOFT_CLIENT_SECRET"),
        microsoft_tenant=r.text("MICROSOFT_TENANT", "common") or "common",
        oauth_redirect_uri=r.text("OAUTH_REDIRECT_URI"),
        google_authorize_url=r.text("GOOGLE_AUTHORIZE_URL", _DEFAULTS["google_authorize_url"]),
        google_token_url=r.text("GOOGLE_TOKEN_URL", _DEFAULTS["google_token_url"]),
        microsoft_login_url=r.text("MICROSOFT_LOGIN_URL", _DEFAULTS["microsoft_login_url"]).rstrip("/"),
        oauth_refresh_margin_seconds=r.get("OAUTH_REFRESH_MARGIN_SECONDS", 60, _parse_count),
        **_webhooks(r),
        **_limits(r),
        **_watch(r),
    )


def _watch(r: _Reader) -> dict[str, Any]:
    """The IDLE watcher's settings (defaults: the Settings fields')."""

    def number(name: str) -> int:
        return int(r.get(name, _DEFAULTS[name.lower()], _parse_positive_int))

    return {
        "watch_lease_seconds": number("WATCH_LEASE_SECONDS"),
        "watch_poll_seconds": number("WATCH_POLL_SECONDS"),
        "watch_debounce_ms": int(r.get("WATCH_DEBOUNCE_MS", _DEFAULTS["watch_debounce_ms"], _parse_count)),
        "watch_host_connection_cap": number("WATCH_HOST_CONNECTION_CAP"),
        "watch_starts_per_second": number("WATCH_STARTS_PER_SECOND"),
        "watch_extra_folders": r.get("WATCH_EXTRA_FOLDERS", tuple[str, ...](), _parse_list),
    }


def _parse_seconds_list(raw: str) -> tuple[float, ...]:
    values = tuple(float(part) for part in _parse_list(raw))
    if not values or any(not 0 <= v <= 86400 for v in values):
        raise ValueError("expected comma-separated seconds between 0 and 86400")
    return values


def _parse_positive_seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 600:
        raise ValueError("expected seconds between 0 and 600")
    return value


def _webhooks(r: _Reader) -> dict[str, Any]:
    return {
        "webhook_retry_seconds": r.get(
            "WEBHOOK_RETRY_SECONDS", _DEFAULTS["webhook_retry_seconds"], _parse_seconds_list
        ),
        "webhook_timeout_seconds": r.get("WEBHOOK_TIMEOUT_SECONDS", 10.0, _parse_positive_seconds),
        "webhook_disable_after_failures": r.get("WEBHOOK_DISABLE_AFTER_FAILURES", 5, _parse_positive_int),
        "webhook_max_in_flight": r.get("WEBHOOK_MAX_IN_FLIGHT", 4, _parse_positive_int),
        "webhook_retention_days": r.get("WEBHOOK_RETENTION_DAYS", 7, _parse_positive_int),
    }


def _limits(r: _Reader) -> dict[str, Any]:
    """The rate limits and upload quotas (defaults: the Settings fields')."""

    def limit(name: str) -> str:
        return str(_DEFAULTS[name.lower()])

    def size(name: str) -> int:
        return int(_DEFAULTS[name.lower()])

    return {
        "rate_limits_enabled": r.get("RATE_LIMITS_ENABLED", True, _parse_bool),
        "rate_limit_user": r.get("RATE_LIMIT_USER", limit("RATE_LIMIT_USER"), _parse_api_limit),
        "rate_limit_tenant": r.get("RATE_LIMIT_TENANT", limit("RATE_LIMIT_TENANT"), _parse_api_limit),
        "send_limit_user": r.get("SEND_LIMIT_USER", limit("SEND_LIMIT_USER"), _parse_api_limit),
        "send_limit_tenant": r.get("SEND_LIMIT_TENANT", limit("SEND_LIMIT_TENANT"), _parse_api_limit),
        "notification_test_limit_user": r.get(
            "NOTIFICATION_TEST_LIMIT_USER", limit("NOTIFICATION_TEST_LIMIT_USER"), _parse_api_limit
        ),
        "notification_test_limit_tenant": r.get(
            "NOTIFICATION_TEST_LIMIT_TENANT", limit("NOTIFICATION_TEST_LIMIT_TENANT"), _parse_api_limit
        ),
        "sync_trigger_limit_user": r.get(
            "SYNC_TRIGGER_LIMIT_USER", limit("SYNC_TRIGGER_LIMIT_USER"), _parse_api_limit
        ),
        "sync_trigger_limit_tenant": r.get(
            "SYNC_TRIGGER_LIMIT_TENANT", limit("SYNC_TRIGGER_LIMIT_TENANT"), _parse_api_limit
        ),
        "autoconfig_limit_user": r.get(
            "AUTOCONFIG_LIMIT_USER", limit("AUTOCONFIG_LIMIT_USER"), _parse_api_limit
        ),
        "autoconfig_limit_tenant": r.get(
            "AUTOCONFIG_LIMIT_TENANT", limit("AUTOCONFIG_LIMIT_TENANT"), _parse_api_limit
        ),
        "upload_quota_bytes_user": r.get(
            "UPLOAD_QUOTA_BYTES_USER", size("UPLOAD_QUOTA_BYTES_USER"), _parse_positive_int
        ),
        "upload_quota_bytes_tenant": r.get(
            "UPLOAD_QUOTA_BYTES_TENANT", size("UPLOAD_QUOTA_BYTES_TENANT"), _parse_positive_int
        ),
        "unused_upload_retention_hours": r.get(
            "UNUSED_UPLOAD_RETENTION_HOURS", size("UNUSED_UPLOAD_RETENTION_HOURS"), _parse_positive_int
        ),
    }


def _time_limits(r: _Reader) -> tuple[int, int, int]:
    """Soft and hard task limits, and the sync lock TTL, which must outlive the hard limit.

    A lock that expired while its sync still ran would let a second sync of the same account start,
    so the TTL defaults to the hard limit plus 100 s and a shorter explicit one is refused.
    """
    soft = r.get("TASK_SOFT_TIME_LIMIT", 1500, _parse_positive_int)
    hard = r.get("TASK_TIME_LIMIT", 1800, _parse_positive_int)
    if soft >= hard:
        raise ConfigError(f"TASK_SOFT_TIME_LIMIT: {soft} must be less than TASK_TIME_LIMIT ({hard})")
    lock_ttl = r.get("SYNC_LOCK_TTL_SECONDS", hard + 100, _parse_positive_int)
    if lock_ttl <= hard:
        raise ConfigError(f"SYNC_LOCK_TTL_SECONDS: {lock_ttl} must exceed TASK_TIME_LIMIT ({hard})")
    return soft, hard, lock_ttl


def _validate_keys(keys: tuple[str, ...]) -> None:
    import base64
    import binascii

    for item in keys:
        kid, sep, material = item.partition(":")
        if not sep or not kid or not kid.isalnum():
            raise ConfigError("ENCRYPTION_KEYS: each entry must be 'id:base64key' with an alphanumeric id")
        try:
            raw = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"ENCRYPTION_KEYS: key {kid!r} is not valid base64") from None
        if len(raw) != 32:
            raise ConfigError(f"ENCRYPTION_KEYS: key {kid!r} must decode to 32 bytes")


_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings)}
_settings: Settings | None = None


def get_settings() -> Settings:
    """Process-wide settings, loaded once."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings(settings: Settings | None = None) -> None:
    """Replace the cached settings (tests, CLI)."""
    global _settings
    _settings = settings
