"use strict";
// One execution: summary, progress chart, state changes, heartbeat history and cancel.
(() => {
  const { el, config } = Live;
  const id = config.execution_id;
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_HISTORY_SHOWN = 300;
  let row = null;
  let history = [];
  const seen = new Set(); // "type:at" of events shown: the snapshot and stream overlap

  const $ = (selector) => document.querySelector(selector);

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderSummary() {
    $("#status").replaceChildren(Live.statusBadge(row));
    $("#cancel-state").hidden = !(row.cancel_requested && !row.final);
    $("#task-type").textContent = row.task_type || "—";
    $("#airflow").textContent = row.dag_id
      ? `${row.dag_id} / ${row.task_id || "—"} / ${row.run_id || "—"}` : "—";
    $("#host").textContent = [row.host, row.container_name].filter(Boolean).join(" · ") || "—";
    $("#started").textContent = Live.fmtDateTime(row.started_at || row.created_at);
    $("#progress-cell").replaceChildren(Live.progressBar(row));
    $("#rate").textContent = Live.rateText(row) || "—";
    $("#outcome").replaceChildren(Live.outcome(row));
    Live.paintAge($("#age"), row);
    const button = $("#cancel");
    button.hidden = config.role !== "admin" || row.final || row.cancel_requested;
    const fields = Object.entries(row.progress || {}).map(([k, v]) =>
      el("tr", {}, el("th", { text: k }),
         el("td", { text: typeof v === "object" ? JSON.stringify(v) : String(v) })));
    $("#progress-fields tbody").replaceChildren(...fields);
    const transitions = (row.transitions || []).map((t) =>
      el("tr", { class: `transition row-${t.status}` },
         el("td", { text: Live.fmtDateTime(t.at) }),
         el("td", {}, el("span", { class: `status status-${t.status}`, text: t.status })),
         el("td", { text: t.reason || "" })));
    $("#transitions tbody").replaceChildren(...transitions);
  }

  function addEvents(events) {
    for (const event of events) {
      const key = `${event.type}:${event.at}`;
      if (seen.has(key)) continue;
      seen.add(key);
      history.push(event);
    }
    history.sort((a, b) => a.at - b.at);
    if (history.length > 2000) history = history.slice(-2000);
    renderHistory();
    renderChart();
  }

  function eventText(event) {
    if (event.type === "state") {
      const d = event.detail || {};
      return `${d.from || "—"} → ${d.to}${d.reason ? ` (${d.reason})` : ""}${d.error ? `: ${d.error}` : ""}`;
    }
    if (event.type === "cancel") return "cancel requested";
    return event.progress ? JSON.stringify(event.progress) : "";
  }

  function renderHistory() {
    const shown = history.slice(-MAX_HISTORY_SHOWN).reverse();
    $("#history tbody").replaceChildren(...shown.map((event) =>
      el("tr", { class: `event event-${event.type}` },
         el("td", { text: Live.fmtTime(event.at) }),
         el("td", { text: event.type }),
         el("td", { text: event.status }),
         el("td", { class: "mono", text: eventText(event) }))));
  }

  function renderChart() {
    const beats = history.filter((e) => e.type === "heartbeat" &&
                                        (e.fraction != null || e.done != null));
    const byFraction = beats.some((e) => e.fraction != null);
    const points = beats
      .map((e) => [e.at, byFraction ? e.fraction : e.done])
      .filter(([, y]) => y != null);
    const box = $("#chart");
    if (points.length === 0) {
      box.replaceChildren(el("p", { class: "empty", text: "No progress reported yet." }));
      return;
    }
    const W = 640, H = 180, L = 48, R = 12, T = 10, B = 24;
    const t0 = points[0][0];
    const t1 = Math.max(points[points.length - 1][0], t0 + 1);
    const yMax = byFraction ? 1 : Math.max(...points.map(([, y]) => y), 1);
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - v / yMax) * (H - T - B);
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "progress-chart",
                               role: "img", "aria-label": "progress over time" });
    chart.append(svg("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), class: "axis" }));
    chart.append(svg("line", { x1: L, y1: T, x2: L, y2: y(0), class: "axis" }));
    const top = byFraction ? "100 %" : Live.fmtNumber(yMax);
    chart.append(svg("text", { x: L - 6, y: T + 8, class: "tick", "text-anchor": "end" }, top));
    chart.append(svg("text", { x: L - 6, y: y(0), class: "tick", "text-anchor": "end" }, "0"));
    chart.append(svg("text", { x: L, y: H - 6, class: "tick" }, Live.fmtTime(t0)));
    chart.append(svg("text", { x: W - R, y: H - 6, class: "tick", "text-anchor": "end" },
                     Live.fmtTime(t1)));
    const path = points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points: path, class: "line" }));
    const [lt, lv] = points[points.length - 1];
    chart.append(svg("circle", { cx: x(lt), cy: y(lv), r: 3, class: "dot" }));
    chart.dataset.points = String(points.length);
    box.replaceChildren(chart);
  }

  // Two clicks: the first arms the button, the second sends the request.
  const cancelButton = $("#cancel");
  let armedUntil = 0;
  cancelButton.addEventListener("click", async () => {
    const message = $("#cancel-message");
    if (Date.now() > armedUntil) {
      armedUntil = Date.now() + 5000;
      cancelButton.textContent = "Click again to cancel";
      cancelButton.classList.add("armed");
      setTimeout(() => {
        cancelButton.textContent = "Cancel execution";
        cancelButton.classList.remove("armed");
      }, 5000);
      return;
    }
    armedUntil = 0;
    cancelButton.disabled = true;
    const response = await fetch(`/ui/api/executions/${encodeURIComponent(id)}/cancel`, {
      method: "POST", credentials: "same-origin", headers: { "X-Live-View": "1" },
    });
    const body = await response.json().catch(() => ({}));
    cancelButton.disabled = false;
    message.textContent = response.ok
      ? "Cancel requested: the task stops gracefully at its next heartbeat."
      : `Cancel refused (${response.status}): ${body.detail || response.statusText}`;
    message.className = response.ok ? "ok" : "error";
  });

  Live.connect(`/ui/events?execution_id=${encodeURIComponent(id)}`, (message) => {
    if (message.kind === "missing") {
      $("#missing").hidden = false;
      $("#summary").hidden = true;
    } else if (message.kind === "snapshot") {
      row = message.rows[0];
      history = [];
      seen.clear();
      renderSummary();
      addEvents(message.history || []);
    } else if (message.kind === "update" && message.execution_id === id && row) {
      row = message.partial ? Object.assign({}, row, message.row) : message.row;
      renderSummary();
      if (message.event) addEvents([message.event]);
    }
  });

  setInterval(() => { if (row) Live.paintAge($("#age"), row); }, 1000);
})();
