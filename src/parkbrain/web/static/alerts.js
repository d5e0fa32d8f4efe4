/* Alerts view: filter by status, severity and park; acknowledge and close (CSRF-protected writes). */
(function () {
  "use strict";
  const { tr, el, $ } = PB;
  const PAGE = 50;
  const state = { offset: 0, names: new Map() };

  async function parks() {
    try {
      const list = await PB.api("/api/parks");
      list.forEach((p) => state.names.set(p.park_id, PB.lang === "zh" ? p.name : p.name_en || p.name));
      $("#park-filter").append(...list.map((p) => el("option", { value: p.park_id }, state.names.get(p.park_id))));
    } catch (error) {
      console.error(error);
    }
  }

  async function load() {
    const form = new FormData($("#filters"));
    const params = new URLSearchParams({ limit: PAGE, offset: state.offset });
    if (form.get("status")) params.set("status", form.get("status"));
    if (form.get("park_id")) params.set("park_id", form.get("park_id"));
    try {
      const page = await PB.paged("/api/alerts?" + params);
      const severity = form.get("severity");
      const rows = severity ? page.rows.filter((a) => a.severity === severity) : page.rows;
      $("#alert-total").textContent = tr("total") + " " + page.total;
      PB.alertTable($("#alerts"), rows, load, state.names);
      $("#page-no").textContent = Math.floor(state.offset / PAGE) + 1 + " / " + Math.max(1, Math.ceil(page.total / PAGE));
      $("#prev").disabled = state.offset === 0;
      $("#next").disabled = state.offset + PAGE >= page.total;
      document.body.dataset.loaded = "alerts";
    } catch (error) {
      PB.fail("#alerts", error);
    }
  }

  $("#filters").addEventListener("change", () => { state.offset = 0; load(); });
  $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(); });
  $("#next").addEventListener("click", () => { state.offset += PAGE; load(); });
  parks().then(load);
})();
