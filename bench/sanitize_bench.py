"""Seconds to sanitise hostile and ordinary HTML at 1x/2x/4x sizes, as JSON; optionally the old code too.

The old sanitiser (before the linear-time fix) is loaded from git at --old-rev and run only on inputs
up to --old-max-chars, since it grows quadratically (312 KB of "<script>" took ~40 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import types
from collections.abc import Callable

from email_service.mail.sanitize.html import extract_html, sanitize_html

Sanitiser = Callable[[str], object]


def newsletter(n: int) -> str:
    """A table-layout newsletter of about n characters: styles, links, images, nested tables."""
    item = (
        '<tr><td style="padding: 12px; color: #333"><table width="100%"><tr><td>'
        '<a href="https://shop.example/item?id=1&amp;utm=mail"><img src="https://cdn.example/i.png"'
        ' alt="Item" width="120"></a></td><td><h2 style="margin: 0">A product name</h2>'
        "<p>Some words about the product, <b>bold</b> and <i>italic</i>, with a "
        '<a href="https://shop.example/more">link</a>.</p></td></tr></table></td></tr>\n'
    )
    body = item * max(1, n // len(item))
    head = "<html><head><style>p { color: red }</style></head>"
    return f'{head}<body><table width="600">{body}</table></body></html>'


INPUTS: dict[str, Callable[[int], str]] = {
    "script_flood": lambda n: "<script>" * (n // 8),
    "nested_div": lambda n: "<div>" * (n // 5),
    "b_in_p": lambda n: "<b><p>" * (n // 6),
    "unclosed_attrs": lambda n: "<a href=x " * (n // 10),
    "newsletter": newsletter,
}


def old_sanitiser(rev: str) -> Sanitiser:
    """sanitize_html as it was at `rev`, loaded as a separate module."""
    source = subprocess.run(
        ["git", "show", f"{rev}:services/email_service/mail/sanitize/html.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("old_sanitize")
    sys.modules["old_sanitize"] = module  # dataclasses look their module up
    exec(compile(source, "old_sanitize.py", "exec"), module.__dict__)
    fn: Sanitiser = module.sanitize_html
    return fn


def seconds(fn: Sanitiser, html: str) -> float:
    start = time.perf_counter()
    fn(html)
    return round(time.perf_counter() - start, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=int, default=312_000, help="characters at 1x")
    parser.add_argument("--old-rev", default="", help="git revision of the old sanitiser to compare")
    parser.add_argument("--old-max-chars", type=int, default=80_000)
    args = parser.parse_args()
    old = old_sanitiser(args.old_rev) if args.old_rev else None
    report: dict[str, object] = {"base_chars": args.base}
    for name, make in INPUTS.items():
        rows = []
        for mult in (1, 2, 4):
            html = make(args.base * mult)
            row: dict[str, object] = {
                "x": mult,
                "chars": len(html),
                "sanitize_s": seconds(sanitize_html, html),
            }
            row["extract_s"] = seconds(extract_html, html)
            if old is not None and len(html) <= args.old_max_chars:
                row["old_sanitize_s"] = seconds(old, html)
            rows.append(row)
        report[name] = rows
        print(f"{name}: {rows}", file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
