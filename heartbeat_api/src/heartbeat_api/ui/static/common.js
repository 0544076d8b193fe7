"use strict";
// Shared by the list and the detail view. Every value from the server goes into the page
// through textContent, never innerHTML: progress and errors are whatever a task sent.
const Live = (() => {
  const config = JSON.parse(document.getElementById("live-config").textContent);
  let clockOffset = 0; // server seconds minus browser seconds

  const serverNow = () => Date.now() / 1000 + clockOffset;
  const syncClock = (now) => {
    if (typeof now === "number") clockOffset = now - Date.now() / 1000;
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function fmtNumber(n) {
    if (n === null || n === undefined) return "—";
    if (Math.abs(n) >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString("en");
    return n.toFixed(n >= 10 ? 1 : 2);
  }

  function fmtTime(epoch) {
    if (!epoch) return "—";
    return new Date(epoch * 1000).toLocaleTimeString("en-GB", { hour12: false });
  }

  function fmtDateTime(epoch) {
    if (!epoch) return "—";
    const d = new Date(epoch * 1000);
    return `${d.toISOString().slice(0, 10)} ${fmtTime(epoch)}`;
  }

  function rateText(row) {
    if (row.final) return "";
    const parts = [];
    if (row.rate !== null && row.rate !== undefined) {
      parts.push(`${fmtNumber(row.rate)} ${row.unit || "units"}/s`);
    }
    if (row.eta_seconds !== null && row.eta_seconds !== undefined) {
      parts.push(`${fmtDuration(row.eta_seconds)} left`);
    }
    return parts.join(" · ") || "—";
  }

  // Seconds since the last heartbeat (since registration while pending), and its colour:
  // amber from half the timeout, red from 80 % of it.
  function heartbeatAge(row) {
    if (row.final) return { seconds: null, level: "final" };
    const since = row.last_heartbeat_at || row.created_at;
    if (!since) return { seconds: null, level: "ok" };
    const seconds = Math.max(0, serverNow() - since);
    const timeout = config.timeout;
    const level = seconds >= 0.8 * timeout ? "late" : seconds >= 0.5 * timeout ? "warn" : "ok";
    return { seconds, level };
  }

  function paintAge(node, row) {
    const age = heartbeatAge(row);
    node.className = `heartbeat-age age-${age.level}`;
    node.dataset.level = age.level;
    node.textContent = age.seconds === null ? "—" : `${Math.floor(age.seconds)} s ago`;
    node.title = `timeout ${config.timeout} s`;
  }

  function progressLabel(row) {
    const parts = [];
    if (row.stage) parts.push(row.stage);
    if (row.fraction !== null && row.fraction !== undefined) {
      parts.push(`${(row.fraction * 100).toFixed(row.fraction < 0.1 ? 1 : 0)} %`);
    }
    if (row.done !== null && row.done !== undefined) {
      parts.push(row.total ? `${fmtNumber(row.done)}/${fmtNumber(row.total)} ${row.unit}`
                           : `${fmtNumber(row.done)} ${row.unit}`);
    }
    return parts.join(" · ") || (row.final ? "" : "waiting for progress");
  }

  function progressBar(row) {
    const known = row.fraction !== null && row.fraction !== undefined;
    const fill = el("div", { class: "fill" });
    fill.style.width = known ? `${(row.fraction * 100).toFixed(1)}%` : "0%";
    const bar = el("div", { class: `progress-bar bar-${row.status}${known ? "" : " unknown"}`,
                            "data-fraction": known ? row.fraction.toFixed(4) : "" }, fill);
    return el("div", { class: "progress" }, bar,
              el("span", { class: "progress-label", text: progressLabel(row) }));
  }

  function outcome(row) {
    if (row.error) return el("span", { class: "error-text", text: row.error, title: row.error });
    if (row.result && row.result.length) {
      return el("span", { class: "result",
                          text: row.result.map(([k, v]) => `${k} ${fmtNumber(v)}`).join(" · ") });
    }
    return el("span", { text: row.final ? "—" : "" });
  }

  function statusBadge(row) {
    return el("span", { class: `status status-${row.status}`, text: row.status });
  }

  function withTimeout(path) {
    const timeout = new URLSearchParams(location.search).get("timeout");
    return timeout ? `${path}?timeout=${encodeURIComponent(timeout)}` : path;
  }

  function connect(path, onMessage) {
    const indicator = document.getElementById("connection");
    const show = (state, text) => {
      indicator.className = `connection ${state}`;
      indicator.textContent = text;
    };
    const source = new EventSource(path);
    source.onopen = () => show("live", "live");
    source.onerror = () => show("connecting", "reconnecting…");
    source.onmessage = (ev) => {
      const message = JSON.parse(ev.data);
      syncClock(message.now);
      if (message.kind === "offline") show("offline", "Redis unreachable");
      else if (message.kind === "online" || message.kind === "snapshot") show("live", "live");
      onMessage(message);
    };
    return source;
  }

  return { config, el, fmtDuration, fmtNumber, fmtTime, fmtDateTime, rateText, paintAge,
           heartbeatAge, progressBar, progressLabel, outcome, statusBadge, withTimeout,
           connect, serverNow };
})();
