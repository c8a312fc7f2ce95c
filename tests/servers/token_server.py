"""A real OAuth2 provider on 127.0.0.1: an authorization endpoint (the user's consent is preset with
`consent_as`), a token endpoint (RFC 6749 authorization-code grant with PKCE S256, refresh grant) and an
introspection endpoint (RFC 7662).

It issues access and refresh tokens, rotates the refresh token on every refresh (the old one is refused
with invalid_grant at once, as Microsoft and many providers may do), answers Dovecot's oauth2 passdb
introspection and the test SMTP server's token checks, and can be scripted to answer 429 or 5xx once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

HOST = "127.0.0.1"


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds
    username: str


@dataclass
class _Access:
    username: str
    expires_at: float


class TokenServer:
    """start()/stop(); issue() hands out tokens the way an authorization would; the HTTP side refreshes."""

    def __init__(self, client_id: str = "test-client", client_secret: str = "test-client-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> username (only the newest per grant)
        self._scripted: list[tuple[int, dict[str, Any]]] = []
        self.refresh_requests: list[dict[str, str]] = []
        self._issued: list[tuple[str, str]] = []  # (username, token) of every token ever handed out
        self.introspections = 0
        self.consenting_user: str | None = None  # who "signs in" at the authorization page
        self._codes: dict[str, dict[str, str]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.lifetime = 3600
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> TokenServer:
        self._httpd = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="token-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def token_url(self) -> str:
        return f"http://{HOST}:{self.port}/token"

    @property
    def authorize_url(self) -> str:
        return f"http://{HOST}:{self.port}/authorize"

    @property
    def introspection_url(self) -> str:
        return f"http://{HOST}:{self.port}/introspect"

    # test-facing -------------------------------------------------------------------------------
    def issue(self, username: str, lifetime: float | None = None) -> IssuedTokens:
        """A fresh grant for `username`, as the end of an authorization-code flow would give."""
        with self._lock:
            access, refresh = self._new_access(username, lifetime), f"rt-{secrets.token_urlsafe(16)}"
            self._refresh[refresh] = username
            self._issued.append((username, refresh))
            return IssuedTokens(access, refresh, self._access[access].expires_at, username)

    def script(self, status: int, body: dict[str, Any] | None = None) -> None:
        """The next token request gets this answer instead (e.g. 429, or 400 invalid_grant)."""
        with self._lock:
            self._scripted.append((status, body or {"error": "temporarily_unavailable"}))

    def revoke_refresh(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh.pop(refresh_token, None)

    def is_active(self, access_token: str) -> str | None:
        """The username an access token belongs to while it is valid, else None."""
        with self._lock:
            found = self._access.get(access_token)
            if found is None or found.expires_at <= time.time():
                return None
            return found.username

    def issued_to(self, username: str) -> list[str]:
        """Every access and refresh token ever issued to `username` (for the secrets audit)."""
        with self._lock:
            return [token for user, token in self._issued if user == username]

    def refresh_token_valid(self, refresh_token: str) -> bool:
        with self._lock:
            return refresh_token in self._refresh

    # HTTP side ---------------------------------------------------------------------------------
    def _new_access(self, username: str, lifetime: float | None) -> str:
        token = f"at-{secrets.token_urlsafe(16)}"
        seconds = self.lifetime if lifetime is None else lifetime
        self._access[token] = _Access(username, time.time() + seconds)
        self._issued.append((username, token))
        return token

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The consent page, decided at once for `consenting_user`: (status, redirect Location or error)."""
        with self._lock:
            self.authorize_requests.append(query)
            user, redirect = self.consenting_user, query.get("redirect_uri", "")
            if query.get("client_id") != self.client_id or not redirect or user is None:
                return 400, "unknown client, no redirect_uri or nobody signed in"
            if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
                return 400, "response_type=code with PKCE S256 only"
            code = f"code-{secrets.token_urlsafe(12)}"
            self._codes[code] = {"user": user, "redirect_uri": redirect, "challenge": query["code_challenge"]}
            sep = "&" if "?" in redirect else "?"
            return 302, f"{redirect}{sep}{urlencode({'code': code, 'state': query.get('state', '')})}"

    def _code_grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self._codes.pop(form.get("code", ""), None)  # one use only
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or grant["redirect_uri"] != form.get("redirect_uri")
            or grant["challenge"] != challenge
        ):
            return 400, {"error": "invalid_grant", "error_description": "bad code, redirect_uri or verifier"}
        return 200, self._tokens(grant["user"])

    def _tokens(self, username: str) -> dict[str, Any]:
        access, refresh = self._new_access(username, None), f"rt-{secrets.token_urlsafe(16)}"
        self._refresh[refresh] = username
        self._issued.append((username, refresh))
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
        }

    def token_request(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refresh_requests.append(form)
            if self._scripted:
                return self._scripted.pop(0)
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client"}
            if form.get("grant_type") == "authorization_code":
                return self._code_grant(form)
            if form.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            username = self._refresh.pop(form.get("refresh_token", ""), None)
            if username is None:
                return 400, {"error": "invalid_grant", "error_description": "unknown or revoked"}
            access, rotated = self._new_access(username, None), f"rt-{secrets.token_urlsafe(16)}"
            self._refresh[rotated] = username
            self._issued.append((username, rotated))
            return 200, {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": self.lifetime,
                "refresh_token": rotated,
            }

    def introspect(self, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.introspections += 1
        username = self.is_active(form.get("token", ""))
        return {"active": True, "username": username} if username else {"active": False}


def _handler_for(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path != "/authorize":
                self.send_error(404)
                return
            status, where = server.authorize({k: v[0] for k, v in parse_qs(query).items()})
            self.send_response(status)
            if status == 302:
                self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            if self.path.startswith("/token"):
                status, body = server.token_request(form)
            elif self.path.startswith("/introspect"):
                status, body = 200, server.introspect(form)
            else:
                status, body = 404, {"error": "not_found"}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
