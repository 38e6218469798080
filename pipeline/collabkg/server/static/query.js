// The query page: runs a SPARQL query (or a stored query) with fetch and shows the rows.
"use strict";
const $ = (id) => document.getElementById(id);

function termText(t) {
  if (!t) return "";
  return t.value;
}

function termCell(t) {
  const td = document.createElement("td");
  if (t && t.type === "uri") {
    const a = document.createElement("a");
    const root = "https://w3id.org/collabkg/";
    a.href = t.value.startsWith(root) ? "/" + t.value.slice(root.length) : "/resource?iri=" + encodeURIComponent(t.value);
    a.textContent = t.value;
    td.appendChild(a);
  } else {
    td.textContent = termText(t);
  }
  return td;
}

function show(columns, rows, cell) {
  const head = $("results").tHead, body = $("results").tBodies[0];
  head.innerHTML = ""; body.innerHTML = "";
  const tr = document.createElement("tr");
  for (const c of columns) { const th = document.createElement("th"); th.textContent = c; tr.appendChild(th); }
  head.appendChild(tr);
  for (const r of rows) {
    const row = document.createElement("tr");
    for (const c of columns) row.appendChild(cell(r[c]));
    body.appendChild(row);
  }
}

async function runSparql(ev) {
  ev.preventDefault();
  $("status").textContent = "running…";
  const t0 = performance.now();
  const res = await fetch("/sparql", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json" },
    body: new URLSearchParams({ query: $("query").value }),
  });
  const text = await res.text();
  if (!res.ok) { $("status").textContent = "error " + res.status + ": " + text; show([], [], termCell); return; }
  const data = JSON.parse(text);
  const ms = Math.round(performance.now() - t0);
  if ("boolean" in data) { $("status").textContent = "answer: " + data.boolean; show([], [], termCell); return; }
  show(data.head.vars, data.results.bindings, termCell);
  $("status").textContent = data.results.bindings.length + " row(s) in " + ms + " ms";
}

async function runStored() {
  const name = $("stored").value;
  if (!name) { $("status").textContent = "choose a stored query"; return; }
  $("status").textContent = "running…";
  const res = await fetch("/queries/" + encodeURIComponent(name) + "?" + $("params").value.trim(), { headers: { "Accept": "application/json" } });
  const text = await res.text();
  if (!res.ok) { $("status").textContent = "error " + res.status + ": " + text; return; }
  const rows = JSON.parse(text);
  const q = window.storedQueries[name];
  const plain = (v) => { const td = document.createElement("td"); td.textContent = v === null ? "" : String(v); return td; };
  show(q.columns.map((c) => c.name), rows, plain);
  $("status").textContent = rows.length + " row(s)";
}

async function loadStored() {
  const res = await fetch("/queries");
  const list = await res.json();
  window.storedQueries = {};
  for (const q of list) {
    window.storedQueries[q.name] = q;
    const o = document.createElement("option");
    o.value = q.name; o.textContent = q.name + " — " + q.summary;
    $("stored").appendChild(o);
  }
}

$("query-form").addEventListener("submit", runSparql);
$("run-stored").addEventListener("click", runStored);
loadStored();
