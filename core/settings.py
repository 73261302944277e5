"""Where GridRoom keeps its files, and which database it opens."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs
from sqlalchemy.engine import make_url

from core.errors import GridRoomError
from core.secrets import SecretStore

APP = "gridroom"


def data_dir() -> Path:
    """The per-user data folder (GRIDROOM_DATA_DIR overrides it, for tests and portable installs)."""
    override = os.environ.get("GRIDROOM_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    override = os.environ.get("GRIDROOM_DATA_DIR")
    return Path(override) / "config" if override else Path(platformdirs.user_config_dir(APP, appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'gridroom.sqlite3'}"


@dataclass
class Settings:
    """Settings saved as JSON in the config folder. Never holds a secret."""

    database_url: str = ""  # empty: the SQLite file in the data folder
    extra: dict = field(default_factory=dict)

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        path = cls.path()
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GridRoomError(f"settings file {path} is unreadable: {exc}; fix or delete it") from exc
        return cls(database_url=raw.get("database_url", ""), extra=raw.get("extra", {}))

    def save(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)


def database_password_key(url: str) -> str:
    u = make_url(url)
    return f"db:{u.username}@{u.host}:{u.port or 5432}/{u.database}"


def set_database_url(url: str, secrets: SecretStore) -> Settings:
    """Store a database URL: the password goes to the keyring, the rest to the settings file."""
    parsed = make_url(url)
    if parsed.password:
        secrets.set(database_password_key(url), parsed.password)
        parsed = parsed._replace(password=None)  # URL.set(password=None) keeps the old one
    settings = Settings.load()
    settings.database_url = parsed.render_as_string(hide_password=False)
    settings.save()
    return settings


def resolve_database_url(explicit: str | None = None, secrets: SecretStore | None = None) -> str:
    """The database to open: an explicit URL, then GRIDROOM_DATABASE_URL, then settings, then the default.

    A stored URL without a password gets it from the keyring when one is stored there.
    """
    url = explicit or os.environ.get("GRIDROOM_DATABASE_URL") or Settings.load().database_url or default_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" and parsed.password is None and secrets is not None:
        ok, _ = secrets.available()
        if ok:
            password = secrets.get(database_password_key(url))
            if password:
                url = parsed.set(password=password).render_as_string(hide_password=False)
    return url


MARKET_IMPORT_KEY = "market_import"


@dataclass(frozen=True)
class MarketImportSource:
    """Where the runtime fetches market data on its own: a watched folder and/or an http(s) URL.

    Kept in the settings file's `extra` section (under "market_import"), beside the database URL, so the
    desktop app and `gridroom serve` on this machine read the same source. Empty strings: not configured.
    """

    folder: str = ""
    url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> "MarketImportSource":
        raw = settings.extra.get(MARKET_IMPORT_KEY) or {}
        if not isinstance(raw, dict):
            raise GridRoomError(f"settings file {Settings.path()}: extra.{MARKET_IMPORT_KEY} must be an object")
        return cls(folder=str(raw.get("folder") or ""), url=str(raw.get("url") or ""))

    @classmethod
    def load(cls) -> "MarketImportSource":
        return cls.from_settings(Settings.load())

    def save(self) -> None:
        settings = Settings.load()
        settings.extra = {**settings.extra, MARKET_IMPORT_KEY: {"folder": self.folder, "url": self.url}}
        settings.save()


ANALYTICS_KEY = "analytics"


def analytics_price_series(settings: Settings | None = None) -> str | None:
    """The stored price series analytics uses when several bidding zones are stored, from the settings file's
    `extra.analytics.price_series` (e.g. "price:BE"); None when not set."""
    raw = (settings or Settings.load()).extra.get(ANALYTICS_KEY) or {}
    if not isinstance(raw, dict):
        raise GridRoomError(f"settings file {Settings.path()}: extra.{ANALYTICS_KEY} must be an object")
    return str(raw["price_series"]) if raw.get("price_series") else None
