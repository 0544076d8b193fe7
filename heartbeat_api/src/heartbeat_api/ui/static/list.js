"use strict";
// The list: running (and pending) executions first, newest first; then final ones,
// most recently finished first. Rows update in place from the event stream.
(() => {
  const { el } = Live;
  const rows = new Map(); // execution_id -> row
  const trs = new Map(); // execution_id -> <tr>
  const tbody = document.querySelector("#executions tbody");
  const MAX_FINAL_SHOWN = 100;

  function sortKey(row) {
    return row.final ? row.finished_at || 0 : row.started_at || row.created_at || 0;
  }

  function compare(a, b) {
    if (a.final !== b.final) return a.final ? 1 : -1;
    return sortKey(b) - sortKey(a);
  }

  function airflowCell(row) {
    const link = el("a", { href: Live.withTimeout(`/ui/executions/${encodeURIComponent(row.execution_id)}`),
                           class: "detail-link" },
                    row.dag_id ? `${row.dag_id} / ${row.task_id || "—"}` : row.execution_id);
    return el("td", {}, link, el("div", { class: "sub", text: row.run_id || row.execution_id }));
  }

  function statusCell(row) {
    return el("td", {}, Live.statusBadge(row),
              row.cancel_requested && !row.final
                ? el("div", { class: "sub cancel-state", text: "cancel requested" }) : null);
  }

  function fill(tr, row) {
    const age = el("span", { class: "heartbeat-age" });
    Live.paintAge(age, row);
    tr.replaceChildren(
      statusCell(row),
      el("td", { class: "task-type", text: row.task_type || "—" }),
      airflowCell(row),
      el("td", { class: "host", text: row.host || row.container_name || "—",
                 title: row.container_name || "" }),
      el("td", { class: "progress-col" }, Live.progressBar(row)),
      el("td", { class: "rate", text: Live.rateText(row) }),
      el("td", {}, age),
      el("td", { class: "outcome" }, Live.outcome(row)),
    );
    tr.className = `row-${row.status}${row.final ? " row-final" : ""}`;
  }

  function reorder() {
    const ordered = [...rows.values()].sort(compare);
    let finals = 0;
    const keep = [];
    for (const row of ordered) {
      if (row.final && ++finals > MAX_FINAL_SHOWN) {
        rows.delete(row.execution_id);
        trs.delete(row.execution_id);
        continue;
      }
      keep.push(trs.get(row.execution_id));
    }
    tbody.replaceChildren(...keep);
    const running = ordered.filter((r) => !r.final).length;
    document.getElementById("counts").textContent =
      `${running} active · ${Math.min(finals, MAX_FINAL_SHOWN)} finished`;
    document.getElementById("empty").hidden = rows.size > 0;
  }

  function upsert(row, partial) {
    const id = row.execution_id;
    const known = rows.get(id);
    if (partial && !known) return; // its full row comes first; nothing to patch yet
    const merged = partial ? Object.assign({}, known, row) : row;
    const moved = !known || known.status !== merged.status || known.final !== merged.final;
    rows.set(id, merged);
    let tr = trs.get(id);
    if (!tr) {
      tr = el("tr", { "data-execution-id": id });
      trs.set(id, tr);
    }
    fill(tr, merged);
    return moved;
  }

  Live.connect("/ui/events", (message) => {
    if (message.kind === "snapshot") {
      rows.clear();
      trs.clear();
      for (const row of message.rows) upsert(row, false);
      reorder();
    } else if (message.kind === "update") {
      if (upsert(message.row, message.partial)) reorder();
    }
  });

  // Ages tick without any message from the server.
  setInterval(() => {
    for (const [id, tr] of trs) {
      const age = tr.querySelector(".heartbeat-age");
      if (age) Live.paintAge(age, rows.get(id));
    }
  }, 1000);
})();
