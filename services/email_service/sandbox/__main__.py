"""`python -m email_service.sandbox --var VAR`: the sandbox IMAP and SMTP servers in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from pathlib import Path

from email_service.sandbox.imap_server import start_imap
from email_service.sandbox.seed import seed_mailbox
from email_service.sandbox.settings import SandboxSettings
from email_service.sandbox.smtp_server import start_smtp

log = logging.getLogger("email_service.sandbox")


async def serve(settings: SandboxSettings) -> None:
    """Run both servers, seed the mailbox, then wait for SIGINT/SIGTERM."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        await start_imap(settings, stack)
        await asyncio.to_thread(seed_mailbox, settings)
        await start_smtp(settings, stack)
        log.info(
            "sandbox ready: IMAP %s:%d, SMTP %s:%d, user %s",
            settings.host, settings.imap_port, settings.host, settings.smtp_port, settings.address,
        )  # fmt: skip
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m email_service.sandbox", description=__doc__)
    parser.add_argument(
        "--var", type=Path, default=Path("var"), help="state directory (mailbox under VAR/sandbox)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pymap").setLevel(logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO
    asyncio.run(serve(SandboxSettings.from_env(args.var)))


if __name__ == "__main__":
    main()
