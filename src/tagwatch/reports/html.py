"""An evidence pack as one self-contained HTML document: inline CSS, inline SVG maps.

Nothing is loaded from anywhere: no scripts, no fonts, no images, no tiles. The same
HTML is printed to A4 PDF (:mod:`tagwatch.reports.pdf`); the ``@page`` rules only
matter there.
"""

from __future__ import annotations

from html import escape

from .basemap import ATTRIBUTION, boundaries_within, london_locator
from .evidence import EVIDENCE_LABELS, EvidencePack, Exhibit, PackCrime, compass, local_time
from .maps import detail_frame, detail_map, key_items, overview_frame, overview_map

__all__ = ["render_html"]

CSS = """
@page { size: A4; margin: 16mm 14mm 20mm 14mm;
  @bottom-left { content: "{FOOTER}"; font: 7pt "DejaVu Sans", sans-serif; color: #4b5563; width: 80%; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 7pt "DejaVu Sans", sans-serif;
                  color: #4b5563; } }
html { font: 9pt/1.35 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #111827; }
body { max-width: 190mm; margin: 0 auto; }
h1 { font-size: 17pt; margin: 0 0 1mm; }
h2 { font-size: 13pt; margin: 0 0 2mm; border-bottom: 1.5pt solid #111827; padding-bottom: 1mm; }
h3 { font-size: 10.5pt; margin: 5mm 0 1.5mm; break-after: avoid; }
p { margin: 1mm 0 2mm; }
.sub { color: #4b5563; font-size: 10pt; margin-bottom: 4mm; }
.statement { border: 1.5pt solid #111827; background: #f3f4f6; padding: 3mm 4mm; font-weight: bold;
             margin: 3mm 0 4mm; break-inside: avoid; }
.warn { border-left: 3pt solid #b91c1c; padding: 1mm 3mm; color: #7f1d1d; }
table { border-collapse: separate; border-spacing: 0; width: 100%; margin: 1mm 0 3mm; }
th, td { border-bottom: 0.5pt solid #d1d5db; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: bold; }
table.facts th { width: 32%; background: none; font-weight: normal; color: #4b5563; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.positions { font-size: 7.6pt; table-layout: fixed; }  /* fixed: fast to lay out, hundreds of rows */
table.positions thead { display: table-header-group; }
tr.context td { color: #6b7280; }
td.time { white-space: nowrap; }
tr.within td { background: #fef3c7; }
tr.total td { font-weight: bold; border-top: 1pt solid #111827; }
.exhibit { break-before: page; }
figure { margin: 2mm 0 3mm; break-inside: avoid; }
figure svg.map { width: 100%; height: auto; display: block; }
figcaption { font-size: 8pt; color: #374151; margin-top: 1mm; }
table.key { font-size: 8pt; margin: 0 0 2mm; }
table.key td { border: none; padding: 0.3mm 1mm; vertical-align: middle; }
table.key td.icon { width: 11mm; }
table.key svg.icon { width: 10mm; height: 5mm; display: block; }
.keep { break-inside: avoid; }
footer.export { margin-top: 6mm; border-top: 0.5pt solid #9ca3af; padding-top: 2mm; font-size: 8pt; color: #374151; }
.small { font-size: 7.5pt; color: #4b5563; }
"""


def _e(v: object) -> str:
    return escape(str(v), quote=True)


def _m(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f} m"


def _dur(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def _speed(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f} m/s ({v * 3.6:.1f} km/h)"


def _facts(rows: list[tuple[str, str]]) -> str:
    return '<table class="facts">' + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _crime_facts(c: PackCrime) -> str:
    return _facts([
        ("crime reference", f"<b>{_e(c.force)} {_e(c.crime_ref)}</b>, version {c.version}"
         + (f" (changed: {_e(c.changed)})" if c.changed else "")),
        ("crime type", f"{_e(c.crime_type)}: {_e(c.type_name)}"),
        ("crime window", f"{_e(local_time(c.from_ms))} to {_e(local_time(c.to_ms))}"
         + (" (a single moment)" if c.from_ms == c.to_ms else "")),
        ("location", f"BNG easting {c.x:,.0f}, northing {c.y:,.0f} (lat {c.lat:.5f}, lon {c.lon:.5f})"),
        ("location accuracy", "not given (0 m)" if not c.location_accuracy_m else _m(c.location_accuracy_m, 0)),
    ])


def _decision_line(e: Exhibit, action: str) -> str:
    done = e.decided(action)
    if not done:
        return f'<span class="warn">not {action}</span>'
    return "; ".join(f"{_e(d.actor)}{f' for {_e(d.force)}' if d.force else ''}<br><span class=\"small\">"
                     f"{_e(local_time(d.ts_ms))}</span>" for d in done)


def _summary(p: EvidencePack) -> str:
    c = p.crime
    rows = "".join(
        f"<tr><td><a href=\"#exhibit-{e.label}\">{e.label}</a></td><td>{_e(e.subject_id)}</td><td>{e.match_id}</td>"
        f"<td>{_e(e.evidence)}</td><td class=\"num\">{_m(e.closest_m)}</td>"
        f"<td class=\"num\">{_dur(e.within_s)}</td>"
        f"<td class=\"num\">{e.score:.3f}{' (significant)' if e.significant else ''}</td>"
        f"<td>{_decision_line(e, 'qualified')}</td><td>{_decision_line(e, 'authorised')}</td></tr>"
        for e in p.exhibits)
    withdrawn = [e for e in p.exhibits if e.decided("withdrawn")]
    return (
        f"<h1>Evidence pack: crime-scene correlation</h1>"
        f'<div class="sub">{_e(c.force)} {_e(c.crime_ref)} (version {c.version}), {_e(c.type_name)}, '
        f"{_e(local_time(c.from_ms))}. {len(p.exhibits)} exhibit{'s' if len(p.exhibits) != 1 else ''}.</div>"
        f'<div class="statement">{_e(p.statement)}</div>'
        f"<h3>The crime</h3>{_crime_facts(c)}"
        + (f'<p class="warn">The police have since sent version {c.latest_version} of this crime. These matches were '
           f"found against version {c.version}, which this pack describes; a new correlation run checks the newer "
           "version.</p>" if c.latest_version > c.version else "")
        + "<h3>Summary of matches</h3>"
        f"<table><thead><tr><th>exhibit</th><th>subject</th><th>match</th><th>evidence</th><th class=\"num\">closest</th>"
        f"<th class=\"num\">time within radius</th><th class=\"num\">score</th><th>qualified by</th>"
        f"<th>authorised by</th></tr></thead><tbody>{rows}</tbody></table>"
        + "".join(f'<p class="warn">Match {e.match_id} (exhibit {e.label}) was withdrawn: '
                  f"{_e('; '.join(f'{d.actor}, {local_time(d.ts_ms)}: {d.note}' for d in e.decided('withdrawn')))}</p>"
                  for e in withdrawn)
        + "<h3>How to read this pack</h3>"
        "<p>tagwatch checks recorded tag positions against reported crimes. The <b>path</b> is every recorded "
        "position plus the straight line between two consecutive positions at most G apart, travelled at "
        "constant speed; positions further apart are not joined, because nobody knows where the person was in "
        "between. A subject <b>matches</b> when the path comes within the effective radius (R plus the crime's "
        "location accuracy) of the crime location at some time in the crime window widened by B on each side. "
        "The evidence kind is <i>fix</i> when a recorded position is within the radius in that window, "
        "<i>segment</i> when only the line between two positions is, and <i>unaccounted gap</i> (weaker) when a "
        "gap longer than G leaves time to have been there. Each position's GPS accuracy is shown beside it and "
        "drawn as a circle; it does not widen the radius, so a poor position cannot make a match on its own.</p>"
        "<p>Each exhibit gives an overview map, a detailed map with the radius and every position's accuracy "
        "circle, the table of positions from a little before to a little after the window, the rule parameters "
        "and engine version of the run that found the match, the parts of its score, and the decisions people "
        "made about it. All distances are measured on the British National Grid in metres. All times are "
        "Europe/London local time with their offset from UTC.</p>")


def _exhibit_facts(e: Exhibit) -> str:
    in_w = [p for p in e.positions if p.in_window]
    within = "-" if e.first_within_ms is None else (
        f"first {_e(local_time(e.first_within_ms))}, last {_e(local_time(e.last_within_ms))}; "
        f"in all {_dur(e.within_s)}")
    return _facts([
        ("subject", f"<b>{_e(e.subject_id)}</b> (tag{'s' if len(e.devices) != 1 else ''} {_e(', '.join(e.devices) or '-')})"),
        ("match", f"{e.match_id}, run {e.run_id} ({_e(e.engine_version)})"),
        ("evidence kind", _e(EVIDENCE_LABELS.get(e.evidence, e.evidence))),
        ("closest approach", f"<b>{_m(e.closest_m)}</b> from the crime location at {_e(local_time(e.closest_ms))}"),
        ("within the radius", within),
        *([(("the segment" if e.evidence == "segment" else "the gap"), _between(e))] if e.between else []),
        ("speed and heading there", f"{_speed(e.speed_mps)}, " + (
            "not moving" if e.speed_mps is not None and e.speed_mps < 0.05 else f"heading {_e(compass(e.heading_deg))}")),
        ("window checked", f"{_e(local_time(e.window[0]))} to {_e(local_time(e.window[1]))} "
                           f"(crime window ± {e.buffer_ms / 60000:g} min)"),
        ("positions", f"{len(in_w)} in the window; {len(e.positions) - len(in_w)} more shown from "
                      f"{_e(local_time(e.shown[0]))} to {_e(local_time(e.shown[1]))}"),
        ("score", f"<b>{e.score:.3f}</b>: {'significant' if e.significant else 'not significant'} "
                  f"(threshold {e.threshold:g})"),
    ])


def _between(e: Exhibit) -> str:
    a, b = (e.positions[n - 1] for n in e.between)
    span = _dur((b.ts_ms - a.ts_ms) / 1000)
    if e.evidence == "segment":
        return (f"from position {a.n} ({_e(local_time(a.ts_ms, date=False))}, {a.distance_m:,.0f} m away) to position "
                f"{b.n} ({_e(local_time(b.ts_ms, date=False))}, {b.distance_m:,.0f} m away), {span} apart: "
                f"neither position is within the radius; the straight path between them is")
    return (f"no position between {a.n} ({_e(local_time(a.ts_ms, date=False))}, {a.distance_m:,.0f} m away) and "
            f"{b.n} ({_e(local_time(b.ts_ms, date=False))}, {b.distance_m:,.0f} m away) for {span}, longer than G "
            f"({e.max_gap_ms / 60000:g} min); at {e.max_speed_mps:g} m/s the person could have been at the crime "
            f"location in that time")


def _positions_table(e: Exhibit) -> str:
    if not e.positions:
        return '<p class="warn">No recorded positions in this span.</p>'
    days = {local_time(p.ts_ms)[:10] for p in e.positions}
    one_day = len(days) == 1
    rows = []
    for p in e.positions:
        cls = "within" if p.within_radius else "window" if p.in_window else "context"
        when = "in window" if p.in_window else ("before" if p.ts_ms < e.window[0] else "after")
        rows.append(
            f'<tr class="pos {cls}" data-n="{p.n}" data-ts-ms="{p.ts_ms}" data-distance-m="{p.distance_m:.1f}">'
            f"<td class=\"num\">{p.n}</td><td class=\"time\">{_e(local_time(p.ts_ms, date=not one_day))}</td><td>{when}</td>"
            f"<td class=\"num\">{p.distance_m:,.1f}</td><td>{'yes' if p.within_radius else ''}</td>"
            f"<td class=\"num\">{'-' if p.accuracy_m is None else f'{p.accuracy_m:.0f}'}</td>"
            f"<td class=\"num\">{'gap' if not p.joined else f'{p.speed_mps:.2f}'}</td>"
            f"<td>{_e(compass(p.heading_deg)) if p.joined else ''}</td><td>{_e(p.device)}</td></tr>")
    return (
        '<table class="positions"><colgroup>'
        + "".join(f'<col style="width: {w}%">' for w in ((6, 14, 10, 13, 9, 10, 10, 14, 14) if one_day else (6, 24, 9, 12, 8, 10, 10, 11, 10)))
        + '</colgroup><thead><tr><th class="num">#</th>'
        f'<th>time (Europe/London{", " + next(iter(days)) if one_day else ""})</th><th>when</th>'
        '<th class="num">distance to crime (m)</th><th>within radius</th><th class="num">accuracy (m)</th>'
        '<th class="num">speed (m/s)</th><th>heading</th><th>tag</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
        f'<p class="small">Distance: from the recorded position to the crime location. Accuracy: as reported by the '
        f"tag. Speed and heading: of the straight segment from the previous position to this one; "
        f"<i>gap</i>: more than {e.max_gap_ms / 60000:g} min after the previous position, so not joined. "
        f"Highlighted rows are within the effective radius of {e.effective_radius_m:g} m in the window.</p>")


def _score_table(e: Exhibit) -> str:
    rows = "".join(f'<tr class="part" data-part="{_e(s.name)}"><td>{_e(s.label)}</td><td class="num">{s.value:.4g}</td>'
                   f'<td class="num">{s.weight:g}</td><td class="num">{s.weighted:.4f}</td><td>{_e(s.how)}</td></tr>'
                   for s in e.parts)
    return ('<table class="score keep"><thead><tr><th>part</th><th class="num">value (0-1)</th><th class="num">weight</th>'
            f'<th class="num">weighted</th><th>how</th></tr></thead><tbody>{rows}'
            f'<tr class="total"><td>score</td><td></td><td></td><td class="num">{e.score:.4f}</td>'
            f"<td>{'at or above' if e.significant else 'below'} the threshold of {e.threshold:g}</td></tr></tbody></table>"
            '<p class="small">The score is the weighted sum of the parts (docs/correlation.md). The offence and risk '
            "parts together weigh at most 0.2, so a person's history alone cannot make a match significant.</p>")


def _decisions(e: Exhibit) -> str:
    if not e.decisions:
        return '<p class="warn">No decision has been recorded: this match has not been qualified or authorised.</p>'
    rows = "".join(f"<tr><td>{_e(local_time(d.ts_ms))}</td><td>{_e(d.action)}</td><td>{_e(d.actor)}</td>"
                   f"<td>{_e(d.force or '')}</td><td>{_e(d.note)}</td></tr>" for d in e.decisions)
    return ('<table class="decisions keep"><thead><tr><th>time</th><th>decision</th><th>by</th><th>force</th>'
            f"<th>note</th></tr></thead><tbody>{rows}</tbody></table>")


def _exhibit(p: EvidencePack, e: Exhibit) -> str:
    c = p.crime
    detail = detail_frame(e, c)
    over = overview_frame(e, c)
    base = boundaries_within(over.minx, over.miny, over.maxx, over.maxy)
    items = key_items(c.location_accuracy_m > 0)
    half = (len(items) + 1) // 2
    key = "".join(
        "<tr>" + "".join(f'<td class="icon">{icon}</td><td>{_e(text)}</td>' for icon, text in items[i::half][:2]) + "</tr>"
        for i in range(half))
    params = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td><td>{_e(why)}</td></tr>" for k, v, why in e.params)
    return (
        f'<section class="exhibit" id="exhibit-{e.label}">'
        f"<h2>Exhibit {e.label}: subject {_e(e.subject_id)}, crime {_e(c.force)} {_e(c.crime_ref)}</h2>"
        f"{_exhibit_facts(e)}"
        f'<figure>{overview_map(e, c, base, over, detail, london_locator())}<figcaption><b>{e.label}1. Overview.</b> The positions shown '
        f"({_e(local_time(e.shown[0]))} to {_e(local_time(e.shown[1]))}) around the crime location; the dashed box "
        f"is the detailed map. Width {(over.maxx - over.minx) / 1000:.2f} km. Grid north is up.</figcaption></figure>"
        f'<figure>{detail_map(e, c, detail)}<figcaption><b>{e.label}2. Detail.</b> The effective radius of '
        f"{e.effective_radius_m:g} m around the crime location, every position with its accuracy circle and its number "
        f"in table {e.label}3, and the closest approach ({_m(e.closest_m)} at {_e(local_time(e.closest_ms, date=False))})."
        f" Width {detail.maxx - detail.minx:,.0f} m.</figcaption></figure>"
        f'<div class="keep"><h3>Key</h3><table class="key">{key}</table></div>'
        f"<h3>{e.label}3. Positions</h3>{_positions_table(e)}"
        f'<div class="keep"><h3>{e.label}4. Rule parameters and engine version</h3>'
        f"<table class=\"params\"><thead><tr><th>parameter</th><th>value</th><th>meaning</th></tr></thead>"
        f"<tbody>{params}</tbody></table></div>"
        f'<div class="keep"><h3>{e.label}5. The score and its parts</h3>{_score_table(e)}</div>'
        f'<div class="keep"><h3>{e.label}6. Decisions (who qualified and authorised the match)</h3>{_decisions(e)}</div>'
        f'<div class="statement">{_e(p.statement)}</div>'
        "</section>")


def _footer_text(p: EvidencePack) -> str:
    return (f"{p.crime.force} {p.crime.crime_ref} v{p.crime.version}. Exported by {p.exported_by} at "
            f"{local_time(p.exported_ms)} for: {p.purpose}. {p.software}.")


def render_html(p: EvidencePack) -> str:
    """The whole pack as one HTML document with no external references."""
    footer = _footer_text(p)
    css = CSS.replace("{FOOTER}", footer.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " "))
    return (
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
        f"<title>Evidence pack {_e(p.crime.force)} {_e(p.crime.crime_ref)}</title>"
        f"<style>{css}</style></head><body>"
        f"<section class=\"summary\">{_summary(p)}</section>"
        + "".join(_exhibit(p, e) for e in p.exhibits)
        + f'<footer class="export"><b>Export record.</b> Exported by {_e(p.exported_by)} at '
        f"{_e(local_time(p.exported_ms))} for the purpose: {_e(p.purpose)}. Produced by {_e(p.software)}. "
        f"{_e(ATTRIBUTION)}</footer>"
        "</body></html>\n")
