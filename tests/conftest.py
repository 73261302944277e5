"""Suite-wide set-up: offscreen Qt, an in-memory keyring, a private data folder, fresh databases."""

from __future__ import annotations

import os
import tempfile

# Before anything imports Qt or reads the data folder.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["GRIDROOM_DATA_DIR"] = tempfile.mkdtemp(prefix="gridroom-test-data-")
os.environ.pop("GRIDROOM_DATABASE_URL", None)

import keyring  # noqa: E402
import pytest  # noqa: E402

from core.clock import ManualClock  # noqa: E402
from tests.support.databases import postgres_database, sqlite_url  # noqa: E402
from tests.support.keyring_memory import MemoryKeyring  # noqa: E402

keyring.set_keyring(MemoryKeyring())


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty database URL, once on SQLite and once on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def sqlite_database_url(tmp_path) -> str:
    return sqlite_url(tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def services(database_url, clock):
    from core.services import CoreServices
    from core.storage.database import Database

    core = CoreServices.build(Database.open(database_url), clock=clock)
    yield core
    core.close()


@pytest.fixture
def sqlite_services(sqlite_database_url, clock):
    from core.services import CoreServices
    from core.storage.database import Database

    core = CoreServices.build(Database.open(sqlite_database_url), clock=clock)
    yield core
    core.close()
