"""docker-compose.yml and the Dockerfile, checked where no Docker engine runs: the file is
valid against the Compose specification, the services are wired as production needs, and
every command they run refers to something the project really has."""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from django.conf import settings
from django.core.management import get_commands

from logicnet.stack import new_master_key
from tests.shared_fixtures import shared_fixture

ROOT = Path(settings.BASE_DIR)
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
VENV_BIN = Path(sys.executable).parent

APP_SERVICES = ("web", "admin", "worker", "beat")
SHELL_KEYWORDS = {"until", "while", "do", "done", "exec", "if", "then", "fi", "!"}
SHELL_UTILITIES = {"echo", "sleep", "true"}  # present in every image; nothing to check


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def expand_defaults(text: str) -> str:
    """`${NAME:-default}` as the shell would expand it with NAME unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def commands_of(service: dict) -> list[list[str]]:
    """The programs a service's command runs, each as an argv list.

    A `sh -c` script is split at `&&`, `||`, `;` and newlines, and its shell keywords and
    redirections are dropped: `until python manage.py migrate --check; do ...` gives
    ["python", "manage.py", "migrate", "--check"]."""
    command = service["command"]
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    script = argv[2].replace("$$", "$")  # compose's escape for a literal `$`
    commands = []
    for part in re.split(r"&&|\|\||;|\n", script):
        words = [w for w in shlex.split(part) if not re.match(r"^\d?>", w)]
        while words and words[0] in SHELL_KEYWORDS:
            words = words[1:]
        if words:
            commands.append(words)
    return commands


def option_value(argv: list[str], *names: str) -> str:
    for index, word in enumerate(argv):
        if word in names:
            return argv[index + 1]
        for name in names:
            if name.startswith("--") and word.startswith(f"{name}="):
                return word.split("=", 1)[1]
    raise AssertionError(f"{' '.join(argv)} has no {'/'.join(names)}")


def celery_subcommand(argv: list[str]) -> str:
    app_index = next(i for i, word in enumerate(argv) if word in {"-A", "--app"})
    return next(word for word in argv[app_index + 2 :] if not word.startswith("-"))


def all_commands() -> list[tuple[str, list[str]]]:
    compose = load_compose()
    return [(name, argv) for name in APP_SERVICES for argv in commands_of(compose["services"][name])]


# --- the specification ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_schema() -> dict:
    return json.loads(shared_fixture("compose/compose-spec.json").read_text())


def schema_errors(schema: dict, document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_follows_the_specification(compose_schema):
    assert schema_errors(compose_schema, load_compose()) == []


def test_the_schema_check_catches_mistakes(compose_schema):
    # The control for the test above: typical slips are reported, so the pass means something.
    compose = load_compose()
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["depends_on"]["postgres"]["condition"] = "service_ready"
    assert schema_errors(compose_schema, broken)
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["healthcheck"] = {"test": ["CMD", "true"], "interval": 5}
    assert schema_errors(compose_schema, broken)
    broken = copy.deepcopy(compose)
    broken["services"]["beat"]["enviroment"] = {"DEBUG": "0"}
    assert schema_errors(compose_schema, broken)


# --- what production needs --------------------------------------------------------------------


def test_services_and_images():
    services = load_compose()["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    assert services["postgres"]["image"] == "postgres:17"
    assert services["redis"]["image"] == "redis:7"
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name
        assert services[name]["environment"]["DEBUG"] == "0", name
        assert ".env" in services[name]["env_file"], name


def test_application_services_wait_for_healthy_dependencies():
    services = load_compose()["services"]
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert set(depends_on) >= {"postgres", "redis"}, name
        for dependency, condition in depends_on.items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert services[dependency]["healthcheck"]["test"], dependency


def test_healthchecks():
    services = load_compose()["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])  # run for real in test_health.py


def test_redis_keeps_what_it_is_given():
    command = load_compose()["services"]["redis"]["command"]
    assert command[0] == "redis-server"
    assert option_value(command, "--maxmemory-policy") == "noeviction"  # never drop a queued task
    assert option_value(command, "--appendonly") == "yes"


def test_state_lives_in_named_volumes():
    compose = load_compose()
    declared = set(compose["volumes"])

    def mounts(service: str) -> dict[str, str]:
        pairs = [volume.split(":")[:2] for volume in compose["services"][service]["volumes"]]
        assert all(source in declared for source, _ in pairs), pairs
        return {target: source for source, target in pairs}

    assert "/var/lib/postgresql/data" in mounts("postgres")
    assert "/data" in mounts("redis")
    beat = next(argv for argv in commands_of(compose["services"]["beat"]) if argv[0] == "celery")
    schedule = option_value(beat, "--schedule", "-s")
    assert any(Path(schedule).is_relative_to(target) for target in mounts("beat")), schedule
    assert compose["services"]["beat"]["environment"]["LOGICNET_DATA_DIR"] in mounts("beat")
    for name in ("web", "worker"):  # exports written by the worker are served by web
        assert mounts(name).get("/data") == mounts("web")["/data"]


def test_web_migrates_before_serving_and_worker_waits_for_it():
    services = load_compose()["services"]
    web = [argv[:3] for argv in commands_of(services["web"])]
    assert web[0] == ["python", "manage.py", "migrate"]
    assert web[1][0] == "gunicorn"
    assert "--workers" in commands_of(services["web"])[1]
    worker = commands_of(services["worker"])
    assert worker[0][:4] == ["python", "manage.py", "migrate", "--check"]
    assert worker[-1][:4] == ["celery", "-A", "logicnet", "worker"]


def test_only_the_admin_service_connects_as_the_platform_role():
    """The platform role sees every organization: the customer-facing web process runs
    without its alias, and the admin has a process and port of its own."""
    services = load_compose()["services"]
    assert services["admin"]["environment"]["LOGICNET_PROCESS"] == "admin"
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"].get("LOGICNET_PROCESS", "web") != "admin", name
    assert services["admin"]["ports"] == ["127.0.0.1:8001:8000"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    admin = commands_of(services["admin"])
    assert admin[0][:4] == ["python", "manage.py", "migrate", "--check"]  # waits for web's migrate
    assert admin[-1][0] == "gunicorn"


def test_settings_give_the_platform_alias_to_every_process_but_the_web():
    probe = "from django.conf import settings; print(settings.PLATFORM_DATABASE, sorted(settings.DATABASES))"
    for process, expected in [
        ("web", "None ['default']"),
        ("worker", "platform ['default', 'platform']"),
        ("beat", "platform ['default', 'platform']"),
        ("admin", "platform ['default', 'platform']"),
        ("command", "platform ['default', 'platform']"),
    ]:
        env = {**os.environ, "LOGICNET_PROCESS": process, "DJANGO_SETTINGS_MODULE": "logicnet.settings"}
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {probe}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.stdout.strip() == expected, (process, result.stderr[-2000:])


# --- every command refers to something that exists ---------------------------------------------


@pytest.mark.parametrize(("service", "argv"), all_commands(), ids=lambda v: v if isinstance(v, str) else v[0])
def test_command_refers_to_what_the_project_has(service, argv):
    program = argv[0]
    if program in SHELL_UTILITIES:
        return
    if program == "python":
        assert argv[1] == "manage.py", argv
        assert (ROOT / "manage.py").is_file()
        assert argv[2] in get_commands(), f"{service}: no management command {argv[2]!r}"
    elif program == "gunicorn":
        module_name, _, attribute = argv[1].partition(":")
        application = getattr(importlib.import_module(module_name), attribute or "application")
        assert callable(application), argv[1]
    elif program == "celery":
        app = find_app(option_value(argv, "-A", "--app"))
        assert isinstance(app, Celery)
        assert app.main == "logicnet"
        assert celery_subcommand(argv) in celery_cli.commands, argv
    else:
        pytest.fail(f"{service} runs {program!r}, which this test does not know how to check")


def test_gunicorn_accepts_the_web_command():
    # --check-config parses every option and loads the WSGI application, then exits.
    gunicorn = next(argv for argv in commands_of(load_compose()["services"]["web"]) if argv[0] == "gunicorn")
    argv = [str(VENV_BIN / "gunicorn"), *(expand_defaults(word) for word in gunicorn[1:]), "--check-config"]
    result = subprocess.run(argv, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_accepts_the_command(service):
    # Celery loads the app (-A) before parsing the subcommand, and rejects an unknown
    # option before it honours --help.
    celery = next(argv for argv in commands_of(load_compose()["services"][service]) if argv[0] == "celery")
    argv = [str(VENV_BIN / "celery"), *celery[1:], "--help"]
    result = subprocess.run(argv, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"celery {celery_subcommand(celery)}" in result.stdout


# --- the Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_dockerfile_builds_from_the_project():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [argument for instruction, argument in instructions if instruction == "RUN"]
    assert any("pip install -r requirements.txt" in run for run in runs)
    for instruction, argument in instructions:
        if instruction == "COPY":
            *sources, _destination = shlex.split(argument)
            for source in sources:
                assert source == "." or (ROOT / source).exists(), f"COPY {source}: not in the project"
    assert ("USER", "logicnet") in instructions  # not root at run time


def test_dockerfile_collects_static_files_with_settings_that_import(tmp_path):
    collectstatic = next(
        run for instruction, run in dockerfile_instructions() if instruction == "RUN" and "collectstatic" in run
    )
    words = shlex.split(collectstatic)
    assignments = dict(word.split("=", 1) for word in words[: words.index("python")])
    assert words[words.index("python") + 1 : words.index("python") + 3] == ["manage.py", "collectstatic"]
    assert "collectstatic" in get_commands()
    # The build-time placeholders satisfy the settings (DEBUG off) without any service.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **assignments}
    env["LOGICNET_DATA_DIR"] = str(tmp_path)
    probe = "import django; django.setup(); from django.conf import settings; print(settings.STATIC_ROOT)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "logicnet.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / "staticfiles")


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".data", ".git"} <= ignored


# --- the .env the services read --------------------------------------------------------------------


def env_example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match[1]] = match[2].strip().strip('"')
    return values


def test_env_example_sets_what_the_services_need():
    values = env_example_values()
    needed = {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "DATABASE_URL",
        "DATABASE_APP_PASSWORD",
        "DATABASE_PLATFORM_PASSWORD",
        "REDIS_URL",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "DEFAULT_FROM_EMAIL",
        "ENCRYPTION_MASTER_KEYS",
    }
    assert needed - set(values) == set()
    # Everything compose itself substitutes is there too.
    substituted = set(re.findall(r"(?<!\$)\$\{(\w+)", COMPOSE_FILE.read_text()))
    assert substituted - set(values) == set()
    # The example points at the compose services and the owner role compose creates.
    assert values["REDIS_URL"].startswith("redis://redis:6379/")
    assert values["DATABASE_URL"].startswith("postgresql://logicnet:")
    assert "@postgres:5432/logicnet" in values["DATABASE_URL"]


def test_env_example_with_its_secrets_filled_in_passes_the_deploy_check(tmp_path):
    fillers = {"ENCRYPTION_MASTER_KEYS": lambda: new_master_key("k1")}
    env = {
        name: fillers.get(name, lambda: secrets.token_urlsafe(50))() if value == "CHANGE_ME" else value
        for name, value in env_example_values().items()
    }
    env.update(load_compose()["services"]["web"]["environment"])
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=str(tmp_path), LOGICNET_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
