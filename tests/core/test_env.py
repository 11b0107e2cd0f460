from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from amends.env import ConfigurationError, env_bool, env_int, env_list, env_secret
from tests.conftest import ROOT, amends_env


def test_env_bool_fails_on_typos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "flase")
    with pytest.raises(ConfigurationError, match="DEBUG='flase'"):
        env_bool("DEBUG")
    monkeypatch.setenv("DEBUG", "Yes")
    assert env_bool("DEBUG") is True
    monkeypatch.delenv("DEBUG")
    assert env_bool("DEBUG", default=False) is False


def test_env_int(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("N", "12x")
    with pytest.raises(ConfigurationError, match="not an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-1")
    with pytest.raises(ConfigurationError, match="below the minimum"):
        env_int("N", 1, minimum=0)


def test_env_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example , b.example,, ")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    assert env_secret("SECRET_KEY") == "s3cret"
    monkeypatch.setenv("SECRET_KEY", "other")
    with pytest.raises(ConfigurationError, match="not both"):
        env_secret("SECRET_KEY")
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        env_secret("SECRET_KEY")


def _amends(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amends", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=amends_env(AMENDS_DATA_DIR=str(tmp_path), **env),
        timeout=120,
    )


def test_bad_variable_stops_the_cli_with_its_name(tmp_path: Path) -> None:
    result = _amends(tmp_path, "check", DATABASE_URL="mysql://db/amends")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    result = _amends(tmp_path, "check", DEBUG="maybe")
    assert result.returncode == 2 and "DEBUG='maybe'" in result.stderr


def test_fresh_data_dir_gets_a_kept_secret_key_and_sqlite(tmp_path: Path) -> None:
    assert _amends(tmp_path, "check").returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) > 40 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert _amends(tmp_path, "check").returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_production_checks_flag_dangerous_settings(tmp_path: Path) -> None:
    result = _amends(tmp_path, "check", DEBUG="true", ALLOWED_HOSTS="status.example.net")
    assert result.returncode != 0 and "amends.E001" in result.stderr
    result = _amends(tmp_path, "check", ALLOWED_HOSTS="status.example.net")
    assert "amends.W002" in result.stderr and "amends.W003" in result.stderr
