/* Enterprise view: its meters and points, consumption by carrier, monthly energy and carbon, a trend
   chart of any point with range selection (dataZoom), carbon and intensity, alerts. */
(function () {
  "use strict";
  const { tr, el, $ } = PB;
  const enterpriseId = PB.boot.enterprise_id;
  const trend = { chart: null, points: [], days: 7 };

  function header(data) {
    const e = data.enterprise;
    $("#ent-name").textContent = e.name;
    $("#crumb-ent").textContent = e.name;
    document.title = e.name + " · 园区大脑 ParkBrain";
    const crumb = $("#crumb-park");
    crumb.textContent = e.park_id;
    crumb.href = "/console/parks/" + encodeURIComponent(e.park_id);
    PB.api("/api/parks/" + encodeURIComponent(e.park_id))
      .then((park) => (crumb.textContent = PB.lang === "zh" ? park.name : park.name_en || park.name))
      .catch(() => null);
    const item = (label, value) => (value === null || value === undefined || value === "" ? null : el("span", null, label + " ", el("b", null, value)));
    $("#ent-meta").replaceChildren(...[
      item(tr("industry"), e.industry_name),
      item(tr("uscc"), e.uscc),
      item(tr("employees"), e.employees === undefined ? null : PB.num(e.employees, 0)),
      item(tr("output_value"), e.output_value_10k_cny === undefined ? null : PB.num(e.output_value_10k_cny, 0)),
      e.key_energy_user ? el("span", { class: "tag info" }, tr("key_energy_user")) : null,
    ].filter(Boolean));
    const month = data.monthly.length ? data.monthly[data.monthly.length - 1] : null;
    const card = (label, value, unit, title) =>
      el("div", { class: "kpi", title: title || null }, el("div", { class: "label" }, label),
        el("div", { class: "value" }, value, unit ? el("span", { class: "unit" }, unit) : null));
    $("#ent-kpis").replaceChildren(
      card(tr("kpi_energy") + (month ? " · " + month.month : ""), PB.num(month ? month.energy_tce : null), tr("unit_tce")),
      card(tr("carbon"), PB.num(data.carbon ? data.carbon.tco2 : null), tr("unit_tco2"),
        data.carbon && data.carbon.factor ? tr("factor") + ": " + data.carbon.factor.name + " " + data.carbon.factor.value + " (" + data.carbon.factor.source + ")" : null),
      card(tr("intensity"), PB.num(data.intensity_tce_per_10k_cny, 3)),
      card(tr("open_alerts"), PB.num(data.alerts.filter((a) => a.status === "open").length, 0))
    );
  }

  function consumption(rows) {
    const chart = PB.chart("#carrier-chart");
    chart.setOption({
      tooltip: { trigger: "item", formatter: (p) => p.name + "<br>" + PB.num(p.data.raw.value) + " " + p.data.raw.unit + "<br>" + PB.num(p.value) + " " + tr("unit_tce") + " (" + p.percent + "%)" },
      legend: { orient: "vertical", right: 10, top: "middle", formatter: (name) => {
        const row = rows.find((r) => PB.carrierLabel(r.carrier) === name);
        return row ? name + "  " + PB.num(row.tce) + " " + tr("unit_tce") : name;
      } },
      series: [{ type: "pie", radius: ["40%", "68%"], center: ["35%", "50%"], minShowLabelAngle: 12,
        label: { formatter: (p) => p.name + "\n" + p.percent + "%" }, labelLayout: { hideOverlap: true },
        data: rows.map((r) => ({ name: PB.carrierLabel(r.carrier), value: r.tce, raw: r })) }],
    });
  }

  function monthly(rows) {
    const chart = PB.chart("#monthly-chart");
    chart.setOption({
      color: ["#1456b8", "#9e9ac8"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 12, right: 12, top: 40, bottom: 12, containLabel: true },
      xAxis: { type: "category", data: rows.map((r) => r.month) },
      yAxis: [{ type: "value", name: tr("unit_tce") }, { type: "value", name: tr("unit_tco2"), splitLine: { show: false } }],
      series: [
        { name: tr("kpi_energy"), type: "bar", barMaxWidth: 22, data: rows.map((r) => r.energy_tce) },
        { name: tr("kpi_carbon"), type: "line", yAxisIndex: 1, data: rows.map((r) => r.carbon_tco2) },
      ],
    });
  }

  function meters(list) {
    trend.points = list.flatMap((m) => m.points.map((p) => Object.assign({ device: m.name || m.device_id }, p)));
    PB.table($("#meters"), [
      [tr("device"), (p) => p.device],
      [tr("quantity"), (p) => PB.quantityLabel(p.quantity) + (p.energy_carrier ? " · " + PB.carrierLabel(p.energy_carrier) : "")],
      [tr("latest"), (p) => PB.num(p.latest_value) + " " + (p.unit || ""), "num"],
      [tr("latest_ts"), (p) => PB.time(p.latest_ts)],
      [tr("trend"), (p) => el("button", { class: "btn", onclick: () => selectPoint(p.point_id) }, tr("trend"))],
    ], trend.points);
    const select = $("#trend-point");
    select.replaceChildren(...trend.points.map((p) => el("option", { value: p.point_id }, p.device + " · " + PB.quantityLabel(p.quantity) + " (" + p.unit + ")")));
    select.addEventListener("change", () => drawTrend());
    const preferred = trend.points.find((p) => p.quantity === "active_power") || trend.points.find((p) => p.quantity === "electric_energy") || trend.points[0];
    return preferred ? selectPoint(preferred.point_id) : null;
  }

  function selectPoint(pointId) {
    $("#trend-point").value = pointId;
    return drawTrend();
  }

  async function drawTrend() {
    const point = trend.points.find((p) => p.point_id === $("#trend-point").value);
    if (!point) return;
    const end = point.latest_ts ? new Date(new Date(point.latest_ts).getTime() + 1000) : new Date();
    const start = new Date(end.getTime() - trend.days * 86400 * 1000);
    const url = "/api/points/" + encodeURIComponent(point.point_id) + "/readings?start=" + encodeURIComponent(start.toISOString()) +
      "&end=" + encodeURIComponent(end.toISOString()) + "&interval=auto";
    try {
      const data = await PB.api(url);
      const cumulative = data.value_kind === "cumulative";
      const rows = data.readings.map((r) => [r.ts, cumulative ? r.delta : r.value]);
      const ahead = await forecast(point, data.interval);
      trend.chart = trend.chart || PB.chart("#trend-chart");
      trend.chart.setOption({
        color: ["#1456b8"],
        tooltip: { trigger: "axis", valueFormatter: (v) => PB.num(v) + " " + data.unit },
        legend: { top: 0, data: [PB.quantityLabel(point.quantity), ...(ahead.length ? [tr("forecast"), bandName(ahead)] : [])] },
        grid: { left: 12, right: 24, top: 30, bottom: 56, containLabel: true },
        xAxis: { type: "time", axisLabel: { formatter: (v) => PB.time(new Date(v).toISOString()).replace(/^\d{4}[\/-]/, "") , hideOverlap: true } },
        yAxis: { type: "value", name: PB.quantityLabel(data.quantity) + " (" + data.unit + (cumulative ? " / " + data.interval : "") + ")", nameTextStyle: { align: "left" } },
        dataZoom: [{ type: "inside" }, { type: "slider", bottom: 12 }],
        series: [{ type: cumulative ? "bar" : "line", showSymbol: false, name: PB.quantityLabel(point.quantity), data: rows, areaStyle: cumulative ? undefined : { opacity: 0.08 } },
          ...forecastSeries(ahead)],
      }, true);
    } catch (error) {
      PB.fail("#trend-chart", error);
      trend.chart = null;
    }
  }

  /** The next day's forecast of the point (GET /api/points/{id}/forecast), or none when it has too little history. */
  async function forecast(point, interval) {
    const step = ["15m", "1h", "1d"].includes(interval) ? interval : "1h";
    try {
      const result = await PB.api("/api/points/" + encodeURIComponent(point.point_id) + "/forecast?horizon_days=1&interval=" + step);
      return result.rows.map((r) => Object.assign({ coverage: result.interval_coverage_nominal }, r));
    } catch (_) {
      return [];
    }
  }

  const bandName = (rows) => tr("forecast_band") + (rows.length && rows[0].coverage ? " " + Math.round(rows[0].coverage * 100) + "%" : "");

  function forecastSeries(rows) {
    if (!rows.length) return [];
    const band = { type: "line", stack: "band", showSymbol: false, lineStyle: { opacity: 0 }, tooltip: { show: false } };
    return [
      Object.assign({ name: "lower", data: rows.map((r) => [r.ts, r.lower]) }, band),
      Object.assign({ name: bandName(rows), data: rows.map((r) => [r.ts, r.upper - r.lower]), areaStyle: { color: "rgba(250,140,22,0.2)" }, itemStyle: { color: "rgba(250,140,22,0.5)" } }, band),
      { name: tr("forecast"), type: "line", showSymbol: false, data: rows.map((r) => [r.ts, r.forecast]), lineStyle: { type: "dashed", width: 2 }, itemStyle: { color: "#fa8c16" } },
    ];
  }

  async function refreshAlerts() {
    const data = await PB.api("/api/console/enterprises/" + encodeURIComponent(enterpriseId));
    PB.alertTable($("#alerts"), data.alerts, refreshAlerts);
  }

  async function start() {
    document.querySelectorAll("#trend-range button").forEach((b) =>
      b.addEventListener("click", () => {
        trend.days = Number(b.dataset.days);
        document.querySelectorAll("#trend-range button").forEach((x) => x.classList.toggle("on", x === b));
        drawTrend();
      }));
    try {
      const data = await PB.api("/api/console/enterprises/" + encodeURIComponent(enterpriseId));
      header(data);
      consumption(data.consumption);
      monthly(data.monthly);
      PB.alertTable($("#alerts"), data.alerts, refreshAlerts);
      await meters(data.meters);
      document.body.dataset.loaded = "enterprise";
    } catch (error) {
      PB.fail("#ent-meta", error);
    }
  }
  start();
})();
