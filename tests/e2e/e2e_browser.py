"""How the test browser is launched: Debian's Chromium and its flags. Part of the machinery behind
tests/e2e/conftest.py, with e2e_servers (local servers), e2e_proxy (the recording proxy),
e2e_recorded_page (recorded pages) and e2e_helpers (helpers for the page tests).

Network isolation (measured with Playwright 1.65.2 and Debian's Chromium 156):

* The browser is launched with ``--proxy-server=<browser proxy>`` and ``--proxy-bypass-list=<-loopback>``
  (so even 127.0.0.1 goes through the proxy) and
  ``--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1`` (no name resolves; belt and braces for
  anything not proxied). The browser proxy forwards nothing: it refuses and records Chromium's own
  background chatter (with Debian's build: update.googleapis.com and accounts.google.com, whatever the
  flags), so that chatter never leaves the machine and is never blamed on a page.
* Every recorded page gets a browser context of its own with its own :class:`RecordingProxy`
  (``new_context(proxy=...)``; Playwright adds ``<-loopback>`` itself). That proxy sees every request of
  the context, service workers included (``page.route`` does not), forwards only to the servers this
  harness started (:func:`local_origins`) and refuses and records everything else, CONNECT included.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"

BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # No name resolves in the browser (the proxies do the connecting, by address).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    # WebRTC's UDP is not proxied: forbid it.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # Chromium's own form-autofill queries (browser chrome, not the page) would otherwise go out through
    # the context's proxy whenever a page has input fields.
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter",
]


def launch_args(proxy_port: int) -> list[str]:
    return [
        *BASE_ARGS,
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
    ]
