"""Alerts the webhook did not take, kept on disk until a later delivery succeeds.

Dagster's run-failure sensor moves past a failed run whatever the sensor returns, so an
alert that could not be posted would be lost. It is written here instead (already
redacted, atomically) and the `deliver_pending_alerts` sensor posts it later, oldest first.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from reddit_assets.alerts.webhook import WEBHOOK_TIMEOUT_SECONDS, WebhookError, post_webhook
from reddit_assets.files.atomic import atomic_file
from reddit_assets.files.paths import pending_alerts_dir

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Delivery:
    delivered: int
    pending: int
    error: str | None = None


def keep(data_dir: Path, payload: dict, name: str) -> Path:
    """Store an alert for a later delivery; its file name sorts by the time it was kept."""
    path = pending_alerts_dir(data_dir) / f"{time.time_ns():020d}-{_UNSAFE.sub('_', name)[:80]}.json"
    with atomic_file(path) as handle:
        handle.write(json.dumps(payload).encode())
    return path


def pending(data_dir: Path) -> list[Path]:
    folder = pending_alerts_dir(data_dir)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def deliver(data_dir: Path, url: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> Delivery:
    """Post every kept alert, oldest first, deleting each once the webhook took it.

    Stops at the first failure (the webhook is likely still down), keeping the rest. A
    file that is not JSON is left in place and counted as pending; it is never posted.
    """
    kept = pending(data_dir)
    delivered = 0
    for path in kept:
        try:
            payload = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        try:
            post_webhook(url, payload, timeout)
        except WebhookError as exc:
            return Delivery(delivered, len(kept) - delivered, str(exc))
        path.unlink(missing_ok=True)
        delivered += 1
    return Delivery(delivered, len(kept) - delivered)
