#!/usr/bin/env python3
"""Runs the examples in README.md and in `picket … --help`, so they cannot rot.

    cargo build -p picket-cli -p picket-agent
    python3 tests/readme/run_examples.py --picket target/debug/picket

Every fenced block whose info string is exactly ``sh`` runs in a fresh ``bash`` (``set -euo pipefail``),
every ``python`` block with ``--python`` (default ``tests/sdk/.venv/bin/python``, the interpreter
``tests/sdk/run.sh`` makes, with msgraph-beta-sdk, msgraph-sdk and azure-identity). Any other info
string (``text``, ``console``, ``toml``, ``json``, ``powershell``…) marks a block that is not run: its
first line is listed in the output. ``bash``, ``shell``, ``zsh``, ``py`` and ``python3`` are refused, so
that a block is never skipped by a typo.

Each block gets a server of its own, in README order, one at a time: the harness starts
``picket serve --demo --listen 127.0.0.1:0 --data-dir $HOME/.local/share/picket`` (a free port, the
per-user data directory of a throwaway HOME), exports the ``PICKET_ENDPOINT`` and ``PICKET_TOKEN``
lines of its banner (what a reader pastes), runs the block with a 60 s timeout, then stops the
block's leftover processes (its process group) and the server (by pid). So every block starts from
the demo tenant as ``demo.rs`` seeds it, whatever the blocks before it deleted or changed.

The environment of a block: HOME, XDG_{DATA,CONFIG,CACHE,STATE}_HOME and TMPDIR in the block's
temporary directory (nothing touches your files); the working directory is empty; PATH starts with
the directory of ``--picket`` (so ``picket`` and ``picket-agent`` are the built ones), then a directory
where ``python`` and ``python3`` run the ``--python`` interpreter (as if the reader had installed the
SDKs with pip); no ``PICKET_*``, ``AZURE_*``, ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE`` from the
caller; ``NO_COLOR=1``; stdin is ``/dev/null`` (commands that ask need ``--yes``).

Then every example line of `picket --help` and of its subcommands (`Example: picket …`, and the
indented `picket …` lines of an Examples section) runs the same way, as a one-line block, except
the few listed in ``HELP_NOT_RUN`` with the reason (servers and live views that run until stopped,
PostgreSQL, Microsoft Entra ID, a pending device sign-in, a manual clock); ``--no-help-examples``
leaves them out.

Prints PASS/FAIL per block with its line in README.md (and the output tail of a failure; line numbers
in bash and Python error messages are README.md's), then
``README examples: N passed, M failed, K not run (text/toml/…)``. Exit 1 if a block failed, 2 if the
harness could not run (no binary, no SDK interpreter, no curl/jq/openssl).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
RUN = {"sh", "python"}
# Info strings that look like runnable code but would silently not run.
REFUSED = {"bash", "shell", "zsh", "py", "python3", "sh-session"}
TOOLS = ("bash", "curl", "jq", "openssl")
STARTUP_TIMEOUT = 30.0
TAIL_LINES = 40
# Caller variables a block must not inherit (it gets its own, or none).
SCRUB_PREFIXES = ("PICKET_", "AZURE_")
SCRUB = {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "XDG_RUNTIME_DIR", "PYTHONPATH",
         "VIRTUAL_ENV", "PYTHONHOME", "OLDPWD"}


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    info: str
    text: str

    @property
    def first_line(self) -> str:
        for line in self.text.splitlines():
            if line.strip():
                return line.strip()
        return "(empty)"


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def parse_blocks(markdown: str) -> list[Block]:
    """Fenced code blocks (``` or ~~~, also indented inside list items), in order."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            c = FENCE.match(lines[i])
            if c and c.group(2)[0] == fence[0] and len(c.group(2)) >= len(fence) and not c.group(3).strip():
                break
            line = lines[i]
            # Remove the fence's indentation (a block inside a list item).
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            i += 1
        else:
            raise SystemExit(f"README: the code block opened at line {start + 1} is never closed")
        blocks.append(Block(line=start + 1, info=info, text="\n".join(body) + "\n"))
        i += 1
    return blocks


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(SCRUB_PREFIXES) and k not in SCRUB}


class Server:
    """`picket serve --demo` on a free port in a throwaway HOME; stopped by its pid."""

    def __init__(self, picket: Path, env: dict[str, str], data_dir: Path, log: Path):
        self.log_path = log
        self.log = open(log, "w")
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [str(picket), "serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, env={**env, "PICKET_LOG": "warn"},
            text=True, bufsize=1)
        self.exports: dict[str, str] = {}
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line)
                m = re.match(r"^export (PICKET_ENDPOINT|PICKET_TOKEN)=(\S+)\s*$", line)
                if m:
                    self.exports[m.group(1)] = m.group(2)
                if line.startswith("Picket listening on http://"):
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(STARTUP_TIMEOUT) or self.proc.poll() is not None \
                or set(self.exports) != {"PICKET_ENDPOINT", "PICKET_TOKEN"}:
            self.stop()
            raise RuntimeError("picket serve --demo did not start (or printed no export lines):\n"
                               + "".join(self.lines) + tail(log.read_text(errors="replace")))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def tail(text: str, n: int = TAIL_LINES) -> str:
    lines = text.rstrip("\n").splitlines()
    cut = lines[-n:]
    head = f"    … ({len(lines) - n} lines above)\n" if len(lines) > n else ""
    return head + "".join(f"    | {line}\n" for line in cut)


def kill_group(leader: subprocess.Popen):
    """The block's own process group (its shell, background servers, agents): TERM, then KILL."""
    pgid = leader.pid
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            leader.poll()  # reap the shell, or the group never looks empty
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def run_block(block: Block, n: int, args, root: Path, python_dir: Path) -> tuple[bool, str, float]:
    base = root / f"block-{n:02d}-line-{block.line}"
    home, tmp, work = base / "home", base / "tmp", base / "work"
    for d in (home, tmp, work):
        d.mkdir(parents=True)
    env = clean_env()
    env.update({
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "TMPDIR": str(tmp),
        "NO_COLOR": "1",
        "PATH": os.pathsep.join([str(args.picket.parent), str(python_dir), os.environ.get("PATH", "")]),
    })
    server = Server(args.picket, env, home / ".local/share/picket", base / "server.log")
    out_path = base / "output.txt"
    started = time.monotonic()
    try:
        env.update(server.exports)
        # Padded so that a line number in an error message is the line in README.md.
        pad = "\n" * block.line
        if block.info == "sh":
            script = work.parent / "block.sh"
            script.write_text("set -euo pipefail" + pad + block.text)
            cmd = ["bash", str(script)]
        else:
            script = work.parent / "block.py"
            script.write_text(pad + block.text)
            cmd = [str(args.python), str(script)]
        with open(out_path, "w") as out:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                rc = proc.wait(timeout=args.timeout)
                note = "" if rc == 0 else f"exit status {rc}"
            except subprocess.TimeoutExpired:
                note = f"timed out after {args.timeout:g} s"
            finally:
                kill_group(proc)
                proc.wait(timeout=10)
                elapsed = time.monotonic() - started
    finally:
        server.stop()
    output = out_path.read_text(errors="replace")
    if note:
        detail = f"  {note}; output tail:\n{tail(output) or '    (no output)'}\n"
        server_log = (base / "server.log").read_text(errors="replace")
        if server_log.strip():
            detail += f"  server log tail:\n{tail(server_log, 10)}"
        return False, detail, elapsed
    return True, "", elapsed


# `--help` examples that cannot run against a local demo server, and why. Everything else an
# example line of `picket … --help` shows runs, as written, like a README block.
HELP_NOT_RUN = [
    (re.compile(r"^picket (serve|demo)\b"), "a server that runs until stopped (the harness runs serve --demo)"),
    (re.compile(r"^picket watch sensors(?!.*--once)"), "a live view that runs until Ctrl-C"),
    (re.compile(r"^picket(-agent| agent) (run|simulate)\b"), "a sensor that runs until stopped (README's fleet block runs it)"),
    (re.compile(r"postgres://|^picket migrate-data"), "needs a PostgreSQL server"),
    (re.compile(r"^picket completions .*> /etc/"), "writes a system file"),
    (re.compile(r"^picket device-codes\b"), "needs a pending device sign-in (README's device-code block runs one)"),
    (re.compile(r"--discover"), "reaches Microsoft Entra ID"),
    (re.compile(r"^picket clock advance\b"), "needs a server started with --clock manual (README runs one)"),
    (re.compile(r"^picket seed fixture\.json"), "needs a fixture file (README's Fixtures section shows one)"),
    (re.compile(r"^picket faults remove\b"), "needs a rule's id (README's testing section removes one)"),
    (re.compile(r"^picket snapshot (restore|delete)\b"), "needs a saved snapshot (README's snapshot block saves, restores and deletes one)"),
    (re.compile(r"^picket requests show\b"), "needs a journaled request (README's testing section shows one)"),
]
HELP_EXAMPLE = re.compile(r"Example: ((picket|picket-agent) .*)$")
HELP_INDENTED = re.compile(r"^ {2,}((picket|picket-agent) [a-z].*)$")
SUBCOMMAND = re.compile(r"^  ([a-z][a-z0-9-]*)\s")


def help_examples(binary: Path) -> list[str]:
    """Every example line of `picket --help` and its subcommands' (two levels), unwrapped."""
    env = dict(os.environ, COLUMNS="1000", NO_COLOR="1")
    found: list[str] = []

    def walk(path: list[str]):
        text = subprocess.run([str(binary), *path, "--help"], capture_output=True, text=True,
                              env=env, timeout=30).stdout
        in_commands = False
        subs = []
        for line in text.splitlines():
            m = HELP_EXAMPLE.search(line.strip()) or HELP_INDENTED.match(line)
            if m and m.group(1) not in found:
                found.append(m.group(1).strip())
            if line.startswith("Commands:"):
                in_commands = True
                continue
            if in_commands:
                c = SUBCOMMAND.match(line + " ")
                if not line.startswith("  "):
                    in_commands = False
                elif c and c.group(1) != "help":
                    subs.append(c.group(1))
        if len(path) < 2:
            for sub in subs:
                walk([*path, sub])

    walk([])
    return found


def run_and_report(block: Block, n: int, label: str, args, root: Path, python_dir: Path) -> bool:
    """Runs one block and prints PASS or FAIL with its label (and the output tail of a failure)."""
    try:
        ok, detail, elapsed = run_block(block, n, args, root, python_dir)
    except RuntimeError as e:
        ok, detail, elapsed = False, f"  {e}\n", 0.0
    if ok:
        print(f"PASS {label}  ({elapsed:.1f} s)", flush=True)
    else:
        print(f"FAIL {label}  ({elapsed:.1f} s)\n{detail}", end="", flush=True)
    return ok


def python_wrappers(root: Path, python: Path) -> Path:
    """`python` and `python3` on a block's PATH run the SDK interpreter (a venv needs its own path)."""
    d = root / "python-bin"
    d.mkdir()
    for name in ("python", "python3"):
        f = d / name
        f.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
        f.chmod(0o755)
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description="Run README.md's sh and python blocks against picket serve --demo.")
    ap.add_argument("--picket", type=Path, default=REPO / "target/debug/picket",
                    help="the picket binary (picket-agent must be beside it); default target/debug/picket")
    ap.add_argument("--python", type=Path, default=REPO / "tests/sdk/.venv/bin/python",
                    help="interpreter with msgraph-beta-sdk and azure-identity; default tests/sdk/.venv/bin/python")
    ap.add_argument("--readme", type=Path, default=REPO / "README.md")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per block (default 60)")
    ap.add_argument("--line", type=int, action="append", default=[],
                    help="run only the block whose fence is on this README line; repeatable")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories (printed)")
    ap.add_argument("--no-help-examples", action="store_true",
                    help="skip the example lines of `picket … --help`")
    args = ap.parse_args()

    def setup_error(msg: str) -> int:
        print(f"run_examples: {msg}", file=sys.stderr)
        return 2

    args.picket = (args.picket if args.picket.is_absolute() else Path.cwd() / args.picket).absolute()
    args.python = (args.python if args.python.is_absolute() else Path.cwd() / args.python).absolute()
    if not os.access(args.picket, os.X_OK):
        return setup_error(f"no picket binary at {args.picket}: run "
                           "`cargo build -p picket-cli -p picket-agent` or pass --picket")
    if not os.access(args.picket.parent / "picket-agent", os.X_OK):
        return setup_error(f"no picket-agent beside {args.picket}: run `cargo build -p picket-agent`")
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        return setup_error(f"the README examples need {', '.join(missing)} on PATH")

    blocks = parse_blocks(args.readme.read_text())
    if args.line:
        unknown = set(args.line) - {b.line for b in blocks}
        if unknown:
            return setup_error(f"no code block opens on README line(s) {sorted(unknown)}")
    chosen = [b for b in blocks if not args.line or b.line in args.line]
    # python blocks, and `python3` in sh blocks, need the SDK interpreter.
    if any(b.info in RUN for b in chosen):
        if not os.access(args.python, os.X_OK):
            return setup_error(f"no Python interpreter at {args.python}: run `bash tests/sdk/run.sh` first "
                               "(it creates tests/sdk/.venv with the SDKs), or pass --python")
        check = subprocess.run([str(args.python), "-c", "import msgraph_beta, azure.identity"],
                               capture_output=True, text=True)
        if check.returncode != 0:
            return setup_error(f"{args.python} cannot import msgraph_beta and azure.identity: run "
                               "`bash tests/sdk/run.sh` first, or pass --python\n" + check.stderr.strip())

    root = Path(tempfile.mkdtemp(prefix="picket-readme-"))
    python_dir = python_wrappers(root, args.python)
    name = args.readme.name
    passed, failed, skipped = 0, 0, []
    try:
        for n, block in enumerate(chosen, 1):
            where = f"{name}:{block.line}"
            if block.info in REFUSED or (block.info.split(" ")[0] in RUN and block.info not in RUN):
                failed += 1
                print(f"FAIL {where} [{block.info}] {block.first_line}\n"
                      f"  info string '{block.info}': write exactly `sh` or `python` to run the block, "
                      "or `text`/`console` to show it without running it")
                continue
            if block.info not in RUN:
                skipped.append(block)
                continue
            if run_and_report(block, n, f"{where} [{block.info}] {block.first_line}", args, root, python_dir):
                passed += 1
            else:
                failed += 1
        help_passed, help_failed, help_skipped = 0, 0, []
        if not args.no_help_examples and not args.line:
            for k, example in enumerate(help_examples(args.picket), 1):
                reason = next((why for rx, why in HELP_NOT_RUN if rx.search(example)), None)
                if reason:
                    help_skipped.append((example, reason))
                    continue
                block = Block(line=1, info="sh", text=example + "\n")
                if run_and_report(block, 1000 + k, f"--help: {example}", args, root, python_dir):
                    help_passed += 1
                else:
                    help_failed += 1
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    for example, reason in help_skipped:
        print(f"not run --help: {example}  ({reason})")
    if not args.no_help_examples and not args.line:
        print(f"--help examples: {help_passed} passed, {help_failed} failed, {len(help_skipped)} not run")
        failed += help_failed
    for block in skipped:
        print(f"not run {name}:{block.line} [{block.info or 'no info string'}] {block.first_line}")
    kinds = "/".join(dict.fromkeys(b.info or "none" for b in skipped))
    print(f"README examples: {passed} passed, {failed} failed, {len(skipped)} not run"
          + (f" ({kinds})" if kinds else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
