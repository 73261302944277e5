"""Setting where the runtime imports market data from on its own (watched folder, URL): checked and audited.

The source is a system setting that decides what lands in the price history the optimizer plans on, so it
needs MANAGE_MARKET_DATA (traders, admins) and every change is in the audit trail. The value lives in the
settings file (core.settings.MarketImportSource); the runtime picks it up when it starts.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from core.audit.trail import AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.errors import GridRoomError
from core.settings import MarketImportSource
from core.storage.database import Database

_UNSET = object()


class InvalidImportSource(GridRoomError, ValueError):
    """The folder or URL cannot be used; the message names which and why."""


def check_folder(folder: str) -> str:
    """An existing directory, stored as an absolute path ("" clears the setting)."""
    if not folder:
        return ""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise InvalidImportSource(f"import folder {folder!r} is not an existing directory")
    return str(path.resolve())


def check_url(url: str) -> str:
    """An http(s) URL with a host ("" clears the setting). No file:// or ftp://: those would bypass the
    picked-folder rule or need credentials GridRoom does not keep."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidImportSource(f"import URL {url!r} must be http:// or https:// with a host name")
    if parts.password:
        raise InvalidImportSource(f"import URL {parts._replace(netloc=parts.hostname).geturl()!r} carries a "
                                  "password; the settings file never holds a secret")
    return url.strip()


class ImportSourceSettings:
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer

    def current(self) -> MarketImportSource:
        return MarketImportSource.load()

    def change(self, actor: Principal, *, folder=_UNSET, url=_UNSET) -> MarketImportSource:
        """Set the watched folder and/or the URL (an argument left out keeps its value; "" clears it)."""
        self.authorizer.require(actor, Permission.MANAGE_MARKET_DATA, "settings:market_import")
        old = MarketImportSource.load()
        new = MarketImportSource(folder=old.folder if folder is _UNSET else check_folder(folder),
                                 url=old.url if url is _UNSET else check_url(url))
        new.save()
        with self.db.session() as s:
            self.audit.append(s, actor, "settings.market_import", "settings:market_import", detail={
                "folder": [old.folder, new.folder], "url": [old.url, new.url]})
        return new
