"""Start the mail sandbox for `make run`: the servers in their own process plus the demo account row."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from email_service.core.config_launch import child_environ, load_launch_settings
from email_service.sandbox.settings import SandboxSettings, sandbox_enabled


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says what to change."""


@dataclass
class Sandbox:
    """What devserver needs: processes to stop at exit and text to show the user."""

    settings: SandboxSettings | None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    account_id: str | None = None
    api_url: str = "http://127.0.0.1:8000"

    def describe(self) -> str:
        """Multi-line summary with ready-to-paste curl commands."""
        if self.settings is None:
            return "  Mail sandbox  off (SANDBOX=off)"
        s, api, auth = self.settings, self.api_url, '-H "Authorization: Bearer $TOKEN"'
        lines = [
            f"  Mail sandbox  mailbox kept in {s.data_dir}",
            f"    IMAP     {s.host}:{s.imap_port} (plain, no TLS)",
            f"    SMTP     {s.host}:{s.smtp_port} (AUTH, no TLS; any recipient goes to the demo INBOX)",
            f"    Login    {s.address} / {s.password}",
        ]
        if self.account_id:
            acc = self.account_id
            lines += [
                f"    Account  {acc}",
                "  Try it (after `export TOKEN=...` below):",
                f"    curl -X POST {auth} -H 'Content-Type: application/json' "
                f'-d \'{{"email_client_id":"{acc}"}}\' {api}/api/email/sync',
                f"    curl {auth} {api}/api/tasks/<taskId>",
                f"    curl {auth} '{api}/api/email/messages?account_id={acc}'",
            ]
        return "\n".join(lines)


def start_sandbox(
    var_dir: Path, *, token_tenant: str | None = None, token_user: str | None = None, timeout: float = 10.0
) -> Sandbox:
    """Start the servers, wait until both ports answer, and ensure the demo account for tenant/user."""
    api_url = f"http://127.0.0.1:{load_launch_settings().api_port}"
    if not sandbox_enabled():
        return Sandbox(settings=None, api_url=api_url)
    settings = SandboxSettings.from_env(var_dir)
    for port in (settings.imap_port, settings.smtp_port):
        if _accepts(settings.host, port):
            raise SandboxError(
                f"port {port} is already in use: stop the other sandbox, set SANDBOX_IMAP_PORT/"
                "SANDBOX_SMTP_PORT, or SANDBOX=off"
            )
    proc = _spawn(settings)
    sandbox = Sandbox(settings=settings, processes=[proc], api_url=api_url)
    try:
        _wait_for_ports(proc, settings, timeout)
        if token_tenant and token_user:
            from email_service.sandbox.demo_account import ensure_demo_account

            sandbox.account_id = ensure_demo_account(settings, token_tenant, token_user)
    except BaseException:
        stop_sandbox(sandbox)
        raise
    return sandbox


def stop_sandbox(sandbox: Sandbox, timeout: float = 10.0) -> None:
    """Terminate the sandbox processes and wait for them (tests and error paths)."""
    for proc in sandbox.processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in sandbox.processes:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _spawn(settings: SandboxSettings) -> subprocess.Popen[bytes]:
    env = child_environ(
        SANDBOX_IMAP_PORT=str(settings.imap_port),
        SANDBOX_SMTP_PORT=str(settings.smtp_port),
        SANDBOX_USER=settings.address,
        SANDBOX_PASSWORD=settings.password,
    )
    cmd = [sys.executable, "-m", "email_service.sandbox", "--var", str(settings.var_dir)]
    return subprocess.Popen(cmd, env=env)


def _wait_for_ports(proc: subprocess.Popen[bytes], settings: SandboxSettings, timeout: float) -> None:
    """SMTP opens only after seeding, so both ports answering means the mailbox is ready."""
    deadline = time.monotonic() + timeout
    pending = [settings.imap_port, settings.smtp_port]
    while pending:
        if proc.poll() is not None:
            raise SandboxError(f"the sandbox process exited with code {proc.returncode}; see its log above")
        if time.monotonic() > deadline:
            raise SandboxError(f"the sandbox did not open port(s) {pending} within {timeout:.0f} s")
        if _accepts(settings.host, pending[0]):
            pending.pop(0)
        else:
            time.sleep(0.1)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
