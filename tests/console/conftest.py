"""Real `picket serve` processes and a real headless Chromium (Debian's package, driven by
Playwright) for the console's tests.

* ``Picket`` – one server on 127.0.0.1:0 (or ``listen=``) with its own data directory and HOME;
  ``demo=True`` runs ``serve --demo`` (the demo tenant, its fleet and its two users), otherwise
  ``--seed FILE``.
* ``free_port(host)`` – a port to listen on when the server must know its own address up front.
* ``browser`` – one Chromium per session; each test opens its own context (own cookies and storage).
* ``sign_in(page, server, user)`` – opens a fresh one-time link from ``picket console-link`` and waits
  for the console to be signed in.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright, Page, expect

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEMO_TENANT = "7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47"
ADMIN = "admin@demo.picket.local"
READER = "reader@demo.picket.local"
SCREENSHOTS = REPO / "docs" / "console"
STARTUP_TIMEOUT = 30.0
WRITE_ROLES = ("SecurityIdentitiesSensors.ReadWrite.All", "SecurityIdentitiesHealth.ReadWrite.All")


def picket_bin() -> Path:
    path = Path(os.environ.get("PICKET_BIN", "target/debug/picket"))
    return path if path.is_absolute() else REPO / path


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Picket:
    def __init__(self, *, demo: bool = True, seed: Path | None = None, tenant: str = DEMO_TENANT, args=(),
                 listen: str = "127.0.0.1:0"):
        self.binary = picket_bin()
        self.tenant = tenant
        self.dir = Path(tempfile.mkdtemp(prefix="picket-console-"))
        self.data_dir = self.dir / "data"
        self.env = {**os.environ, "HOME": str(self.dir), "PICKET_LOG": "warn", "NO_COLOR": "1"}
        for name in ("PICKET_ENDPOINT", "PICKET_TOKEN", "PICKET_CONFIG", "PICKET_DATABASE_URL"):
            self.env.pop(name, None)
        cmd = [str(self.binary), "serve", "--listen", listen, "--data-dir", str(self.data_dir)]
        if demo:
            cmd.append("--demo")
        if seed is not None:
            cmd += ["--seed", str(seed), "--seed-tenant", tenant]
        cmd += list(args)
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=self.env, text=True, bufsize=1)
        self.base = self._wait()
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def _wait(self) -> str:
        found = {}

        def read():
            for line in self.proc.stdout:
                if line.startswith("Picket listening on http://"):
                    found["url"] = line.split("Picket listening on ", 1)[1].strip()
                    return

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(STARTUP_TIMEOUT)
        if "url" not in found:
            self.stop()
            raise RuntimeError("picket did not start: " + (self.dir / "server.log").read_text(errors="replace")[-3000:])
        return found["url"]

    def cli(self, *args: str) -> str:
        out = subprocess.run([str(self.binary), *args, "--data-dir", str(self.data_dir)], capture_output=True,
                             text=True, env=self.env, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"picket {' '.join(args)} failed: {out.stderr}")
        return out.stdout

    def link(self, user: str) -> str:
        out = self.cli("console-link", "--tenant", self.tenant, "--user", user, "--endpoint", self.base)
        links = [w for w in out.split() if "/console/#" in w]
        assert links, f"no sign-in link in: {out}"
        return links[-1]

    def token(self, roles=WRITE_ROLES) -> str:
        args = ["token", "--tenant", self.tenant]
        for r in roles:
            args += ["--role", r]
        return self.cli(*args).strip().splitlines()[-1]

    def graph(self, method: str, path: str, body=None, token: str | None = None, version: str = "v1.0"):
        """A Graph call from outside the browser: (status, JSON body or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/{version}/security/identities{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.token()}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, (json.loads(text) if text else None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def demo():
    server = Picket(demo=True)
    yield server
    server.stop()


@pytest.fixture
def fresh_demo():
    server = Picket(demo=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("PICKET_CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.exit("Chromium is not installed: sudo apt-get install -y chromium (or set PICKET_CHROMIUM)", returncode=2)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(f"page error: {e}"))
    # Refused requests show up as "Failed to load resource"; tests provoke those on purpose and
    # check what the page says about them. Anything else logged as an error is a problem.
    pg.on("console", lambda m: pg.problems.append(f"console {m.type}: {m.text}")
          if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    yield pg
    context.close()


def sign_in(page: Page, server: Picket, user: str = ADMIN):
    page.goto(server.link(user))
    expect(page.locator("#sign-out")).to_be_visible()
    expect(page.locator("main h1")).to_be_visible()


def screenshot(page: Page, name: str):
    if os.environ.get("PICKET_SCREENSHOTS", "1") == "0":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
