"""Secrets go to the keyring; without a secure keyring GridRoom says so and stores nothing."""

from __future__ import annotations

import json

import pytest
from keyring.backends.fail import Keyring as FailKeyring

from core.errors import KeyringUnavailable
from core.secrets import SecretStore
from core.settings import Settings, resolve_database_url, set_database_url


def test_secret_round_trip(memory_keyring):
    store = SecretStore()
    store.set("smtp", "hunter2-long")
    assert store.get("smtp") == "hunter2-long"
    store.delete("smtp")
    assert store.get("smtp") is None


def test_missing_keyring_is_said_plainly():
    store = SecretStore(backend=FailKeyring())
    ok, message = store.available()
    assert not ok and "No secure keyring" in message
    with pytest.raises(KeyringUnavailable, match="Secrets were not saved"):
        store.set("db", "x")
    with pytest.raises(KeyringUnavailable):
        store.get("db")


def test_database_password_goes_to_the_keyring_not_the_file(memory_keyring, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path))
    store = SecretStore()
    set_database_url("postgresql://ops:Sup3r-Secret@db.example:5432/gridroom", store)
    text = Settings.path().read_text()
    assert "Sup3r-Secret" not in text
    assert json.loads(text)["database_url"] == "postgresql://ops@db.example:5432/gridroom"
    assert resolve_database_url(None, store) == "postgresql://ops:Sup3r-Secret@db.example:5432/gridroom"


def test_without_keyring_a_password_url_is_refused_and_settings_untouched(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path))
    with pytest.raises(KeyringUnavailable):
        set_database_url("postgresql://ops:pw@db/gridroom", SecretStore(backend=FailKeyring()))
    assert not Settings.path().exists()


def test_unreadable_settings_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path))
    Settings.path().parent.mkdir(parents=True)
    Settings.path().write_text("{not json")
    from core.errors import GridRoomError

    with pytest.raises(GridRoomError, match="settings.json is unreadable"):
        Settings.load()
