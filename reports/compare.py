"""One period against the one before: headline deltas, new problems and problems that stopped."""

from __future__ import annotations

from typing import Any

HEADLINE = ("failures", "recipients", "senders", "recipient_domains")


def deltas(current: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per headline number: the value, the previous one and the change (None when the logs do not
    reach back into the previous period: unknown is not zero)."""
    out = {}
    for key in HEADLINE:
        now = current[key]
        before = previous[key] if previous is not None else None
        change = None if before is None else now - before
        pct = None if not before else 100.0 * change / before
        out[key] = {"value": now, "previous": before, "change": change, "pct": pct}
    return out


def problem_key(p: dict[str, Any]) -> tuple[str, str]:
    return (p["category"], p["signature"])


def new_and_stopped(current: list[dict[str, Any]], previous: list[dict[str, Any]] | None):
    """(problems seen now but not in the previous period, problems seen then but not now); both
    empty when there is no previous period to compare with. Also marks each current problem's
    `status`: "new", "continuing", or "" (unknown)."""
    if previous is None:
        for p in current:
            p["status"] = ""
        return [], []
    before = {problem_key(p) for p in previous}
    now = {problem_key(p) for p in current}
    for p in current:
        p["status"] = "continuing" if problem_key(p) in before else "new"
    return ([p for p in current if p["status"] == "new"],
            [p for p in previous if problem_key(p) not in now])
