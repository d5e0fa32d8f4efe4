/* 一张图 (province view) and its 大屏 mode: prefectures as a choropleth (energy, carbon or AQI), every
   park as a circle sized by energy and coloured by its worst open alert, KPIs and a ranking of parks. */
(function () {
  "use strict";
  const { tr, el, $ } = PB;
  const screen = document.body.classList.contains("screen");
  const PALETTES = {
    energy: ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"],
    carbon: ["#f1f3f5", "#cfd5dc", "#a1acb8", "#6b7a8a", "#3b4856"],
  };
  const state = { layer: "energy", map: null, prefectures: null, parksLayer: null, labels: [], levels: [], names: new Map() };
  const parkName = (p) => state.names.get(p.park_id) || p.name;

  PB.unitLabel = function (unit) {
    const key = "unit_" + String(unit || "").toLowerCase().replace("₂", "2");
    return key in PB.boot.t ? tr(key) : unit || "";
  };

  function breaks(values) {
    const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
    if (!sorted.length) return [];
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return [q(0.2), q(0.4), q(0.6), q(0.8)].filter((v, i, a) => i === 0 || v > a[i - 1]);
  }

  function fillFor(value, bounds) {
    if (value === null || value === undefined) return "#d9dee5";
    if (state.layer === "aqi") return PB.aqiColor(value, state.levels);
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i += 1;
    const palette = PALETTES[state.layer];
    return palette[Math.min(palette.length - 1, Math.round((i * (palette.length - 1)) / Math.max(1, bounds.length)))];
  }

  function legend(data, bounds) {
    const unit = PB.unitLabel(data.unit);
    const rows = [];
    if (state.layer === "aqi") {
      state.levels.forEach((lv) =>
        rows.push(el("div", { class: "row" }, el("span", { class: "sw", style: "background:" + lv.color }),
          (lv.upper === null ? ">300" : "≤" + lv.upper) + " " + (PB.lang === "zh" ? lv.category_zh : lv.category_en))));
    } else {
      const edges = [null, ...bounds];
      edges.forEach((low, i) => {
        const high = bounds[i];
        const text = low === null ? "≤ " + PB.num(high) : high === undefined ? "> " + PB.num(low) : PB.num(low) + " – " + PB.num(high);
        rows.push(el("div", { class: "row" }, el("span", { class: "sw", style: "background:" + fillFor(high === undefined ? low + 1 : high, bounds) }), text));
      });
    }
    rows.push(el("div", { class: "row" }, el("span", { class: "sw", style: "background:#d9dee5" }), tr("no_data")));
    const sev = ["critical", "warning", "info", "none"].map((s) =>
      el("span", null, el("span", { class: "dot", style: "background:" + PB.SEVERITY[s] }), " " + PB.sevLabel(s)));
    $("#legend").replaceChildren(
      el("div", { class: "title" }, (data.label ? data.label[PB.lang] : tr("layer_" + state.layer)) + " (" + unit + ")"),
      ...rows,
      el("div", { class: "title", style: "margin-top:6px" }, tr("legend_marker")),
      el("div", { class: "sev" }, sev)
    );
  }

  function kpis(data) {
    const k = data.kpis;
    const card = (label, value, unit, cls) =>
      el("div", { class: "kpi " + (cls || "") }, el("div", { class: "label" }, label),
        el("div", { class: "value" }, value, unit ? el("span", { class: "unit" }, unit) : null));
    $("#kpis").replaceChildren(
      card(tr("kpi_parks"), PB.num(k.parks, 0)),
      card(tr("kpi_enterprises"), PB.num(k.enterprises, 0)),
      card(tr("kpi_energy"), PB.num(k.energy_tce), tr("unit_tce")),
      card(tr("kpi_carbon"), PB.num(k.carbon_tco2), tr("unit_tco2")),
      card(tr("kpi_alerts"), PB.num(k.open_alerts, 0), null, "alert"),
      card(tr("kpi_aqi"), k.aqi === null || k.aqi === undefined ? "—" : PB.num(k.aqi, 0))
    );
    const p = data.period || {};
    const last = p.end ? new Date(new Date(p.end).getTime() - 1).toISOString() : null; // the end is exclusive
    $("#period").textContent = p.start ? tr("period") + " " + PB.date(p.start) + " – " + PB.date(last) : "";
  }

  function ranking(data) {
    const max = Math.max(1e-9, ...data.ranking.map((r) => r.value || 0));
    $("#ranking-unit").textContent = tr("layer_" + state.layer) + " · " + PB.unitLabel(data.unit);
    const items = data.ranking.map((r, i) =>
      el("li", { "data-park": r.park_id, onclick: () => (location.href = "/console/parks/" + encodeURIComponent(r.park_id)) },
        el("span", { class: "no" }, i + 1), el("span", { class: "name", title: parkName(r) }, parkName(r)),
        el("span", { class: "val" }, PB.num(r.value)),
        el("span", { class: "bar", style: "width:" + Math.max(2, (100 * (r.value || 0)) / max) + "%" })));
    if (!items.length) return PB.empty($("#ranking"));
    $("#ranking").replaceChildren(...items);
  }

  function drawPrefectures(data) {
    const values = new Map(data.prefectures.map((p) => [p.region_code, p.value]));
    const bounds = breaks(data.prefectures.map((p) => p.value));
    state.prefectures.eachLayer((layer) => {
      const value = values.get(layer.feature.properties.region_code);
      layer.setStyle({ fillColor: fillFor(value, bounds), fillOpacity: screen ? 0.55 : 0.75 });
      const unit = PB.unitLabel(data.unit);
      layer.bindTooltip(layer.feature.properties.name + "<br>" + tr("layer_" + state.layer) + ": " +
        (value === null || value === undefined ? tr("no_data") : PB.num(value) + " " + unit), { sticky: true });
    });
    legend(data, bounds);
  }

  function drawParks(data) {
    if (state.parksLayer) state.parksLayer.remove();
    const max = Math.max(1e-9, ...data.parks.map((p) => p.energy_tce || 0));
    const markers = data.parks
      .filter((p) => p.lat !== null && p.lon !== null)
      .sort((a, b) => (b.energy_tce || 0) - (a.energy_tce || 0))
      .map((p) => {
        const marker = L.circleMarker([p.lat, p.lon], {
          radius: 6 + 16 * Math.sqrt((p.energy_tce || 0) / max),
          color: screen ? "#cfe8ff" : "#ffffff", weight: 1.5,
          fillColor: PB.SEVERITY[p.worst_severity || "none"], fillOpacity: 0.85, className: "park-marker",
        });
        marker.bindTooltip(
          "<b>" + parkName(p) + "</b><br>" + tr("kpi_energy") + ": " + PB.num(p.energy_tce) + " " + tr("unit_tce") +
          "<br>" + tr("kpi_carbon") + ": " + PB.num(p.carbon_tco2) + " " + tr("unit_tco2") +
          "<br>" + tr("kpi_alerts") + ": " + PB.num(p.open_alerts, 0) + " (" + PB.sevLabel(p.worst_severity) + ")" +
          (p.aqi === null || p.aqi === undefined ? "" : "<br>AQI: " + p.aqi));
        marker.on("click", () => (location.href = "/console/parks/" + encodeURIComponent(p.park_id)));
        return marker;
      });
    state.parksLayer = L.featureGroup(markers).addTo(state.map);
  }

  async function load(layer) {
    state.layer = layer;
    document.querySelectorAll("#layer-switch button").forEach((b) => b.classList.toggle("on", b.dataset.layer === layer));
    try {
      const data = await PB.api("/api/console/province?layer=" + layer);
      kpis(data);
      ranking(data);
      drawPrefectures(data);
      drawParks(data);
      document.body.dataset.loaded = layer;
    } catch (error) {
      PB.fail("#kpis", error);
    }
  }

  async function start() {
    state.map = await PB.map("map", { zoomControl: !screen });
    const [regions, levels, parks] = await Promise.all([
      PB.api("/api/regions?level=prefecture&geometry=true"), PB.aqiLevels(), PB.lang === "en" ? PB.api("/api/parks") : [],
    ]);
    state.levels = levels;
    parks.forEach((p) => p.name_en && state.names.set(p.park_id, p.name_en));
    const features = regions
      .filter((r) => r.geometry)
      .map((r) => ({ type: "Feature", geometry: PB.geometry(r.geometry), properties: { region_code: r.region_code, name: PB.lang === "zh" ? r.name : r.name_en || r.name } }));
    state.prefectures = L.geoJSON({ type: "FeatureCollection", features }, {
      style: { color: screen ? "#5fb3ff" : "#ffffff", weight: 1.2, fillColor: "#d9dee5", fillOpacity: 0.75 },
      className: "prefecture",
    }).addTo(state.map);
    state.map.fitBounds(state.prefectures.getBounds(), { padding: [10, 10] });
    state.prefectures.eachLayer((layer) => {
      const center = layer.getBounds().getCenter();
      state.labels.push(L.tooltip({ permanent: true, direction: "center", className: "pref-label", interactive: false })
        .setLatLng(center).setContent(layer.feature.properties.name).addTo(state.map));
    });
    document.querySelectorAll("#layer-switch button").forEach((b) => b.addEventListener("click", () => load(b.dataset.layer)));
    await load(new URLSearchParams(location.search).get("layer") || "energy");
  }

  async function latestAlerts() {
    const list = await PB.api("/api/alerts?status=open&limit=8");
    if (!list.length) return PB.empty($("#screen-alerts"));
    $("#screen-alerts").replaceChildren(...list.map((a) =>
      el("li", null, el("span", { class: "tag " + a.severity }, PB.sevLabel(a.severity)),
        el("span", { class: "when" }, PB.time(a.ts).slice(5)), el("span", { class: "msg", title: a.message }, a.message))));
  }

  if (screen) {
    latestAlerts().catch((error) => PB.fail("#screen-alerts", error));
    setInterval(() => {
      load(state.layer);
      latestAlerts().catch(() => null);
    }, 60_000);
    const tick = () => ($("#clock").textContent = new Date().toLocaleString(PB.locale, { timeZone: "Asia/Shanghai", hour12: false }));
    tick();
    setInterval(tick, 1000);
  }
  start().catch((error) => PB.fail("#kpis", error));
})();
