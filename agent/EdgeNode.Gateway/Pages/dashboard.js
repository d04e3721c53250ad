"use strict";

(() => {
  const $ = id => document.getElementById(id);

  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return n.toFixed(i === 0 ? 0 : 1) + " " + units[i];
  }

  function duration(seconds) {
    const s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + (s % 60) + "s";
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }

  function fill(tbody, rows, emptyText, columns) {
    tbody.replaceChildren(...rows.map(row));
    if (rows.length === 0) {
      const tr = row([emptyText]);
      tr.firstChild.colSpan = columns;
      tr.className = "placeholder";
      tbody.appendChild(tr);
    }
  }

  // The pool as `edgenode pool status --json` reports it: a line per model's chain, a row per node.
  function renderPool(p) {
    const table = $("pool-nodes");
    table.hidden = !p;
    $("pool").className = p ? "" : "placeholder";
    if (!p) {
      $("pool").textContent = "no pool yet";
      return;
    }
    const chains = p.plans.map(m => m.plan.assignments.length
      ? m.plan.model + ": " + m.plan.assignments.length + " nodes, epoch " + m.plan.epoch
      : m.plan.model + ": no chain (" + (m.unplanned || "no plan") + ")");
    $("pool").textContent = "pool " + p.pool + " via " + p.broker + ", leader " + (p.leader || "none") + (chains.length ? "; " + chains.join("; ") : "; no model planned yet");
    fill(table.tBodies[0], p.nodes.map(n => [
      n.node_id,
      n.alive ? n.status : n.status + " (silent)",
      n.slices.map(x => x.model + " [" + x.first_layer + "," + x.end_layer + ")" + (x.embed ? " +embed" : "") + (x.head ? " +head" : "")).join(", ") || "—",
      n.slices.map(x => x.ms_per_layer == null ? "—" : x.ms_per_layer.toFixed(2)).join(", ") || "—",
    ]), "no nodes", 4);
  }

  function render(s) {
    $("uptime").textContent = duration(s.uptime_seconds);
    $("requests").textContent = s.requests;
    $("tokens").textContent = s.tokens;
    $("memory").textContent = bytes(s.working_set_bytes) + " (managed heap " + bytes(s.managed_heap_bytes) + ")";
    fill($("models"), s.models.map(m => [m.id, m.precision || "—", m.loaded ? "loaded" : "not loaded", m.queue_depth, m.requests, m.tokens]), "no models", 6);
    const recent = s.recent;
    const average = recent.length ? recent.reduce((sum, r) => sum + r.tokens_per_second, 0) / recent.length : 0;
    $("tok-per-second").textContent = recent.length ? average.toFixed(1) + " tok/s over the last " + recent.length : "no requests yet";
    fill($("recent"), recent.map(r => [new Date(r.finished_at_ms).toLocaleTimeString(), r.model, r.tokens, (r.seconds < 1 ? (r.seconds * 1000).toFixed(1) + " ms" : r.seconds.toFixed(2) + " s"), r.tokens_per_second.toFixed(1)]), "no requests yet", 5);
    fill($("jobs"), s.jobs ? Object.entries(s.jobs).map(([status, count]) => [status, count]) : [], "jobs are off on this node", 2);
    renderPool(s.pool);
    $("sensors").textContent = s.sensors ? JSON.stringify(s.sensors) : "no sensor";
    const c = s.credits;
    $("credits").textContent = c
      ? c.node_id + ": balance " + c.balance + " credits (earned " + c.earned + ", spent by its keys " + c.spent + "); " +
        c.receipts + " receipts from " + c.members + " pool member" + (c.members === 1 ? "" : "s")
      : "credits are off on this node";
    $("credits").className = c ? "" : "placeholder";
    $("status").textContent = "live";
    $("status").className = "live";
  }

  async function follow() {
    for (;;) {
      try {
        const response = await edgenode.request("/v1/dashboard/events");
        if (!response.ok) throw new Error(await edgenode.errorText(response));
        await edgenode.readEvents(response, data => render(JSON.parse(data)));
        $("status").textContent = "stream ended; reconnecting";
      } catch (e) {
        $("status").textContent = "disconnected: " + e.message + "; retrying";
      }
      $("status").className = "down";
      await new Promise(resolve => setTimeout(resolve, 2000));
    }
  }

  // The head both pages share starts with an empty status; the dashboard's says so until the stream is live.
  $("status").textContent = "connecting…";
  $("status").className = "down";
  follow();
})();
