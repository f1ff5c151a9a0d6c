"""Headless Chromium driven over the Chrome DevTools protocol (websocket-client, no driver).

Only what the UI tests need: open a page, read its text, click, wait, screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--window-size=1600,1400",
]


def find_chromium() -> str | None:
    """The Chromium binary: $CHROMIUM if set, else the first of CANDIDATES on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


class BrowserError(RuntimeError):
    """Chromium did not start, or a DevTools command failed."""


class Chromium:
    """One headless Chromium with a fresh profile and a single page; a context manager."""

    def __init__(self, binary: str, timeout: float = 20):
        self.binary = binary
        self.timeout = timeout
        self._ids = itertools.count(1)

    def __enter__(self) -> Chromium:
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self._proc = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._ws = websocket.create_connection(self._page_websocket(), timeout=self.timeout, suppress_origin=True)
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if getattr(self, "_ws", None):
            self._ws.close()
        if self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)  # its own group: renderer and zygote go too
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _page_websocket(self) -> str:
        # With --remote-debugging-port=0 Chromium writes its chosen port to the profile.
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrowserError(f"{self.binary} exited with {self._proc.returncode} before DevTools came up")
            if port_file.exists() and port_file.read_text().strip():
                port = port_file.read_text().split()[0]
                try:
                    targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                except (requests.RequestException, ValueError):
                    targets = []
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise BrowserError(f"{self.binary} did not open DevTools within {self.timeout:.0f} s")

    def send(self, method: str, **params) -> dict:
        """One DevTools command; its result (events that arrive meanwhile are dropped)."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (awaited if a promise)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(
                f"{expression!r}: {result['exceptionDetails'].get('text')} {result['result'].get('description', '')}"
            )
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")

    def text(self) -> str:
        """What a user can read on the page (rendered text, not the HTML), one non-blank
        line per line: innerText's blank lines and tabs vary with the layout."""
        raw = self.evaluate("document.body ? document.body.innerText : ''") or ""
        return "\n".join(line.strip() for line in raw.splitlines() if line.strip())

    def wait_for_text(self, *needles: str, until=None, timeout: float = 30) -> str:
        """Poll the page text until every needle is in it (and `until(text)` holds, if given);
        the text. Fails naming what is missing."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            missing = [n for n in needles if n not in text]
            if until is not None and not until(text):
                missing.append(getattr(until, "__doc__", None) or "until(text)")
            if not missing:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not on the page after {timeout:.0f} s: {missing}\n--- page text ---\n{text[:4000]}"
                )
            time.sleep(0.25)

    def click_text(self, text: str, selector: str = "button, a, [role=button], [role=tab]") -> None:
        """Click the first visible element matching `selector` whose text is exactly `text`."""
        found = self.evaluate(
            f"""(() => {{
                const want = {json.dumps(text)};
                for (const el of document.querySelectorAll({json.dumps(selector)})) {{
                    if (el.innerText && el.innerText.trim() === want && el.offsetParent !== null) {{ el.click(); return true; }}
                }}
                return false;
            }})()"""
        )
        if not found:
            raise AssertionError(
                f"no clickable {selector!r} with text {text!r}\n--- page text ---\n{self.text()[:4000]}"
            )

    def press(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        """A key press as the user's keyboard sends it; modifiers: Alt=1, Ctrl=2, Meta=4, Shift=8."""
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                modifiers=modifiers,
            )

    def links(self) -> list[dict]:
        """Every link on the page: {"text", "href"}."""
        return self.evaluate(
            "[...document.querySelectorAll('a[href]')].map(a => ({text: a.innerText.trim(), href: a.href}))"
        )

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path
