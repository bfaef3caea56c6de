"""Settings refuse a production start with the development secret key."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "EMAIL_URL"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import reference_chat.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_with_debug_off_a_missing_secret_key_stops_the_start():
    result = import_settings(DEBUG="false")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_with_debug_off_and_a_secret_key_the_settings_load():
    result = import_settings(DEBUG="false", SECRET_KEY="a-real-secret-from-the-environment")
    assert result.returncode == 0, result.stderr


def test_with_debug_on_the_development_key_is_allowed():
    result = import_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
