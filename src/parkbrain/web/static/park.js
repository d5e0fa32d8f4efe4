/* Park view: boundary and buildings on the map, enterprises with KPIs, the park load curve (today,
   yesterday, same day last week), air quality now and the last 7 days, open alerts. */
(function () {
  "use strict";
  const { tr, el, $ } = PB;
  const parkId = PB.boot.park_id;

  function header(park) {
    const name = PB.lang === "zh" ? park.name : park.name_en || park.name;
    $("#park-name").textContent = name;
    $("#crumb-park").textContent = name;
    document.title = name + " · 园区大脑 ParkBrain";
    const item = (label, value) => (value === null || value === undefined || value === "" ? null : el("span", null, label + " ", el("b", null, value)));
    $("#park-meta").replaceChildren(...[
      item(tr("prefecture"), park.region_name),
      item(tr("kind"), park.kind),
      item(tr("approved_area"), park.approved_area_ha === undefined ? null : PB.num(park.approved_area_ha)),
      item(tr("leading_industries"), Array.isArray(park.leading_industries) ? park.leading_industries.join("、") : park.leading_industries),
    ].filter(Boolean));
  }

  async function drawMap(data) {
    const map = await PB.map("park-map");
    const layers = [];
    const park = data.park;
    if (park.boundary) {
      layers.push(L.geoJSON(PB.geometry(park.boundary), { style: { color: "#1456b8", weight: 2, fillColor: "#7fb2ff", fillOpacity: 0.12, dashArray: "6 4" }, className: "park-boundary" }));
    }
    for (const b of data.buildings) {
      if (!b.footprint) continue;
      const layer = L.geoJSON(PB.geometry(b.footprint), { style: { color: "#5a6b7f", weight: 1, fillColor: "#9fb3c8", fillOpacity: 0.7 }, className: "building" });
      layer.bindTooltip(b.name + (b.floors ? " · " + b.floors + tr("floors") : ""));
      layers.push(layer);
    }
    const max = Math.max(1e-9, ...data.enterprises.map((e) => e.energy_tce || 0));
    for (const e of data.enterprises) {
      if (e.lat === null || e.lon === null || e.lat === undefined) continue;
      const marker = L.circleMarker([e.lat, e.lon], {
        radius: 4 + 8 * Math.sqrt((e.energy_tce || 0) / max), color: "#fff", weight: 1,
        fillColor: e.open_alerts ? PB.SEVERITY.warning : "#13a8a8", fillOpacity: 0.9, className: "enterprise-marker",
      });
      marker.bindTooltip("<b>" + e.name + "</b><br>" + PB.num(e.energy_tce) + " " + tr("unit_tce"));
      marker.on("click", () => (location.href = "/console/enterprises/" + encodeURIComponent(e.enterprise_id)));
      layers.push(marker);
    }
    const group = L.featureGroup(layers).addTo(map);
    if (layers.length) map.fitBounds(group.getBounds(), { padding: [16, 16], maxZoom: 16 });
    else map.setView([park.lat, park.lon], 14);
  }

  function enterprises(list) {
    const rows = [...list].sort((a, b) => (b.energy_tce || 0) - (a.energy_tce || 0));
    $("#ent-count").textContent = tr("total") + " " + rows.length;
    PB.table($("#enterprises"), [
      [tr("enterprise"), (e) => el("a", { href: "/console/enterprises/" + encodeURIComponent(e.enterprise_id), class: "ent-link" }, e.name)],
      [tr("industry"), (e) => e.industry_name || ""],
      [tr("energy_kwh"), (e) => PB.num(e.energy_kwh, 0), "num"],
      [tr("energy_tce"), (e) => PB.num(e.energy_tce), "num"],
      [tr("carbon_tco2"), (e) => PB.num(e.carbon_tco2), "num"],
      [tr("open_alerts"), (e) => PB.num(e.open_alerts, 0), "num"],
    ], rows);
  }

  function slot(iso) {
    return new Date(iso).toLocaleTimeString("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  function loadCurve(curve) {
    const slots = [];
    for (let m = 0; m < 24 * 60; m += 15) slots.push(String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0"));
    const series = ["today", "yesterday", "last_week"].map((key, i) => {
      const byslot = new Map((curve[key] || []).map((r) => [slot(r.ts), r.value]));
      return {
        name: tr(key), type: "line", smooth: true, showSymbol: false, data: slots.map((s) => (byslot.has(s) ? byslot.get(s) : null)),
        lineStyle: { width: i === 0 ? 2.5 : 1.5, type: i === 2 ? "dashed" : "solid" }, areaStyle: i === 0 ? { opacity: 0.08 } : undefined,
      };
    });
    const chart = PB.chart("#load-chart");
    chart.setOption({
      color: ["#1456b8", "#13a8a8", "#fa8c16"],
      tooltip: { trigger: "axis", valueFormatter: (v) => (v === null ? "—" : PB.num(v) + " " + tr("unit_kw")) },
      legend: { top: 0 },
      grid: { left: 12, right: 20, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: slots, boundaryGap: false, axisLabel: { interval: 15 } },
      yAxis: { type: "value", name: tr("power_kw"), nameTextStyle: { align: "left" } },
      series,
    });
  }

  function levelName(level, levels) {
    const found = levels.find((lv) => lv.level === level);
    return found && PB.lang === "zh" ? found.name_zh : level || "—";
  }

  async function air(data) {
    const levels = await PB.aqiLevels();
    const now = data.now;
    if (!now) PB.empty($("#air-now"));
    else {
      $("#air-now").replaceChildren(
        el("div", { class: "aqi", style: "background:" + PB.aqiColor(now.aqi, levels) }, now.aqi),
        el("div", null,
          el("div", { class: "cat" }, PB.lang === "zh" ? now.category : now.category_en || PB.aqiCategory(now.aqi, levels)),
          el("div", { class: "muted" }, tr("level") + " " + levelName(now.level, levels)),
          el("div", { class: "muted" }, tr("primary_pollutant") + ": " + (now.primary_pollutant || tr("none"))),
          el("div", { class: "muted" }, PB.time(now.time))));
    }
    const days = data.days || [];
    const chart = PB.chart("#aqi-chart");
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 12, right: 12, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: days.map((d) => d.date.slice(5)) },
      yAxis: { type: "value", name: "AQI" },
      series: [{ type: "bar", name: "AQI", barMaxWidth: 28, label: { show: true, position: "top" },
        data: days.map((d) => ({ value: d.aqi, itemStyle: { color: PB.aqiColor(d.aqi, levels), borderColor: "#8896a5", borderWidth: 0.5 } })) }],
    });
  }

  async function refreshAlerts() {
    const open = await PB.api("/api/alerts?status=open&limit=50&park_id=" + encodeURIComponent(parkId));
    PB.alertTable($("#alerts"), open, refreshAlerts);
  }

  async function start() {
    try {
      const data = await PB.api("/api/console/parks/" + encodeURIComponent(parkId));
      header(data.park);
      enterprises(data.enterprises);
      loadCurve(data.load_curve);
      PB.alertTable($("#alerts"), data.alerts, refreshAlerts);
      await Promise.all([drawMap(data), air(data.air)]);
      document.body.dataset.loaded = "park";
    } catch (error) {
      PB.fail("#park-meta", error);
    }
  }
  start();
})();
