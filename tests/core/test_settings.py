"""The settings with nothing set are safe in front of patrons: DEBUG off, and a
secret key of the machine's own, made on the first run and kept under VAR_DIR."""

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

from core.secret_key import secret_key_from_file

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_VARIABLES = {
    "SECRET_KEY", "DEBUG", "EMAIL_URL", "SECURE_COOKIES", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "DATABASE_URL", "REDIS_URL", "VAR_DIR", "ALLOWED_HOSTS",
}  # fmt: skip


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without any of the settings' variables, plus ``env``."""
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    environment.update(env)
    return environment


def start_settings(code: str = "", **env: str) -> subprocess.Popen[str]:
    script = f"from reference_chat import settings as s\n{code}"
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean_environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_settings(code: str = "", **env: str) -> str:
    """What ``code`` prints once the settings are imported with only ``env`` set."""
    out, err = start_settings(code, **env).communicate(timeout=60)
    assert "Traceback" not in err, err
    return out.strip()


def test_with_nothing_set_debug_is_off(tmp_path: Path) -> None:
    assert run_settings("print(s.DEBUG)", VAR_DIR=str(tmp_path)) == "False"


def test_debug_is_on_only_when_asked_for(tmp_path: Path) -> None:
    assert run_settings("print(s.DEBUG)", VAR_DIR=str(tmp_path), DEBUG="true") == "True"


def test_without_a_secret_key_the_first_run_makes_one_and_later_runs_keep_it(
    tmp_path: Path,
) -> None:
    first = run_settings("print(s.SECRET_KEY)", VAR_DIR=str(tmp_path))
    again = run_settings("print(s.SECRET_KEY)", VAR_DIR=str(tmp_path))
    assert first == again
    assert len(first) >= 50
    kept = tmp_path / "secret_key"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, "readable by its owner only"
    other_machine = tmp_path / "elsewhere"
    assert run_settings("print(s.SECRET_KEY)", VAR_DIR=str(other_machine)) != first


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    starting = [start_settings("print(s.SECRET_KEY)", VAR_DIR=str(tmp_path)) for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in starting}
    assert len(keys) == 1
    assert keys == {(tmp_path / "secret_key").read_text().strip()}
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"], "no candidate left behind"


def test_threads_racing_for_the_first_key_all_read_the_winner(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    start = threading.Barrier(8)
    keys: list[str] = []

    def read() -> None:
        start.wait(timeout=5)
        keys.append(secret_key_from_file(path))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(keys) == 8
    assert len(set(keys)) == 1


def test_a_secret_key_from_the_environment_is_used_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    key = run_settings("print(s.SECRET_KEY)", VAR_DIR=str(tmp_path), SECRET_KEY="from-the-env")
    assert key == "from-the-env"
    assert not (tmp_path / "secret_key").exists()
