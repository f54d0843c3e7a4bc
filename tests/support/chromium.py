"""Headless Chromium over the DevTools pipe: the oracle for what a human sees in an HTML mail.

Installs nothing: it expects Debian's ``chromium`` on PATH (``scripts/setup.sh --test``). The
browser is started with ``--remote-debugging-pipe`` (commands on fd 3, replies on fd 4, JSON
messages ending in NUL: no port, no websocket) and a throw-away profile, and is closed by the
caller (``close``), killed if it does not exit.

:meth:`Chromium.visibility` renders many mails in one round trip, each in its own iframe (an
``about:blank`` document written with ``document.write``, so a mail without a doctype is in
quirks mode as in a mail client), and reports for each marker word whether a human sees it:
the text has a rendered box of non-zero size, the point at its centre hits its own element
or, when no ancestor clips there, one of its ancestors (not clipped, not off-screen, not under
an opaque box), its element is visible, the opacity of its
ancestors multiplies to at least 0.05, its font is at least 2 px, and its colour is neither
transparent nor within RGB distance 40 of the background behind it (no verdict over a
background image: visible).

Chromium's "minimum logical font size" preference (6 px: a ``font-size:0.1em`` renders at
6 px, a ``1px`` does not) is set to 0: mail clients that are not Chrome (Outlook, Thunderbird)
render such text at its computed size, which is what the sanitizer judges.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from typing import Any

#: the viewport of one mail (a desktop mail client's reading pane)
WIDTH, HEIGHT = 800, 3000

_VISIBILITY_JS = r"""
(cases) => {
  const NEAR = 40;
  const host = document.body;
  function rgba(text) {
    const m = text.match(/rgba?\(([^)]*)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function background(win, el) {
    for (let e = el; e; e = e.parentElement) {
      const s = win.getComputedStyle(e);
      if (s.display === 'contents') continue;  // no box, no background
      if (s.backgroundImage && s.backgroundImage !== 'none') return null;
      const c = rgba(s.backgroundColor);
      if (c && c[3] >= 0.1) return c;
    }
    return [255, 255, 255, 1];
  }
  function seen(doc, win, marker) {
    const walker = doc.createTreeWalker(doc.documentElement, NodeFilter.SHOW_TEXT);
    let node = null, at = -1;
    while (walker.nextNode()) {
      at = walker.currentNode.data.indexOf(marker);
      if (at >= 0) { node = walker.currentNode; break; }
    }
    if (!node) return false;
    const el = node.parentElement;
    if (!el) return false;
    const range = doc.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + marker.length);
    const rects = [...range.getClientRects()].filter(r => r.width >= 1 && r.height >= 1);
    if (!rects.length) return false;
    const style = win.getComputedStyle(el);
    if (style.visibility !== 'visible') return false;
    // content Chromium lays out (for getClientRects) but does not paint: under
    // content-visibility:hidden, or in a closed <details> outside its summary
    const contained = !/^(inline|contents|table-(row|column).*)$/.test(style.display);
    if (style.contentVisibility === 'hidden' && contained) return false;
    if (el.tagName === 'DETAILS' && !el.open) return false;
    if (parseFloat(style.fontSize) < 2) return false;
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) {
      const s = win.getComputedStyle(e);
      if (s.display === 'contents') continue;  // no box: its opacity and filter do nothing
      opacity *= parseFloat(s.opacity);
      const f = (s.filter || '').match(/opacity\(([\d.]+)(%?)\)/);
      if (f) opacity *= parseFloat(f[1]) / (f[2] ? 100 : 1);
    }
    if (opacity < 0.05) return false;
    // a transform that flattens a box (scaleY(0), rotateX(90deg), a singular matrix) can
    // leave its text a rect of non-zero size when the box is also turned (rotate: 10deg)
    for (let e = el; e; e = e.parentElement) {
      const s = win.getComputedStyle(e);
      if (s.display === 'contents' || s.display === 'inline') continue;
      const m = new DOMMatrix(s.transform && s.transform !== 'none' ? s.transform : undefined);
      const k = (s.scale && s.scale !== 'none' ? s.scale.split(' ') : []).map(parseFloat);
      const sx = k.length ? k[0] : 1, sy = k.length > 1 ? k[1] : sx;
      if (Math.abs((m.a * m.d - m.b * m.c) * sx * sy) < 1e-4) return false;
    }
    function opaque(e) {
      const s = win.getComputedStyle(e);
      const c = rgba(s.backgroundColor);
      return (s.backgroundImage && s.backgroundImage !== 'none') || (c && c[3] >= 0.1);
    }
    let box = el;  // display:contents has no box: its text is hit as its parent's
    while (box.parentElement && win.getComputedStyle(box).display === 'contents') {
      box = box.parentElement;
    }
    if (!box.checkVisibility({contentVisibilityAuto: true})) return false;
    // Hit-testing misses text that overflows its box (a height:0 paragraph) and text in a
    // display:contents table cell (the point hits an ancestor): an ancestor at the point counts
    // as a hit when no ancestor clips (overflow, clip-path, clip), else only the text's own
    // element does.
    function unclipped() {
      for (let e = el; e; e = e.parentElement) {
        const s = win.getComputedStyle(e);
        if (s.display === 'contents') continue;  // no box: nothing to clip
        if ((s.clipPath && s.clipPath !== 'none') || (s.clip && s.clip !== 'auto')) return false;
        // overflow does not apply to inline boxes, and tables and their parts do not clip
        if (s.display === 'inline' || /table/.test(s.display)) continue;
        if (s.overflowX !== 'visible' || s.overflowY !== 'visible') return false;
      }
      return true;
    }
    let hit = false;
    for (const r of rects) {
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      // the elements at the point, topmost first: the text shows unless something opaque
      // that is not one of its ancestors lies above it
      for (const found of doc.elementsFromPoint(x, y)) {
        if (found === box || el.contains(found)) { hit = true; break; }
        if (found.contains(box)) { hit = unclipped(); break; }
        if (opaque(found)) break;
      }
      if (hit) break;
    }
    if (!hit) return false;
    const fill = rgba(style.webkitTextFillColor) || rgba(style.color);
    if (!fill || fill[3] < 0.1) return false;
    const bg = background(win, el);
    if (bg) {
      const d = Math.hypot(fill[0] - bg[0], fill[1] - bg[1], fill[2] - bg[2]);
      if (d < NEAR) return false;
    }
    return true;
  }
  const out = [];
  for (const c of cases) {
    const frame = document.createElement('iframe');
    frame.style.width = WIDTH + 'px';
    frame.style.height = HEIGHT + 'px';
    frame.style.border = '0';
    host.appendChild(frame);
    const doc = frame.contentDocument, win = frame.contentWindow;
    doc.open();
    doc.write(c.html);
    doc.close();
    out.push({mode: doc.compatMode, seen: c.markers.map(m => seen(doc, win, m))});
    frame.remove();
  }
  return out;
}
""".replace("WIDTH", str(WIDTH)).replace("HEIGHT", str(HEIGHT))


class ChromiumError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, binary: str = "chromium", timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="mailguard-chromium-")
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()

        def child_fds() -> None:  # move first: the pipe fds may already be 3 or 4
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--mute-audio",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                "--no-first-run",
                "--disable-extensions",
                "--blink-settings=imagesEnabled=false,minimumLogicalFontSize=0",
                f"--window-size={WIDTH + 40},{HEIGHT + 40}",
                "about:blank",
            ],
            close_fds=False,
            preexec_fn=child_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_r)
        os.close(from_w)
        self._buffer = b""
        self._next = 0
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.call(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
            self.call("Runtime.enable", session=True)
        except BaseException:
            self.close()
            raise

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> Any:
        """Send one command and wait for its reply (events in between are dropped)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or self._proc.poll() is not None:
                    raise ChromiumError(f"no reply to {method}")
                ready, _, _ = select.select([self._from_r], [], [], min(left, 1.0))
                if ready:
                    chunk = os.read(self._from_r, 1 << 20)
                    if not chunk:
                        raise ChromiumError("the browser closed the pipe")
                    self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            reply = json.loads(raw)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise ChromiumError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def visibility(self, cases: list[tuple[str, list[str]]]) -> list[tuple[str, list[bool]]]:
        """For each (html, markers): the document's mode and whether each marker is seen."""
        payload = [{"html": html, "markers": markers} for html, markers in cases]
        result = self.call(
            "Runtime.evaluate",
            {
                "expression": f"({_VISIBILITY_JS})({json.dumps(payload)})",
                "returnByValue": True,
            },
            session=True,
        )
        if "exceptionDetails" in result:
            raise ChromiumError(str(result["exceptionDetails"])[:2000])
        return [(item["mode"], list(item["seen"])) for item in result["result"]["value"]]

    def close(self) -> None:
        """Close the browser (killed after 10 s), its pipes and its profile."""
        try:
            if self._proc.poll() is None:
                try:
                    self.timeout = 5.0
                    self.call("Browser.close")
                except (ChromiumError, OSError):
                    pass
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(10)
        finally:
            for fd in (self._to_w, self._from_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)
