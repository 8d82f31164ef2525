// The offline base map: London borough and LSOA boundaries shipped with tagwatch, an optional
// tile server, zones drawn from order conditions, positions and tracks.
"use strict";
(function () {
  const { api } = TW;
  let config = null, boroughs = null, lsoas = null;
  const ZONE_COLOURS = { exclusion: "#c0392b", curfew: "#2471a3", attendance: "#1e8449" };

  async function baseMap(el) {
    config = config || await api("/api/map/config");
    const map = L.map(el, { preferCanvas: true }).setView(config.centre, config.zoom);
    if (config.tile_url) L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19 }).addTo(map);
    map.attributionControl.addAttribution(config.attribution);
    boroughs = boroughs || await api("/api/map/boroughs");
    L.geoJSON(boroughs, {
      style: { color: "#34495e", weight: 1.5, fill: true, fillColor: "#dfe6e9", fillOpacity: 0.35 },
      onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { sticky: true }),
      interactive: true,
    }).addTo(map);
    // LSOAs only when zoomed in: 4,835 small polygons are clutter at city scale.
    const lsoaLayer = L.layerGroup();
    const syncLsoas = async () => {
      if (map.getZoom() >= config.lsoa_min_zoom) {
        if (!lsoas) {
          lsoas = await api("/api/map/lsoas");
          L.geoJSON(lsoas, { style: { color: "#7f8c8d", weight: 0.6, fill: false }, interactive: false }).addTo(lsoaLayer);
        }
        lsoaLayer.addTo(map);
        el.dataset.lsoas = "shown";
      } else { lsoaLayer.remove(); el.dataset.lsoas = "hidden"; }
    };
    map.on("zoomend", syncLsoas);
    syncLsoas();
    return map;
  }

  function drawZones(map, zones) {
    const layers = [];
    for (const z of zones) {
      const colour = ZONE_COLOURS[z.kind] || "#555";
      const label = `${z.subject_id}: ${z.kind} ${z.id}${z.schedule ? " (" + z.schedule + ")" : ""}`;
      const style = { color: colour, weight: 2, fillOpacity: 0.15, dashArray: z.kind === "exclusion" ? null : "4 3" };
      const layer = L.geoJSON(z.zone, {
        style: () => style,
        pointToLayer: (f, latlng) => L.circle(latlng, { ...style, radius: (f.properties || {}).radius_m || 50 }),
      });
      // A bare Point geometry (no Feature) carries no radius: draw a small circle.
      if (z.zone.type === "Point") {
        const [lon, lat] = z.zone.coordinates;
        layers.push(L.circle([lat, lon], { ...style, radius: 50 }).bindTooltip(label).addTo(map));
        continue;
      }
      layers.push(layer.bindTooltip(label).addTo(map));
    }
    return layers;
  }

  const positionLabel = (p) => `${p.subject_id} - ${TW.when(p.ts_ms)}${p.accuracy_m ? " (±" + Math.round(p.accuracy_m) + " m)" : ""}`;

  // A subject's marker: drawn at p, or moved there when it exists (a position from the live stream).
  function placePosition(map, p, marker) {
    if (marker) return marker.setLatLng([p.lat, p.lon]).setTooltipContent(positionLabel(p));
    return L.circleMarker([p.lat, p.lon], {
      radius: 6, color: "#fff", weight: 1.5, fillColor: "#1f5f8b", fillOpacity: 0.95,
    }).bindTooltip(positionLabel(p)).addTo(map);
  }

  function drawPositions(map, positions) {
    if (positions.length) {
      map.fitBounds(L.latLngBounds(positions.map((p) => [p.lat, p.lon])), { padding: [40, 40], maxZoom: 13 });
    }
    return positions.map((p) => placePosition(map, p));
  }

  function drawTrack(map, points) {
    const pts = points.filter((p) => p.lat !== null && p.lon !== null);
    if (!pts.length) return null;
    const line = L.polyline(pts.map((p) => [p.lat, p.lon]), { color: "#8e44ad", weight: 3, opacity: 0.8 }).addTo(map);
    map.fitBounds(line.getBounds(), { padding: [30, 30], maxZoom: 16 });
    return { line, pts };
  }

  function legend() {
    return TW.h("div", { class: "legend muted" }, Object.entries(ZONE_COLOURS).map(([k, c]) =>
      TW.h("span", {}, TW.h("i", { class: "swatch", style: `background:${c}` }), `${k} zone`)),
      TW.h("span", {}, "Boundaries: London boroughs; LSOAs when zoomed in (ONS, OGL v3)"));
  }

  TW.map = { baseMap, drawZones, drawPositions, placePosition, drawTrack, legend };
})();
