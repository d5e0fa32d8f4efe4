/* 问答: the park assistant's chat page. Each question goes to POST /api/ask; each answer shows its text,
   the rows as a table (and a chart when a column is numeric), the SQL that ran, the structured query
   and the sources (policy paragraphs with document and section; demo documents marked 演示). Clarify
   options ask again. No rules here: the assistant decides, the page only draws. */
(function () {
  "use strict";
  const { tr, el, $ } = PB;
  const thread = $("#thread");
  let asked = 0;

  const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
  const labels = PB.boot.columns || {};
  const colLabel = (c) => labels[c] || c;

  /** Index of the first numeric column and of the first text column (the label), or -1. */
  function shape(columns, rows) {
    const numeric = columns.findIndex((_, i) => rows.some((r) => isNumber(r[i])) && rows.every((r) => r[i] === null || isNumber(r[i])));
    const label = columns.findIndex((_, i) => i !== numeric && rows.some((r) => typeof r[i] === "string"));
    return { numeric, label };
  }

  function table(columns, rows) {
    const wrap = el("div", { class: "table-wrap answer-table" });
    const cell = (v) => (isNumber(v) ? PB.num(v) : v === null || v === undefined ? "—" : typeof v === "boolean" ? tr(v ? "yes" : "no") : String(v));
    const cols = columns.map((c, i) => [colLabel(c), (r) => cell(r[i]),
      rows.some((r) => isNumber(r[i])) ? "num" : null]);
    PB.table(wrap, cols, rows);
    return wrap;
  }

  /** A bar chart of the metric's column over the label column (a line when the labels are times); only
      for answers of a structured query (a policy answer's rank or score is no figure to draw). */
  function chart(answer) {
    const columns = answer.columns || [];
    const rows = answer.rows || [];
    if (!answer.query || !rows.length) return null;
    const found = shape(columns, rows);
    const metric = columns.indexOf(answer.query.metric);
    const numeric = metric >= 0 && rows.some((r) => isNumber(r[metric])) ? metric : found.numeric;
    const label = found.label;
    if (numeric < 0) return null;
    const node = el("div", { class: "chart answer-chart" });
    requestAnimationFrame(() => {
      const labels = rows.map((r, i) => (label >= 0 ? String(r[label]) : String(i + 1)));
      const timeLike = label >= 0 && /^(day|week|month|quarter|year)$/.test(columns[label]);
      const c = PB.chart(node);
      c.setOption({
        grid: { left: 70, right: 20, top: 30, bottom: timeLike ? 40 : 80 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: labels, axisLabel: { rotate: timeLike ? 0 : 30, interval: 0, fontSize: 11,
          formatter: (v) => (v.length > 10 ? v.slice(0, 10) + "…" : v) } },
        yAxis: { type: "value", name: colLabel(columns[numeric]) },
        series: [{ type: timeLike ? "line" : "bar", name: colLabel(columns[numeric]), data: rows.map((r) => r[numeric]),
          itemStyle: { color: "#1e6fd9" }, smooth: timeLike }],
      });
    });
    return node;
  }

  function details(summary, body, open) {
    return el("details", { class: "answer-more", open: open || null }, el("summary", null, summary), body);
  }

  function sources(list) {
    const policies = (list || []).filter((s) => s.kind === "policy");
    const tables = (list || []).filter((s) => s.kind === "table").map((s) => s.table);
    const items = policies.map((s) =>
      el("li", { class: "source" },
        el("div", { class: "source-head" },
          s.demo ? PB.tag("demo", tr("ask_demo")) : null,
          el("b", null, s.title || s.doc_id), " · ", el("span", null, s.section || ""),
          el("span", { class: "muted" }, " (" + s.doc_id + ")")),
        el("blockquote", null, s.text || "")));
    if (tables.length) items.push(el("li", { class: "source muted" }, tr("ask_tables") + ": " + tables.join(", ")));
    return items.length ? el("ul", { class: "sources" }, items) : null;
  }

  function clarify(options) {
    if (!options || !options.length) return null;
    return el("div", { class: "clarify" }, options.map((o) =>
      el("button", { type: "button", class: "chip", onclick: () => ask(o.question || o.name || String(o)) },
        o.name || o.question || String(o))));
  }

  function render(card, answer) {
    const rows = answer.rows || [];
    const columns = answer.columns || [];
    const parts = [
      el("div", { class: "answer-head" },
        PB.tag("status-" + answer.status, tr("ask_status_" + answer.status)),
        el("span", { class: "muted" }, tr("ask_engine") + " " + (answer.engine === "llm" ? tr("ask_engine_llm") : tr("ask_engine_offline")))),
      el("div", { class: "answer-text" }, answer.answer || ""),
      clarify(answer.clarify),
      chart(answer),
      rows.length ? table(columns, rows) : null,
      answer.sql ? details(tr("ask_sql"), el("pre", { class: "sql" }, answer.sql)) : null,
      answer.query ? details(tr("ask_query"), el("pre", { class: "sql" }, JSON.stringify(answer.query, null, 2))) : null,
      (answer.sources || []).some((s) => s.kind !== "sql") ? details(tr("ask_sources"), sources(answer.sources), true) : null,
    ];
    card.replaceChildren(...parts.filter((node) => node));
  }

  async function ask(question) {
    question = (question || "").trim();
    if (!question) return;
    asked += 1;
    const card = el("div", { class: "answer", "data-status": "pending" }, el("div", { class: "muted" }, tr("loading")));
    const turn = el("section", { class: "panel turn" }, el("div", { class: "question" }, el("span", { class: "who" }, tr("ask_you")), question), card);
    thread.prepend(turn);
    $("#ask-send").disabled = true;
    try {
      const answer = await PB.post("/api/ask", { question });
      render(card, answer);
      card.dataset.status = answer.status;
    } catch (error) {
      PB.fail(card, error);
      card.dataset.status = "error";
    } finally {
      $("#ask-send").disabled = false;
      document.body.dataset.loaded = "ask-" + asked;
    }
  }

  $("#ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const box = $("#question");
    ask(box.value);
    box.value = "";
  });
  $("#question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#ask-form").requestSubmit();
    }
  });
  document.querySelectorAll("button.example").forEach((b) => b.addEventListener("click", () => ask(b.textContent)));
  document.body.dataset.loaded = "ask";
})();
