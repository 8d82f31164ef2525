"""Outcomes of shared matches over the API: recorded by the police force a match is shared with."""

from __future__ import annotations

import pytest

from tagwatch.store.schema import MATCH_OUTCOMES


def _post(web, headers, match_id, outcome="charged", on="2026-03-19", note=""):
    return web.client.post(f"/api/matches/{match_id}/outcomes", headers=headers,
                           json={"outcome": outcome, "on": on, "note": note})


def test_the_sharing_force_records_a_charge_then_a_conviction(web):
    m = web.shared_match
    pol = web.headers["police"]
    assert web.client.get(f"/api/matches/{m}/outcomes", headers=pol).json() == {
        "match_id": m, "current": None, "outcomes": []}
    r = _post(web, pol, m, "charged", "2026-03-19", "charged at Lewisham custody")
    assert r.status_code == 201, r.text
    assert r.json()["current"] == "charged"
    r = _post(web, pol, m, "convicted", "2026-03-20")  # today (the app's clock: 2026-03-20 16:00 UTC)
    assert r.status_code == 201, r.text
    for role in ("police", "monitoring"):  # the sharing force and monitoring read them back
        got = web.client.get(f"/api/matches/{m}/outcomes", headers=web.headers[role]).json()
        assert got["current"] == "convicted"
        assert [(o["outcome"], o["outcome_on"], o["force"], o["actor"], o["current"]) for o in got["outcomes"]] == [
            ("charged", "2026-03-19", "MPS", "pol", False), ("convicted", "2026-03-20", "MPS", "pol", True)]
        assert got["outcomes"][0]["note"] == "charged at Lewisham custody"
    # Both records are in the audit chain, with who, the match's subject and the outcome.
    audit = [e for e in web.store.audit_entries(limit=50) if e["action"] == "match_outcome"]
    assert [(e["actor"], e["role"], e["subject_ids"]) for e in audit] == [("pol", "police", "S1")] * 2
    assert '"outcome":"convicted"' in audit[0]["detail"]  # newest first
    # The programme report counts the current outcome, in the month of its date.
    from tagwatch.services.programme import programme_report
    series = programme_report(web.store, "2026-03", "2026-03").series()
    assert series["outcome_convicted"].values == [1] and series["outcome_charged"].values == [0]


def test_another_force_and_other_roles_are_refused(web):
    city = web.client.login("pol-city")
    for m in (web.shared_match, web.unshared_match):
        r = _post(web, city, m)
        assert r.status_code == 403 and "not been shared with CITY" in r.json()["detail"]
        assert web.client.get(f"/api/matches/{m}/outcomes", headers=city).status_code == 403
    r = _post(web, web.headers["police"], web.unshared_match)  # MPS, but this one was not shared with MPS
    assert r.status_code == 403
    for role in ("monitoring", "probation", "evaluator", "admin", "gateway"):
        assert _post(web, web.headers[role], web.shared_match).status_code == 403, role
    assert _post(web, {}, web.shared_match).status_code == 401
    before = len(web.store.match_outcomes())
    assert _post(web, web.headers["police"], 999_999).status_code == 403  # unknown: never shared with anyone
    assert len(web.store.match_outcomes()) == before


@pytest.mark.parametrize("body, status, detail", [
    ({"outcome": "charged", "on": "2026-03-21"}, 400, "2026-03-21 is in the future"),
    ({"outcome": "charged", "on": "21/03/2026"}, 400, "write it as YYYY-MM-DD"),
    ({"outcome": "charged", "on": "2026-02-30"}, 400, "write it as YYYY-MM-DD"),
    ({"outcome": "cautioned", "on": "2026-03-19"}, 422, "'charged', 'convicted', 'no further action' or 'eliminated'"),
    ({"on": "2026-03-19"}, 422, "Field required"),
])
def test_bad_outcomes_are_refused_with_a_reason(web, body, status, detail):
    before = len(web.store.match_outcomes())
    r = web.client.post(f"/api/matches/{web.shared_match}/outcomes", headers=web.headers["police"], json=body)
    assert r.status_code == status, r.text
    assert detail in str(r.json()["detail"])
    assert len(web.store.match_outcomes()) == before


def test_the_api_offers_the_outcomes_the_store_knows(web):
    schema = web.client.get("/openapi.json").json()["components"]["schemas"]["MatchOutcomeCreate"]
    assert tuple(schema["properties"]["outcome"]["enum"]) == MATCH_OUTCOMES
