/* ParkBrain console: shared helpers. Every number comes from the REST API (same-origin session cookie);
   writes send X-CSRF-Token from GET /api/auth/me. No business rules here: only fetching and drawing. */
(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const lang = boot.lang;
  const locale = lang === "zh" ? "zh-CN" : "en-US";
  const PB = (window.PB = { boot, lang, locale });

  PB.tr = (key) => (key in boot.t ? boot.t[key] : key);

  async function errorOf(response) {
    try {
      const body = await response.json();
      return (body.error && body.error.message) || response.statusText;
    } catch (_) {
      return response.status + " " + response.statusText;
    }
  }

  PB.api = async function (path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("401");
    }
    if (!response.ok) throw new Error(response.status + ": " + (await errorOf(response)));
    return response.json();
  };

  PB.paged = async function (path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status + ": " + (await errorOf(response)));
    return { rows: await response.json(), total: Number(response.headers.get("X-Total-Count") || 0) };
  };

  let mePromise = null;
  PB.me = () => (mePromise = mePromise || PB.api("/api/auth/me"));

  async function write(path, init) {
    const me = await PB.me();
    init.credentials = "same-origin";
    init.headers = Object.assign({ "X-CSRF-Token": me.csrf_token || "" }, init.headers || {});
    const response = await fetch(path, init);
    if (!response.ok) throw new Error(response.status + ": " + (await errorOf(response)));
    return response.json();
  }
  PB.post = (path, body) =>
    write(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  PB.upload = (path, formData) => write(path, { method: "POST", body: formData });

  let configPromise = null;
  PB.config = () =>
    (configPromise =
      configPromise || PB.api("/api/console/config").catch(() => ({ tile_url: null, tile_attribution: null })));

  let levelsPromise = null;
  /** AQI levels with their colours (HJ 633 表2), from the API's reference tables. */
  PB.aqiLevels = () =>
    (levelsPromise = levelsPromise || PB.api("/api/air/standards").then((s) => s.levels).catch(() => []));
  PB.aqiColor = function (aqi, levels) {
    if (aqi === null || aqi === undefined) return "#c8d0da";
    for (const lv of levels) if (lv.upper === null || aqi <= lv.upper) return lv.color;
    return "#7E0023";
  };
  PB.aqiCategory = function (aqi, levels) {
    for (const lv of levels) if (lv.upper === null || aqi <= lv.upper) return lang === "zh" ? lv.category_zh : lv.category_en;
    return "";
  };

  PB.SEVERITY = { critical: "#d4380d", warning: "#fa8c16", info: "#1677ff", none: "#389e0d" };
  PB.sevLabel = (s) => PB.tr("sev_" + (s || "none"));
  PB.statusLabel = (s) => PB.tr("status_" + s);
  PB.carrierLabel = (c) => (boot.t["carrier_" + c] ? PB.tr("carrier_" + c) : c);
  PB.quantityLabel = (q) => (boot.t["q_" + q] ? PB.tr("q_" + q) : q);

  PB.num = function (value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    const d = digits === undefined ? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 1 : 2) : digits;
    return Number(value).toLocaleString(locale, { maximumFractionDigits: d, minimumFractionDigits: 0 });
  };
  /** Times are UTC in the API and shown in Asia/Shanghai. */
  PB.time = function (iso, withDate) {
    if (!iso) return "—";
    const opts = { timeZone: "Asia/Shanghai", hour12: false, hour: "2-digit", minute: "2-digit" };
    if (withDate !== false) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
    return new Date(iso).toLocaleString(locale, opts);
  };
  PB.date = (iso) =>
    new Date(iso).toLocaleDateString(locale, { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit" });

  PB.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };
  PB.$ = (selector) => document.querySelector(selector);

  PB.fail = function (container, error) {
    if (typeof container === "string") container = PB.$(container);
    if (!container) return;
    container.replaceChildren(PB.el("div", { class: "error" }, PB.tr("load_failed") + ": " + error.message));
    console.error(error);
  };
  PB.empty = (container) => container.replaceChildren(PB.el("div", { class: "empty" }, PB.tr("no_data")));

  /** A table: columns are [label, row => cell, className]. */
  PB.table = function (container, columns, rows, rowAttrs) {
    if (!rows || !rows.length) return PB.empty(container);
    const head = PB.el("tr", null, columns.map((c) => PB.el("th", { class: c[2] }, c[0])));
    const body = rows.map((row) =>
      PB.el("tr", rowAttrs ? rowAttrs(row) : null, columns.map((c) => PB.el("td", { class: c[2] }, c[1](row)))));
    container.replaceChildren(PB.el("table", { class: "tbl" }, PB.el("thead", null, head), PB.el("tbody", null, body)));
  };

  PB.tag = (cls, text) => PB.el("span", { class: "tag " + (cls || "") }, text);

  /** The alert table shared by the park, enterprise and alerts pages; onChange after a write; with
      parkNames (park_id → name) a park column. */
  PB.alertTable = function (container, alerts, onChange, parkNames) {
    const act = (alert, action) => async (event) => {
      event.target.disabled = true;
      try {
        await PB.post("/api/alerts/" + encodeURIComponent(alert.alert_id) + "/" + action, {});
        if (onChange) onChange();
      } catch (error) {
        event.target.disabled = false;
        alert_(error);
      }
    };
    const alert_ = (error) => window.alert(PB.tr("action_failed") + ": " + error.message);
    const parkColumn = parkNames
      ? [[PB.tr("park"), (a) => PB.el("a", { href: "/console/parks/" + encodeURIComponent(a.park_id) }, parkNames.get(a.park_id) || a.park_id)]]
      : [];
    PB.table(container, [
      [PB.tr("time"), (a) => PB.time(a.ts)],
      ...parkColumn,
      [PB.tr("severity"), (a) => PB.tag(a.severity, PB.sevLabel(a.severity))],
      [PB.tr("message"), (a) => a.message, "wrap"],
      [PB.tr("status"), (a) => PB.tag(a.status, PB.statusLabel(a.status))],
      [PB.tr("actions"), (a) => [
        a.status === "open" ? PB.el("button", { class: "btn ack", onclick: act(a, "acknowledge") }, PB.tr("acknowledge")) : null,
        a.status !== "closed" ? PB.el("button", { class: "btn close", onclick: act(a, "close") }, PB.tr("close")) : null,
      ]],
    ], alerts, (a) => ({ "data-alert": a.alert_id }));
  };

  const charts = [];
  /** An ECharts instance in the page's language and theme, resized with the window. */
  PB.chart = function (selector) {
    const node = typeof selector === "string" ? PB.$(selector) : selector;
    const chart = echarts.init(node, document.body.classList.contains("screen") ? "dark" : null, {
      locale: lang === "zh" ? "ZH" : "EN",
      renderer: "canvas",
    });
    charts.push(chart);
    return chart;
  };
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

  PB.geometry = (g) => (typeof g === "string" ? JSON.parse(g) : g);

  /** A Leaflet map whose base layer is the boundaries GeoJSON; a tile layer only when configured. */
  PB.map = async function (selector, options) {
    const map = L.map(selector, Object.assign({ zoomSnap: 0.25, attributionControl: true, preferCanvas: false }, options || {}));
    map.attributionControl.setPrefix("Leaflet");
    const config = await PB.config();
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 18 }).addTo(map);
    }
    return map;
  };
})();
