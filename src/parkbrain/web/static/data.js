/* Data view: browse the park data model's tables, import a file (multipart, CSRF), the import lineage
   and the data-quality report. */
(function () {
  "use strict";
  const { tr, el, $ } = PB;
  const PAGE = 50;
  const state = { offset: 0 };
  const COLUMNS = {
    enterprises: ["enterprise_id", "name", "park_id", "industry_name", "employees", "output_value_10k_cny", "key_energy_user"],
    buildings: ["building_id", "name", "park_id", "floors", "area_m2"],
    devices: ["device_id", "name", "kind", "park_id", "enterprise_id", "vendor", "model"],
    points: ["point_id", "quantity", "unit", "value_kind", "energy_carrier", "interval_s"],
  };

  const label = (prefix, name) => (PB.boot.t[prefix + name] ? tr(prefix + name) : name);
  const cell = (v) => (v === null || v === undefined ? "" : typeof v === "number" ? PB.num(v) : typeof v === "boolean" ? tr(v ? "yes" : "no") : String(v));

  async function browse() {
    const table = $("#table-select").value;
    try {
      const page = await PB.paged("/api/" + table + "?limit=" + PAGE + "&offset=" + state.offset);
      const cols = COLUMNS[table];
      PB.table($("#table"), cols.map((c) => [label("col_", c), (r) => cell(r[c]), typeof (page.rows[0] || {})[c] === "number" ? "num" : null]), page.rows);
      $("#table-total").textContent = tr("total") + " " + page.total;
      $("#page-no").textContent = Math.floor(state.offset / PAGE) + 1 + " / " + Math.max(1, Math.ceil(page.total / PAGE));
      $("#prev").disabled = state.offset === 0;
      $("#next").disabled = state.offset + PAGE >= page.total;
    } catch (error) {
      PB.fail("#table", error);
    }
  }

  async function imports() {
    try {
      const rows = await PB.api("/api/imports?limit=50");
      PB.table($("#imports"), [
        [tr("time"), (r) => PB.time(r.finished_at)],
        [tr("file"), (r) => r.file_name],
        [tr("table"), (r) => r.target],
        [tr("rows"), (r) => PB.num(r.rows_written, 0), "num"],
        [tr("who"), (r) => r.actor],
      ], rows);
    } catch (error) {
      PB.fail("#imports", error);
    }
  }

  /** The last quality report computed (GET /api/console/quality answers at once); while one is being
      computed the page says so and asks again. */
  async function quality(polls) {
    polls = polls || 0;
    try {
      const snap = await PB.api("/api/console/quality");
      if (snap.status === "error") throw new Error(snap.error);
      if (snap.status === "computing") {
        $("#quality").replaceChildren(el("div", { class: "muted" }, tr("quality_computing")));
        if (polls < 120) setTimeout(() => quality(polls + 1), 2000);
        return;
      }
      const report = snap.report;
      const dims = Object.keys(report.dimensions || {});
      const rows = Object.entries(report.tables || {}).map(([name, v]) => Object.assign({ table: name }, v));
      PB.table($("#quality"), [
        [tr("table"), (r) => label("tbl_", r.table)],
        [tr("rows"), (r) => PB.num(r.rows, 0), "num"],
        [tr("score"), (r) => PB.num(r.score, 1), "num"],
        ...dims.map((d) => [label("dim_", d), (r) => (r.dimensions && r.dimensions[d] ? PB.num(r.dimensions[d].score, 1) : "—"), "num"]),
      ], rows);
      const summary = dims.map((d) => label("dim_", d) + " " + PB.num(report.dimensions[d], 1)).join(" · ");
      const when = tr("quality_generated") + " " + PB.time(snap.generated_at) + (snap.refreshing ? " · " + tr("quality_refreshing") : "");
      $("#quality").prepend(
        el("div", { class: "score" }, tr("score") + ": " + PB.num(report.score, 1)),
        el("div", { class: "muted" }, summary),
        el("div", { class: "muted", id: "quality-time" }, when));
      document.body.dataset.loaded = "data";
      if (snap.refreshing && polls < 120) setTimeout(() => quality(polls + 1), 5000);
    } catch (error) {
      PB.fail("#quality", error);
    }
  }

  $("#import-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    if (!form.get("as")) form.delete("as");
    if (!form.get("park_id")) form.delete("park_id");
    $("#import-result").textContent = tr("loading");
    try {
      const result = await PB.upload("/api/imports", form);
      const written = Object.entries(result.rows_written || {}).map(([table, n]) => label("tbl_", table) + " " + PB.num(n, 0));
      $("#import-result").textContent = tr("imported") + ": " + (written.length ? written.join(", ") : JSON.stringify(result));
      imports();
      browse();
    } catch (error) {
      PB.fail("#import-result", error);
    }
  });
  $("#table-select").addEventListener("change", () => { state.offset = 0; browse(); });
  $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); browse(); });
  $("#next").addEventListener("click", () => { state.offset += PAGE; browse(); });
  PB.api("/api/parks")
    .then((parks) => $("#import-park").append(...parks.map((p) => el("option", { value: p.park_id }, PB.lang === "zh" ? p.name : p.name_en || p.name))))
    .catch(() => null);
  browse();
  imports();
  quality();
})();
