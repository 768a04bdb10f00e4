"""One period against the one before: headline deltas, new problems and problems that stopped."""

from __future__ import annotations

from typing import Any

HEADLINE = ("failures", "recipients", "senders", "recipient_domains")


def deltas(current: dict[str, Any], previous: dict[str, Any] | None, hours: float | None = None,
           hours_before: float | None = None) -> dict[str, dict[str, Any]]:
    """Per headline number: the value, the previous one and the change (None when the logs do not
    reach back into the previous period: unknown is not zero). With `hours` and `hours_before`
    (the hours the logs cover of each, given when either period is partial), the change compares
    counts per hour covered (`per_hour`), never a partial count with a full one."""
    out = {}
    per_hour = bool(hours and hours_before)
    for key in HEADLINE:
        now = current[key]
        before = previous[key] if previous is not None else None
        if per_hour and before is not None:
            change = now / hours - before / hours_before
            pct = None if not before else 100.0 * change / (before / hours_before)
        else:
            change = None if before is None else now - before
            pct = None if not before else 100.0 * change / before
        out[key] = {"value": now, "previous": before, "change": change, "pct": pct, "per_hour": per_hour}
    return out


def problem_key(p: dict[str, Any]) -> tuple[str, str, str]:
    return (p["section"], p["category"], p["key"])


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
