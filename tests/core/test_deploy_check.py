"""`manage.py check --deploy` is clean with the production settings README documents."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- production settings: tests/core/test_deploy_check.py reads this block -->"


def readme_production_settings() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)\n```", readme, re.S)
    assert block, "README.md has the production settings block"
    settings = {}
    for line in block.group(1).splitlines():
        name, value = line.split("=", 1)
        settings[name] = value.split("   #")[0].strip().strip('"')
    return settings


def check_deploy(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DEBUG"))}
    clean.update({"VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    production = readme_production_settings()
    assert production["SECRET_KEY"] == "...", "README shows where the key goes, not a key"
    production["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = check_deploy(production, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_names_each_production_setting_left_out(tmp_path: Path) -> None:
    production = readme_production_settings()
    production["SECRET_KEY"] = secrets.token_urlsafe(50)
    for name, warning in {
        "SECURE_HSTS_SECONDS": "security.W004",
        "SECURE_SSL_REDIRECT": "security.W008",
        "SECURE_COOKIES": "security.W012",
        "SECRET_KEY": "reference_chat.W002",
    }.items():
        without = {k: v for k, v in production.items() if k != name}
        result = check_deploy(without, tmp_path)
        assert result.returncode != 0, name
        assert warning in result.stdout + result.stderr, (name, result.stdout + result.stderr)
