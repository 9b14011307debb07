"""What the router shows of its dashboard from Python: the printed link, a browser launch that keeps
the token off command lines, and the rich display in Jupyter. The page itself is served by the engine.
"""
from __future__ import annotations

import html
import os
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Mapping, Optional

_PICO = Decimal("1e-12")


def usd(value: Any) -> str:
    """Dollars as the dashboard writes them: exact to the pico-dollar (the engine's unit), trailing
    zeros dropped, at least two decimals: ``$5.00``, ``$0.000123``, ``$0.00000045``."""
    if value is None:
        return "—"
    amount = Decimal(repr(float(value))).quantize(_PICO, rounding=ROUND_HALF_EVEN).normalize()
    if amount.as_tuple().exponent > -2:  # type: ignore[operator]
        amount = amount.quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):f}"


def _count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def can_open_browser() -> bool:
    """True where ``webbrowser`` would start a graphical browser rather than a text one in this terminal
    (on a Linux box without a display it would run lynx or w3m in the foreground, or nothing)."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def launcher_file(url: str, directory: Optional[str]) -> str:
    """A small page, readable by this user only, that forwards the browser to ``url``.

    Opening it instead of ``url`` keeps the token out of the browser's command line, which any local
    user can read in ``ps`` (Jupyter opens its servers the same way). The caller deletes it.
    """
    import tempfile

    fd, path = tempfile.mkstemp(prefix="iron-dashboard-", suffix=".html", dir=directory)
    target = html.escape(url, quote=True)
    page = (
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">"
        f"<meta http-equiv=\"refresh\" content=\"0;url={target}\">"
        f"<title>iron-runtime dashboard</title><p><a href=\"{target}\">Open the iron-runtime dashboard</a></p>\n"
    )
    with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp made it 0600
        f.write(page)
    return path


def open_in_browser(url: str, directory: Optional[str]) -> Optional[str]:
    """Opens ``url`` through a launcher file; returns the file (to delete later), or None when no
    browser could be started (the file is then removed at once)."""
    import webbrowser

    path = launcher_file(url, directory)
    try:
        opened = webbrowser.open("file://" + path, new=2)
    except Exception:
        opened = False
    if not opened:
        os.unlink(path)
        return None
    return path


def remove_files(paths: "list[str]") -> None:
    """Deletes launcher files (gone already is fine) and forgets them."""
    while paths:
        try:
            os.unlink(paths.pop())
        except OSError:
            pass


def rich_display(*, running: bool, base_url: str, dashboard_url: Optional[str], mode: str,
                 provider: Optional[str], metrics: Mapping[str, Any]) -> str:
    """The router as HTML for Jupyter: its state, the dashboard link and the current totals. Every
    value is escaped (a ``budget_id`` is the user's text)."""
    e = html.escape
    limit = metrics.get("budget_limit")
    spent = usd(metrics.get("budget_spent", 0))
    spend = f"{spent} of {usd(limit)}" if limit is not None else f"{spent} (no limit)"
    rows = [
        ("Requests", _count(metrics.get("requests"))),
        ("Errors", _count(metrics.get("errors"))),
        ("Spent", spend),
        ("Reserved", usd(metrics.get("budget_reserved", 0))),
        ("PII detections", _count(metrics.get("pii_detections"))),
    ]
    if metrics.get("budget_id"):
        rows.append(("Budget id", str(metrics["budget_id"])))
    state = "running" if running else "stopped"
    head = (
        f"<strong>LlmRouter</strong> {e(state)} · {e(mode)}"
        + (f" · {e(provider)}" if provider else "")
        + f" · <code>{e(base_url)}</code>"
    )
    if running and dashboard_url:
        link = (f"<a href=\"{e(dashboard_url, quote=True)}\" target=\"_blank\" rel=\"noopener noreferrer\">"
                "Open the dashboard</a>")
    else:
        link = "<em>the dashboard is served while the router runs</em>"
    cells = "".join(
        f"<tr><th style=\"text-align:left;padding-right:1em\">{e(k)}</th><td style=\"text-align:right\">{e(v)}</td></tr>"
        for k, v in rows
    )
    return (f"<div class=\"iron-runtime-router\"><div>{head}</div><div>{link}</div>"
            f"<table>{cells}</table></div>")
