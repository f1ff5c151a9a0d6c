"""POSTing an alert to the webhook: JSON in, the HTTP status or a WebhookError out."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

WEBHOOK_VAR = "REDDIT_ASSETS_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT_SECONDS = 10.0


class WebhookError(Exception):
    """The webhook could not be reached or did not accept the alert."""


def post_webhook(url: str, payload: dict, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> int:
    """POST `payload` as JSON; the HTTP status, or WebhookError (the URL is never in the message)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise WebhookError(f"{WEBHOOK_VAR} must be an http(s) URL")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "reddit_assets-alerts"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"the webhook answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"the webhook is unreachable: {type(exc).__name__}: {reason}") from None
