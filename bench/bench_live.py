"""Benchmark: the live path of `tagwatch serve` (issue 14), side by side with the HTTP stack's ceiling.

One run, on loopback, server and load generator sharing the machine's cores:

- setup: a fresh store with 10,772 enrolled tags (a subject, a GPS tag, an assignment and a
  licence with a curfew and an exclusion zone each, starting now), a gateway and a monitoring
  user with tokens, and ``no_comms_s`` set small (``--no-comms-s``, default 120 s) so that a
  silence can be measured in the run;
- peer (a): a bare Starlette app on uvicorn (same options, one worker) that answers ``OK`` to
  ``/osmand`` and ``{"accepted": N}`` to ``POST /api/fixes`` without doing anything;
- peer (b): file ingest of a CSV of the same kind of fixes (``services.ingest.ingest_files``
  in-process, what ``tagwatch ingest`` runs before it evaluates), and the evaluation of a sample
  of touched subjects, which is what today's live path does for every fix;
- against ``tagwatch serve --db sqlite:///...`` (a subprocess):
  1. OsmAnd ``GET /osmand``: sustained messages/s and ack latency (wrk + bench/live/osmand.lua),
     then a paced run at 1,800 messages/s (10x national) with the asyncio client
     (bench/live/loadgen.py), latency from each request's intended send time;
  2. ``POST /api/fixes``: batches of 1,000 fixes across 1,000 tags, fixes/s;
  3. alert latency: an ``exclusion_breach`` confirmed by one OsmAnd report, from the write of
     that report to the alert reaching a monitoring client (``GET /api/events``, or polling
     ``GET /api/alerts`` every 1 s where there is no event stream), under background load of
     180 and then 1,800 messages/s;
  4. silence: tags that stop reporting; time from the last report to their ``no_comms`` alert,
     against the goal ``no_comms_s`` + one monitor tick, with a time-out;
  5. the server's memory (VmRSS, VmHWM from /proc) after the load.

Each phase is capped by time and reports what it achieved. The benchmark is not a test.

    python bench/bench_live.py                 # full: 10,772 tags, about 10 minutes
    python bench/bench_live.py --quick         # smoke run: 1,000 tags, about 2 minutes
    python bench/bench_live.py --out before.json --server-args '--tick-s 5'
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import secrets
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent / "live"))
from loadgen import (AlertWatch, Pool, RunResult, closed_loop, cpu_s, get_request, mem_kib,  # noqa: E402
                     paced, post_json_request)

from tagwatch.codec import condition_from_dict, conditions_to_json  # noqa: E402
from tagwatch.geo import to_wgs84  # noqa: E402
from tagwatch.services import evaluation, ingest, users  # noqa: E402
from tagwatch.services.devicekeys import digest  # noqa: E402
from tagwatch.sim.geography import BOROUGHS, borough_centre  # noqa: E402
from tagwatch.store import open_store  # noqa: E402
from tagwatch.store import schema as s  # noqa: E402

HERE = Path(__file__).resolve().parent
LUA = HERE / "live" / "osmand.lua"
BENCH_KEY = "bench-" + secrets.token_urlsafe(12)
BARE = HERE / "live" / "bare_app.py"
HOST = "127.0.0.1"
PASSWORD = "bench-password-not-secret"
CURFEW = "daily 19:00-07:00"


@dataclass
class Plan:
    """Sizes and time caps of one run (``--quick`` shrinks them)."""
    tags: int = 10_772
    wrk_s: int = 20
    wrk_conns: int = 16
    bare_wrk_s: int = 10
    fixed_rate: float = 1800.0
    fixed_s: float = 20.0
    fixed_conns: int = 64
    drain_s: float = 10.0
    batch_size: int = 1000
    batch_s: float = 30.0
    bare_batch_s: float = 10.0
    batch_conc: int = 1
    batch_timeout_s: float = 120.0
    bg_rates: tuple[float, ...] = (180.0, 1800.0)
    bg_conns: int = 32
    warm_s: float = 5.0
    probes: int = 10            # per background rate
    probe_window_s: float = 15.0
    alert_timeout_s: float = 60.0
    silent: int = 20
    no_comms_s: int = 120
    silence_grace_s: float = 60.0   # wait this long past no_comms_s before "none within N s"
    settle_max_s: float = 30.0
    file_rounds: int = 10       # file peer: this many fixes per tag
    eval_sample: int = 200


QUICK = Plan(tags=1000, wrk_s=5, bare_wrk_s=5, fixed_s=5.0, drain_s=5.0, batch_s=10.0, bare_batch_s=5.0, batch_timeout_s=60.0,
             warm_s=2.0, probes=3, probe_window_s=3.0, alert_timeout_s=20.0, silent=5, no_comms_s=30,
             silence_grace_s=30.0, settle_max_s=10.0, file_rounds=5, eval_sample=50)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


# -- the fleet ------------------------------------------------------------------------------------
class Fleet:
    """Tags TAG00001.. on subjects SUB00001..; homes around the four pilot boroughs, an exclusion
    zone (200 m circle) 1.5 km from home, a curfew zone (150 m circle) at home."""

    def __init__(self, n: int, probes_per_level: int, levels: int, silent: int, seed: int = 14) -> None:
        rng = np.random.default_rng(seed)
        centres = np.array([borough_centre(b) for b in BOROUGHS])
        home = centres[np.arange(n) % len(centres)] + rng.uniform(-3000, 3000, (n, 2))
        ang = rng.uniform(0, 2 * np.pi, n)
        excl = home + 1500 * np.c_[np.cos(ang), np.sin(ang)]
        self.home_lon, self.home_lat = (np.round(a, 6) for a in to_wgs84(home[:, 0], home[:, 1]))
        self.excl_lon, self.excl_lat = (np.round(a, 6) for a in to_wgs84(excl[:, 0], excl[:, 1]))
        self.n = n
        self.devices = [f"TAG{i + 1:05d}" for i in range(n)]
        self.subjects = [f"SUB{i + 1:05d}" for i in range(n)]
        k = probes_per_level * levels
        self.probe_idx = [list(range(lv * probes_per_level, (lv + 1) * probes_per_level)) for lv in range(levels)]
        self.silent_idx = list(range(k, k + silent))
        self.background_idx = list(range(k + silent, n))
        self.last_ts: dict[int, int] = {}

    def ts(self, i: int, want_ms: int | None = None) -> int:
        """A fix time for tag i: the wall clock (or ``want_ms``), strictly after the tag's last one."""
        t = wall_ms() if want_ms is None else want_ms
        t = max(t, self.last_ts.get(i, 0) + 1)
        self.last_ts[i] = t
        return t

    def osmand_path(self, i: int, at_zone: bool = False, ts_ms: int | None = None) -> str:
        lat, lon = (self.excl_lat[i], self.excl_lon[i]) if at_zone else (self.home_lat[i], self.home_lon[i])
        t = self.ts(i, ts_ms)
        return (f"/osmand?id={self.devices[i]}&lat={lat:.6f}&lon={lon:.6f}&timestamp={t}"
                f"&accuracy=10&batt={80 + i % 20}&key={BENCH_KEY}")

    def fix(self, i: int) -> dict:
        return {"device_id": self.devices[i], "ts": iso_ms(self.ts(i)), "lat": float(self.home_lat[i]),
                "lon": float(self.home_lon[i]), "accuracy_m": 10.0, "battery_pct": float(80 + i % 20)}

    def write_tags_file(self, path: Path, idx: list[int]) -> None:
        path.write_text("".join(f"{self.devices[i]} {self.home_lat[i]:.6f} {self.home_lon[i]:.6f} {BENCH_KEY}\n"
                                for i in idx))

    def enrol(self, store, start_ms: int, now_ms: int) -> None:
        """Bulk insert (one transaction per table): what services.enrolment.enrol stores, minus its
        per-row transactions, which would take minutes for 10,772 tags."""
        def circle(lon, lat, r):
            return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
                    "properties": {"radius_m": r}}
        conds = []
        for i in range(self.n):
            conds.append(conditions_to_json((
                condition_from_dict({"id": "curfew", "kind": "curfew", "schedule": CURFEW,
                                     "zone": circle(self.home_lon[i], self.home_lat[i], 150.0)}),
                condition_from_dict({"id": "exclusion", "kind": "exclusion",
                                     "zone": circle(self.excl_lon[i], self.excl_lat[i], 200.0)}))))
        boroughs = list(BOROUGHS)
        with store.engine.begin() as c:
            c.execute(insert(s.subjects), [{"id": sid, "name": "", "risk_level": "medium", "offence": "",
                                            "borough": boroughs[i % 4], "created_ms": now_ms}
                                           for i, sid in enumerate(self.subjects)])
            c.execute(insert(s.devices), [{"id": d, "kind": "gps", "model": "bench", "created_ms": now_ms}
                                          for d in self.devices])
            c.execute(insert(s.assignments), [{"device_id": d, "subject_id": sid, "from_ms": start_ms, "to_ms": None}
                                              for d, sid in zip(self.devices, self.subjects)])
            c.execute(insert(s.orders), [{"id": f"ORD{i + 1:05d}", "subject_id": sid, "type": "licence",
                                          "start_ms": start_ms, "end_ms": start_ms + 180 * 86_400_000,
                                          "ended_ms": None, "end_reason": "", "created_ms": now_ms}
                                         for i, sid in enumerate(self.subjects)])
            c.execute(insert(s.order_versions), [{"order_id": f"ORD{i + 1:05d}", "version": 1,
                                                  "effective_from_ms": start_ms, "reason": "bench",
                                                  "conditions": conds[i], "created_ms": now_ms}
                                                 for i in range(self.n)])
            # Device keys (OsmAnd reports must carry one): one bench key for every tag, stored hashed.
            c.execute(insert(s.device_keys), [{"device_id": d, "key_sha256": digest(BENCH_KEY), "issued_ms": now_ms,
                                               "generation": 1} for d in self.devices])


# -- servers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sk:
        sk.bind((HOST, 0))
        return sk.getsockname()[1]


class Server:
    def __init__(self, name: str, cmd: list[str], port: int, log: Path) -> None:
        self.name, self.cmd, self.port, self.log = name, cmd, port, log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60.0) -> float:
        t0 = time.perf_counter()
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        while time.perf_counter() - t0 < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log}:\n"
                                   + self.log.read_text()[-2000:])
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sk:
                    sk.sendall(get_request(HOST, "/api/map/config"))
                    if sk.recv(64).startswith(b"HTTP/1.1 200"):
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout_s} s; see {self.log}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()

    def settle(self, max_s: float, idle_cpu: float = 0.10) -> float:
        """Wait until the server uses under ``idle_cpu`` of a core over a second (its backlog done)."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < max_s:
            c0 = cpu_s(self.pid)
            time.sleep(1.0)
            if cpu_s(self.pid) - c0 < idle_cpu:
                break
        return time.perf_counter() - t0


class Meter:
    """CPU of the server and of this process (the asyncio client) over a phase, from /proc."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self):
        self.t0, self.s0, self.c0 = time.perf_counter(), cpu_s(self.server.pid), cpu_s()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self.server_cpu = (cpu_s(self.server.pid) - self.s0) / self.wall
        self.client_cpu = (cpu_s() - self.c0) / self.wall


# -- phases ----------------------------------------------------------------------------------------
def run_wrk(port: int, tags_file: Path, seconds: int, conns: int, server: Server, out_dir: Path) -> dict:
    """Sustained OsmAnd load with wrk; its CPU comes from wait4's rusage of the wrk process."""
    cmd = [shutil.which("wrk") or "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "30s",
           "-s", str(LUA), f"http://{HOST}:{port}", "--", str(tags_file), "1"]
    log = out_dir / f"wrk-{server.name}.txt"
    s0 = cpu_s(server.pid)
    t0 = time.perf_counter()
    with open(log, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    text = log.read_text()
    line = next((x for x in text.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {text[-2000:]}")
    w = json.loads(line[8:])
    dur = w["duration_us"] / 1e6
    return {"command": shlex.join(cmd), "requests": w["requests"], "duration_s": round(dur, 2),
            "msgs_per_s": round(w["requests"] / dur, 1),
            "non_2xx": w["err_status"], "timeouts": w["err_timeout"],
            "socket_errors": w["err_connect"] + w["err_read"] + w["err_write"],
            "ack_p50_s": w["lat_p50_us"] / 1e6, "ack_p90_s": w["lat_p90_us"] / 1e6,
            "ack_p99_s": w["lat_p99_us"] / 1e6, "ack_max_s": w["lat_max_us"] / 1e6,
            "wrk_cpu": round((ru.ru_utime + ru.ru_stime) / wall, 3),
            "server_cpu": round((cpu_s(server.pid) - s0) / wall, 3)}


def paced_summary(r: RunResult, rate: float, server_cpu: float | None = None) -> dict:
    def pct(q):
        v = r.percentile(q)
        return None if v is None else round(v, 4)
    return {"target_per_s": rate, "scheduled": r.scheduled, "acked": r.acked, "non_2xx": r.non_2xx,
            "failed": r.failed, "unfinished": r.unfinished, "wall_s": round(r.wall_s, 2),
            "achieved_per_s": round(r.acked / r.wall_s, 1) if r.wall_s else 0.0,
            "p50_s": pct(50), "p99_s": pct(99),
            "service_p50_s": None if not r.service_s else round(r.percentile(50, False), 4),
            "service_p99_s": None if not r.service_s else round(r.percentile(99, False), 4),
            "client_cpu": round(r.client_cpu_s / r.wall_s, 3) if r.wall_s else None,
            "server_cpu": None if server_cpu is None else round(server_cpu, 3)}


def osmand_builder(fleet: Fleet, idx: list[int]):
    it = [0]

    def build() -> bytes:
        i = idx[it[0] % len(idx)]
        it[0] += 1
        return get_request(HOST, fleet.osmand_path(i))
    return build


def run_paced_osmand(port: int, fleet: Fleet, plan: Plan, server: Server) -> dict:
    async def go():
        pool = Pool(HOST, port, plan.fixed_conns)
        try:
            return await paced(pool, osmand_builder(fleet, fleet.background_idx), plan.fixed_rate, plan.fixed_s,
                               plan.drain_s)
        finally:
            pool.close()
    with Meter(server) as m:
        r = asyncio.run(go())
    return paced_summary(r, plan.fixed_rate, m.server_cpu)


def run_batches(port: int, fleet: Fleet, plan: Plan, token: str, server: Server, seconds: float) -> dict:
    idx = fleet.background_idx
    size = min(plan.batch_size, len(idx))
    it = [0]
    hdr = {"Authorization": f"Bearer {token}"}

    def build() -> bytes:
        k = it[0]
        it[0] += 1
        fixes = [fleet.fix(idx[(k * size + j) % len(idx)]) for j in range(size)]
        return post_json_request(HOST, "/api/fixes", json.dumps({"fixes": fixes}).encode(), hdr)

    def count(body: bytes) -> int:
        return int(json.loads(body).get("accepted", 0))

    async def go():
        pool = Pool(HOST, port, plan.batch_conc)
        try:
            return await closed_loop(pool, build, plan.batch_conc, seconds, plan.batch_timeout_s, count)
        finally:
            pool.close()
    with Meter(server) as m:
        r = asyncio.run(go())
    lat = sorted(r.latency_s)
    return {"batch_fixes": size, "tags_per_batch": size, "concurrency": plan.batch_conc,
            "batches_started": r.scheduled, "batches_acked": r.acked, "non_2xx": r.non_2xx, "failed": r.failed,
            "unfinished": r.unfinished, "fixes_accepted": r.items, "wall_s": round(r.wall_s, 2),
            "fixes_per_s": round(r.items / r.wall_s, 1) if r.wall_s else 0.0,
            "batch_p50_s": round(lat[len(lat) // 2], 3) if lat else None,
            "batch_max_s": round(lat[-1], 3) if lat else None,
            "timeout_s": plan.batch_timeout_s, "client_cpu": round(m.client_cpu, 3),
            "server_cpu": round(m.server_cpu, 3)}


def _pcts(xs: list[float | None], timeout: float) -> dict:
    """p50/p99 over all probes; a probe with no alert counts as slower than the time-out."""
    n = len(xs)
    got = sorted(x for x in xs if x is not None)
    out = {"n": n, "seen": len(got)}
    for q in (50, 99):
        k = max(0, math.ceil(q / 100 * n) - 1) if n else 0
        out[f"p{q}_s"] = round(got[k], 3) if k < len(got) else None
    out["timeout_s"] = timeout
    return out


def run_alerts_and_silence(port: int, fleet: Fleet, plan: Plan, mon_token: str, server: Server) -> dict:
    """Phases 3 and 4 together: silent tags go quiet at the start, probes confirm exclusion breaches
    under each background rate, then background at the first (national) rate until the silence
    deadline."""
    async def go():
        loop = asyncio.get_running_loop()
        watch = AlertWatch(HOST, port, mon_token, ("exclusion_breach", "no_comms"))
        await watch.start()
        out: dict = {"stream": watch.mode, "stream_status": watch.sse_status}

        # 4. silence: each silent tag reports once, then never again.
        t_last: dict[int, tuple[float, int]] = {}

        async def last_report(i: int) -> None:
            pool = Pool(HOST, port, 1)
            try:
                stamp = [0.0, 0]

                def wrote():
                    stamp[0], stamp[1] = loop.time(), wall_ms()
                status, _ = await pool.send(lambda: get_request(HOST, fleet.osmand_path(i)), wrote,
                                            plan.alert_timeout_s)
                if 200 <= status < 300:
                    t_last[i] = (stamp[0], stamp[1])
            except (OSError, asyncio.TimeoutError, Exception):
                pass
            finally:
                pool.close()
        await asyncio.gather(*(last_report(i) for i in fleet.silent_idx))
        deadline_s = plan.no_comms_s + plan.silence_grace_s

        async def silence_wait(i: int) -> float | None:
            t, wall = t_last[i]
            sid = fleet.subjects[i]
            got = await watch.wait_for(lambda a: a.get("kind") == "no_comms" and a.get("subject_id") == sid
                                       and int(a.get("start_ms") or 0) >= wall - 5000,
                                       max(0.0, t + deadline_s - loop.time()))
            return None if got is None else got[0] - t
        silence_tasks = [asyncio.ensure_future(silence_wait(i)) for i in t_last]

        # 3. alert latency under each background rate.
        async def probe(i: int, delay: float) -> dict:
            await asyncio.sleep(delay)
            pool = Pool(HOST, port, 1)
            sid = fleet.subjects[i]
            res: dict = {"subject": sid}
            try:
                now = wall_ms()
                for back_s in (150, 100, 50):   # inside the zone, evidence not yet enough (dwell 120 s)
                    st, _ = await pool.send(lambda: get_request(
                        HOST, fleet.osmand_path(i, at_zone=True, ts_ms=now - back_s * 1000)), None,
                        plan.alert_timeout_s)
                    if not 200 <= st < 300:
                        res["error"] = f"evidence fix HTTP {st}"
                        return res
                stamp = [0.0, 0]

                def wrote():
                    stamp[0], stamp[1] = loop.time(), wall_ms()
                st, _ = await pool.send(lambda: get_request(HOST, fleet.osmand_path(i, at_zone=True)), wrote,
                                        plan.alert_timeout_s)
                res["ack_s"] = loop.time() - stamp[0]
                if not 200 <= st < 300:
                    res["error"] = f"confirming fix HTTP {st}"
                    return res
                got = await watch.wait_for(lambda a: a.get("kind") == "exclusion_breach"
                                           and a.get("subject_id") == sid,
                                           max(0.0, stamp[0] + plan.alert_timeout_s - loop.time()))
                if got is not None:
                    res["alert_s"] = got[0] - stamp[0]
            except (OSError, asyncio.TimeoutError) as e:
                res["error"] = f"{type(e).__name__}: {e}"
            finally:
                pool.close()
            return res

        levels = []
        for lv, rate in enumerate(plan.bg_rates):
            stop = asyncio.Event()
            bg_pool = Pool(HOST, port, plan.bg_conns)
            s0, c0, t0 = cpu_s(server.pid), cpu_s(), time.perf_counter()
            bg = asyncio.ensure_future(paced(bg_pool, osmand_builder(fleet, fleet.background_idx), rate, 3600,
                                             drain_s=2.0, stop=stop))
            await asyncio.sleep(plan.warm_s)
            idx = fleet.probe_idx[lv]
            probes = await asyncio.gather(*(probe(i, k * plan.probe_window_s / max(1, len(idx)))
                                            for k, i in enumerate(idx)))
            stop.set()
            r = await bg
            bg_pool.close()
            wall = time.perf_counter() - t0
            acks = [p["ack_s"] for p in probes if "ack_s" in p]
            levels.append({"background": paced_summary(r, rate, (cpu_s(server.pid) - s0) / wall),
                           "client_cpu_all": round((cpu_s() - c0) / wall, 3),
                           "alert": _pcts([p.get("alert_s") for p in probes], plan.alert_timeout_s),
                           "confirm_ack_p50_s": round(sorted(acks)[len(acks) // 2], 3) if acks else None,
                           "errors": sorted({p["error"] for p in probes if "error" in p})})
        out["levels"] = levels

        # the rest of the silence window at the national rate
        stop = asyncio.Event()
        bg_pool = Pool(HOST, port, plan.bg_conns)
        bg = asyncio.ensure_future(paced(bg_pool, osmand_builder(fleet, fleet.background_idx), plan.bg_rates[0],
                                         3600, drain_s=2.0, stop=stop))
        silence = await asyncio.gather(*silence_tasks)
        stop.set()
        await bg
        bg_pool.close()
        out["silence"] = {**_pcts(list(silence), deadline_s), "tags": len(fleet.silent_idx),
                          "reported": len(t_last), "no_comms_s": plan.no_comms_s}
        out["alerts_seen"] = _count_kinds(watch)
        out["sse_events"] = watch.events
        out["polls"] = watch.polls
        out["poll_p50_s"] = _median(watch.poll_s_taken)
        await watch.stop()
        return out
    return asyncio.run(go())


def _median(xs) -> float | None:
    xs = sorted(x for x in xs if x is not None)
    return round(xs[len(xs) // 2], 3) if xs else None


def _count_kinds(watch: AlertWatch) -> dict[str, int]:
    out: dict[str, int] = {}
    for _, a in watch.seen.values():
        out[a.get("kind", "?")] = out.get(a.get("kind", "?"), 0) + 1
    return out


def file_peer(store, fleet: Fleet, plan: Plan, work: Path) -> dict:
    """The same kind of fixes from a CSV file, in-process (the store must not be in use)."""
    path = work / "fixes.csv"
    t_base = wall_ms() - 6 * 3_600_000  # six hours ago, one fix a minute: no clash with the live fixes
    idx = fleet.background_idx
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["device_id", "ts", "lat", "lon", "accuracy_m", "battery_pct", "strap"])
        for r in range(plan.file_rounds):
            ts = iso_ms(t_base + r * 60_000)
            for i in idx:
                w.writerow([fleet.devices[i], ts, f"{fleet.home_lat[i]:.6f}", f"{fleet.home_lon[i]:.6f}", "10",
                            80 + i % 20, "ok"])
    t0 = time.perf_counter()
    rep = ingest.ingest_files(store, [path], now_ms=wall_ms())
    t_ingest = time.perf_counter() - t0
    sample = {fleet.subjects[i]: t_base for i in idx[:plan.eval_sample]}
    t0 = time.perf_counter()
    now = wall_ms()
    evaluation.evaluate(store, now, now, sample)
    t_eval = time.perf_counter() - t0
    return {"fixes": rep.accepted, "rejected": rep.rejected, "ingest_s": round(t_ingest, 2),
            "fixes_per_s": round(rep.accepted / t_ingest, 1),
            "eval_subjects": len(sample), "eval_s": round(t_eval, 2),
            "eval_subjects_per_s": round(len(sample) / t_eval, 1)}


# -- report -----------------------------------------------------------------------------------------
def fmt_s(v) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def pct_text(p: dict, key: str) -> str:
    v = p.get(key)
    if v is None:
        return "none" if p.get("seen", 1) == 0 else f"> {p['timeout_s']:.0f} s"
    return fmt_s(v)


def loadavg() -> float:
    """The 1-minute load average: above the core count, other work shared the machine with the run."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def machine_note() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return (f"{os.cpu_count()} cores shared by the server and the load generator (wrk / this Python client), "
            f"{mem}, {platform.python_implementation()} {platform.python_version()}, loopback, "
            f"uvicorn without uvloop/httptools unless installed")


def print_report(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    bare, tw, p = res["bare"], res["tagwatch"], res["plan"]
    t = Table(title=f"live path: {p['tags']:,} tags, {res['store']}", show_lines=False)
    t.add_column("measurement")
    t.add_column("bare Starlette (peer)" + (": skipped, zeros" if bare.get("skipped") else ""), justify="right")
    t.add_column("tagwatch serve", justify="right")
    t.add_column("note")

    def wrk_row(name, key):
        t.add_row(name, _w(bare["osmand_wrk"], key), _w(tw["osmand_wrk"], key), "")

    wb, ww = bare["osmand_wrk"], tw["osmand_wrk"]
    t.add_row(f"1. OsmAnd sustained (wrk -c{p['wrk_conns']}), msgs/s", f"{wb['msgs_per_s']:,.1f}",
              f"{ww['msgs_per_s']:,.1f}", f"{ww['requests']:,} reqs in {ww['duration_s']} s")
    wrk_row("   ack p50", "ack_p50_s")
    wrk_row("   ack p99", "ack_p99_s")
    t.add_row("   non-2xx / timeouts / socket errors", f"{wb['non_2xx']} / {wb['timeouts']} / {wb['socket_errors']}",
              f"{ww['non_2xx']} / {ww['timeouts']} / {ww['socket_errors']}", "")
    t.add_row("   CPU: server / wrk (cores)", f"{wb['server_cpu']:.2f} / {wb['wrk_cpu']:.2f}",
              f"{ww['server_cpu']:.2f} / {ww['wrk_cpu']:.2f}", "")
    fb, fw = bare["osmand_paced"], tw["osmand_paced"]
    t.add_row(f"1b. OsmAnd paced at {p['fixed_rate']:,.0f}/s: acked/s", f"{fb['achieved_per_s']:,.1f}",
              f"{fw['achieved_per_s']:,.1f}", "asyncio client, latency from intended send")
    t.add_row("   p50 / p99 (from the intended send)", f"{_none(fb, 'p50_s')} / {_none(fb, 'p99_s')}",
              f"{_none(fw, 'p50_s')} / {_none(fw, 'p99_s')}", "'> N s': not acked within the run + drain")
    t.add_row("   service time p50 / p99 (write -> ack)", f"{fmt_s(fb['service_p50_s'])} / {fmt_s(fb['service_p99_s'])}",
              f"{fmt_s(fw['service_p50_s'])} / {fmt_s(fw['service_p99_s'])}", "acked requests only")
    t.add_row("   scheduled / acked / non-2xx / failed / unfinished",
              f"{fb['scheduled']:,} / {fb['acked']:,} / {fb['non_2xx']} / {fb['failed']} / {fb['unfinished']}",
              f"{fw['scheduled']:,} / {fw['acked']:,} / {fw['non_2xx']} / {fw['failed']} / {fw['unfinished']}", "")
    t.add_row("   CPU: server / client (cores)", f"{fb['server_cpu']:.2f} / {fb['client_cpu']:.2f}",
              f"{fw['server_cpu']:.2f} / {fw['client_cpu']:.2f}", "")
    bb, bw = bare["batches"], tw["batches"]
    t.add_row(f"2. POST /api/fixes x{bw['batch_fixes']}: fixes/s", f"{bb['fixes_per_s']:,.1f}",
              f"{bw['fixes_per_s']:,.1f}",
              f"{bw['batches_acked']} batches acked, {bw['unfinished']} cut off at {bw['timeout_s']:.0f} s")
    t.add_row("   batch ack p50", fmt_s(bb["batch_p50_s"]), fmt_s(bw["batch_p50_s"]), "")
    live = tw["live"]
    for lv in live["levels"]:
        a, bg = lv["alert"], lv["background"]
        t.add_row(f"3. alert latency @ {bg['target_per_s']:,.0f} msgs/s bg: p50 / p99", "",
                  f"{pct_text(a, 'p50_s')} / {pct_text(a, 'p99_s')}",
                  f"{a['seen']}/{a['n']} seen via {live['stream']}; bg acked {bg['achieved_per_s']:,.1f}/s")
    si = live["silence"]
    t.add_row(f"4. silence -> no_comms (no_comms_s {si['no_comms_s']}): p50 / p99", "",
              f"{pct_text(si, 'p50_s')} / {pct_text(si, 'p99_s')}",
              f"{si['seen']}/{si['reported']} within {si['timeout_s']:.0f} s")
    m = tw["memory"]
    t.add_row("5. server RSS after load (VmRSS / VmHWM)",
              f"{bare['memory']['VmRSS'] / 1024:,.0f} / {bare['memory']['VmHWM'] / 1024:,.0f} MiB",
              f"{m['VmRSS'] / 1024:,.0f} / {m['VmHWM'] / 1024:,.0f} MiB",
              f"idle after start {tw['memory_idle']['VmRSS'] / 1024:,.0f} MiB")
    fp = res["file_peer"]
    t.add_row("peer: file ingest (ingest_files, in-process)", "", f"{fp['fixes_per_s']:,.0f} fixes/s",
              f"{fp['fixes']:,} fixes in {fp['ingest_s']} s")
    t.add_row("peer: evaluate touched subjects (in-process)", "", f"{fp['eval_subjects_per_s']:,.1f} subjects/s",
              f"sample of {fp['eval_subjects']}")
    con = Console(width=160)
    con.print(t)
    seen = ("the newest 5,000 of each kind per poll" if live["stream"] == "poll"
            else f"{live['sse_events']:,} events")
    con.print(f"alert stream: {live['stream']} ({live['stream_status']}); alerts seen by the monitoring client "
              f"in phases 3-4 ({seen}): {live['alerts_seen']}")
    for lv in live["levels"]:
        bg = lv["background"]
        con.print(f"background {bg['target_per_s']:,.0f}/s: acked {bg['achieved_per_s']:,.1f}/s, service p50 "
                  f"{fmt_s(bg['service_p50_s'])}, server CPU {bg['server_cpu']:.2f}, client CPU (all, incl. the "
                  f"alert watcher) {lv['client_cpu_all']:.2f} cores; probe confirming-fix ack p50 "
                  f"{fmt_s(lv['confirm_ack_p50_s'])}" + (f"; errors {lv['errors']}" if lv["errors"] else ""))
    heavy = [name for name, c in (("paced OsmAnd (bare)", bare["osmand_paced"]["client_cpu"]),
                                  ("paced OsmAnd (tagwatch)", tw["osmand_paced"]["client_cpu"]),
                                  *((f"alert phase {lv['background']['target_per_s']:,.0f}/s", lv["client_cpu_all"])
                                    for lv in live["levels"])) if c and c > 0.5]
    if heavy:
        con.print(f"[yellow]warning:[/yellow] the Python client used over half a core in: {', '.join(heavy)}; "
                  "on 2 shared cores it may be limiting the server there")
    con.print(f"machine: {res['machine']}; 1-minute load average during the run up to {res['loadavg_max']:.1f}"
              + (" [yellow](other work shared the cores: figures are low)[/yellow]"
                 if res["loadavg_max"] > (os.cpu_count() or 1) + 2 else ""))


def _w(w: dict, key: str) -> str:
    return fmt_s(w[key])


def _none(p: dict, key: str) -> str:
    v = p.get(key)
    return fmt_s(v) if v is not None else f"> {p.get('wall_s', 0):.0f} s"


# -- main -------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 tags and short phases: a smoke run of ~2 minutes")
    ap.add_argument("--tags", type=int, help="enrolled tags (default 10,772; --quick 1,000)")
    ap.add_argument("--no-comms-s", type=int, help="rule setting no_comms_s for the run (default 120; --quick 30)")
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", help="with --store postgresql: a throw-away database (its tagwatch tables are dropped)")
    ap.add_argument("--server-args", default="", help="extra arguments for tagwatch serve, e.g. '--tick-s 5'")
    ap.add_argument("--out", type=Path, help="save the figures as JSON")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it (store, logs, wrk output)")
    ap.add_argument("--skip-bare", action="store_true", help="do not run the bare Starlette peer")
    ap.add_argument("--show", type=Path, metavar="FILE.json", help="print the table of a saved run and exit")
    args = ap.parse_args()
    if args.show:
        print_report(json.loads(args.show.read_text()))
        return
    plan = QUICK if args.quick else Plan()
    if args.tags:
        plan.tags = args.tags
    if args.no_comms_s:
        plan.no_comms_s = args.no_comms_s

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-live-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_note(),
                 "plan": asdict(plan), "server_args": args.server_args, "quick": args.quick}
    t_run = time.perf_counter()

    res["loadavg"] = {}

    def say(msg: str) -> None:
        la = loadavg()
        res["loadavg"][msg] = la
        print(f"[{time.perf_counter() - t_run:6.1f} s] (load {la:.1f}) {msg}", flush=True)

    # setup
    if args.store == "postgresql":
        if not args.pg_url:
            ap.error("--store postgresql needs --pg-url")
        url = args.pg_url
        from sqlalchemy import create_engine
        eng = create_engine(url)
        s.metadata.drop_all(eng)
        eng.dispose()
    else:
        db = work / "live.db"
        for p in work.glob("live.db*"):
            p.unlink()
        url = f"sqlite:///{db}"
    res["store"] = args.store
    t0 = time.perf_counter()
    store = open_store(url)
    fleet = Fleet(plan.tags, plan.probes, len(plan.bg_rates), plan.silent)
    now = wall_ms()
    fleet.enrol(store, now - 600_000, now)
    for name, role in (("bench-gateway", "gateway"), ("bench-monitoring", "monitoring")):
        users.add_user(store, name, PASSWORD, role, now)
    gw_token, _ = users.issue_token(store, users.User("bench-gateway", "gateway"), now, 24 * 3_600_000)
    mon_token, _ = users.issue_token(store, users.User("bench-monitoring", "monitoring"), now, 24 * 3_600_000)
    evaluation.set_settings(store, no_comms_s=plan.no_comms_s)
    store.engine.dispose()
    res["setup_s"] = round(time.perf_counter() - t0, 2)
    tags_file = work / "tags.txt"
    fleet.write_tags_file(tags_file, fleet.background_idx)
    say(f"enrolled {plan.tags:,} tags in {res['setup_s']} s ({url}); no_comms_s={plan.no_comms_s}; work dir {work}")

    # (a) the bare HTTP stack
    res["bare"] = None
    if not args.skip_bare:
        port = free_port()
        bare = Server("bare", [sys.executable, str(BARE), "--port", str(port)], port, work / "bare.log")
        bare.start()
        try:
            say("bare Starlette: OsmAnd wrk")
            b = {"osmand_wrk": run_wrk(port, tags_file, plan.bare_wrk_s, plan.wrk_conns, bare, work)}
            say(f"bare Starlette: OsmAnd paced at {plan.fixed_rate:,.0f}/s")
            b["osmand_paced"] = run_paced_osmand(port, fleet, plan, bare)
            say("bare Starlette: POST /api/fixes batches")
            b["batches"] = run_batches(port, fleet, plan, gw_token, bare, plan.bare_batch_s)
            b["memory"] = mem_kib(bare.pid)
            res["bare"] = b
        finally:
            bare.stop()
        fleet.last_ts.clear()  # nothing was stored

    # tagwatch serve
    port = free_port()
    exe = Path(sys.executable).parent / "tagwatch"
    cmd = [str(exe) if exe.exists() else "tagwatch", "serve", "--db", url, "--port", str(port),
           *shlex.split(args.server_args)]
    res["server_command"] = shlex.join(cmd)
    srv = Server("tagwatch", cmd, port, work / "tagwatch.log")
    say(f"starting {res['server_command']}")
    tw: dict = {"start_s": round(srv.start(), 2)}
    res["tagwatch"] = tw
    try:
        time.sleep(1.0)
        tw["memory_idle"] = mem_kib(srv.pid)
        say("tagwatch: OsmAnd wrk")
        tw["osmand_wrk"] = run_wrk(port, tags_file, plan.wrk_s, plan.wrk_conns, srv, work)
        tw["settle_1_s"] = round(srv.settle(plan.settle_max_s), 1)
        say(f"tagwatch: OsmAnd paced at {plan.fixed_rate:,.0f}/s")
        tw["osmand_paced"] = run_paced_osmand(port, fleet, plan, srv)
        tw["settle_2_s"] = round(srv.settle(plan.settle_max_s), 1)
        say("tagwatch: POST /api/fixes batches")
        tw["batches"] = run_batches(port, fleet, plan, gw_token, srv, plan.batch_s)
        tw["settle_3_s"] = round(srv.settle(plan.settle_max_s), 1)
        say("tagwatch: alert latency and silence")
        tw["live"] = run_alerts_and_silence(port, fleet, plan, mon_token, srv)
        tw["memory"] = mem_kib(srv.pid)
    finally:
        srv.stop()

    say("file ingest peer")
    store = open_store(url)
    res["file_peer"] = file_peer(store, fleet, plan, work)
    store.engine.dispose()
    res["total_s"] = round(time.perf_counter() - t_run, 1)
    say(f"done in {res['total_s']} s")
    res["loadavg_max"] = max(res["loadavg"].values())
    if res["bare"] is None:
        res["bare"] = _empty_bare()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2, default=str))
        print(f"figures saved to {args.out}")
    print_report(res)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _empty_bare() -> dict:
    w = {"msgs_per_s": 0.0, "ack_p50_s": None, "ack_p99_s": None, "non_2xx": 0, "timeouts": 0, "socket_errors": 0,
         "server_cpu": 0.0, "wrk_cpu": 0.0}
    pz = {"achieved_per_s": 0.0, "p50_s": None, "p99_s": None, "service_p50_s": None, "service_p99_s": None,
          "scheduled": 0, "acked": 0, "non_2xx": 0, "failed": 0, "unfinished": 0, "wall_s": 0.0, "server_cpu": 0.0,
          "client_cpu": 0.0}
    return {"skipped": True, "osmand_wrk": w, "osmand_paced": pz, "batches": {"fixes_per_s": 0.0, "batch_p50_s": None},
            "memory": {"VmRSS": 0, "VmHWM": 0}}


if __name__ == "__main__":
    main()
