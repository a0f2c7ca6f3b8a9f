// crampcheck page: sends the form to the JSON API (/api/check, /api/suggest)
// and renders the documents it returns, as the CLI's text report does.
// Everything is built with DOM methods and textContent: no HTML from the
// server or the KB is ever interpreted.
"use strict";

const $ = (id) => document.getElementById(id);

const VERDICT_TEXT = {
  avoid: "do not propose as is: a contraindication or an avoid-level finding",
  incomplete: "some medications could not be checked; findings may be missing",
  caution: "findings to act on (monitor, adjust or separate doses)",
  ok: "every medication checked; nothing found",
};

const LAB_FIELDS = ["egfr", "qtc", "potassium", "magnesium", "age"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(severity) {
  return el("span", { class: `badge sev-${severity}` }, severity.toUpperCase());
}

function sourceItem(s) {
  const date = s.date || "undated";
  const text = `${s.citation}, ${s.section} (${s.jurisdiction}, ${date})`;
  const url = (s.url || "").trim();
  if (/^https?:\/\//.test(url)) {
    return el("li", {}, el("a", { href: url, rel: "noreferrer noopener", target: "_blank" }, text),
      el("span", { class: "print-url" }, ` ${url}`));
  }
  return el("li", {}, text);
}

function sourcesList(sources) {
  if (!sources || sources.length === 0) return null;
  return el("div", { class: "sources" }, el("h4", {}, "Sources"),
    el("ul", {}, sources.map(sourceItem)));
}

function row(label, text) {
  if (!text) return null;
  return el("p", { class: "line" }, el("strong", {}, `${label}: `), text);
}

function findingCard(f, medications) {
  const from = (f.medication_indices || [])
    .filter((i) => medications && medications[i])
    .map((i) => `#${i + 1} ${medications[i].input.trim()}`)
    .join(", ");
  // A UK SmPC's warning is no box: the engine titles it "Label warning".
  const kind = f.title.startsWith("Label warning") ? "label warning" : f.kind.replace(/_/g, " ");
  const tags = [kind, f.action, f.evidence].filter(Boolean).join(" · ");
  return el("article", { class: `finding sev-${f.severity}`, "data-severity": f.severity },
    el("h3", {}, badge(f.severity), " ", f.title),
    el("p", { class: "tags" }, tags),
    row("From", from),
    row("Patient", f.basis),
    row("Why", f.mechanism),
    f.effect && f.effect !== f.title ? row("Effect", f.effect) : null,
    row("What to do", f.management),
    sourcesList(f.sources));
}

function medicationStatus(m) {
  if (m.status === "recognized") {
    const fuzzy = (m.fuzzy_matches || []).map((x) => ` — read “${x.written}” as ${x.matched}`).join("");
    return el("span", {}, `${m.ingredients.join(" + ")} [${m.matched_by || "generic"}]${fuzzy}`);
  }
  if (m.status === "ambiguous") {
    return el("span", { class: "unresolved" },
      `AMBIGUOUS — could be ${m.candidates.join(", ")}; not checked`);
  }
  const known = m.ingredients.length ? `${m.ingredients.join(" + ")} recognized; ` : "";
  const hint = m.suggestions.length ? ` — did you mean ${m.suggestions.join(", ")}?` : "";
  return el("span", { class: "unresolved" },
    `${known}UNRECOGNIZED “${m.unresolved.join("”, “")}”; not checked${hint}`);
}

const CHECK_TEXT = {
  finding: "see findings",
  none_expected: "checked: no interaction expected",
  none_on_file: "no interaction on file",
  not_checked: "not checked",
};

function medicationsTable(medications) {
  if (!medications || medications.length === 0) return null;
  return el("section", { class: "block" }, el("h2", {}, "Medications"),
    el("table", {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "#"),
        el("th", { scope: "col" }, "As entered"), el("th", { scope: "col" }, "Recognized as"),
        el("th", { scope: "col" }, "Interaction check"))),
      el("tbody", {}, medications.map((m, i) => el("tr",
        { class: m.status === "recognized" ? null : "row-unresolved" },
        el("td", {}, String(i + 1)), el("td", {}, m.input.trim()),
        el("td", {}, medicationStatus(m)),
        el("td", {}, CHECK_TEXT[m.interaction_check] || m.interaction_check))))));
}

function patientLine(p) {
  const labs = [
    ["eGFR", p.egfr, "mL/min/1.73 m²"], ["QTc", p.qtc, "ms"], ["K", p.potassium, "mmol/L"],
    ["Mg", p.magnesium, "mg/dL"], ["age", p.age, "years"],
  ].filter(([, v]) => v !== null && v !== undefined).map(([n, v, u]) => `${n} ${v} ${u}`);
  const conditions = (p.conditions || []).map((c) => {
    if (c.note) return `${c.code} (${c.basis}, though ${c.note})`;
    return c.basis === "stated" ? c.code : `${c.code} (${c.basis})`;
  });
  const parts = [];
  if (labs.length) parts.push(labs.join(", "));
  if (conditions.length) parts.push(`conditions: ${conditions.join("; ")}`);
  return parts.length ? row("Patient", parts.join(" · ")) : null;
}

function findingsSection(findings, medications, heading) {
  if (!findings || findings.length === 0) {
    return el("section", { class: "block" }, el("h2", {}, heading), el("p", {}, "No findings."));
  }
  return el("section", { class: "block" }, el("h2", {}, `${heading} (${findings.length})`),
    findings.map((f) => findingCard(f, medications)));
}

function renderCheck(doc) {
  const verdict = doc.verdict;
  return [
    el("section", { class: `verdict verdict-${verdict}`, id: "verdict" },
      el("h2", {}, `Verdict: ${verdict.toUpperCase()}`),
      el("p", {}, VERDICT_TEXT[verdict] || ""),
      row("Proposed", `${doc.proposed.ingredients.join(" + ")} (${doc.proposed.input.trim()})`),
      patientLine(doc.patient),
      el("p", { class: "kbline" }, `KB ${doc.kb.version} (schema ${doc.kb.schema_version}, ${doc.kb.origin}), ${doc.jurisdiction} label facts; checked ${new Date().toLocaleString()}`)),
    medicationsTable(doc.medications),
    findingsSection(doc.findings, doc.medications, "Findings"),
  ];
}

function dosingText(d) {
  if (!d) return null;
  const steps = (d.steps || []).map((s) => {
    const days = s.to_day ? `days ${s.from_day}–${s.to_day}` : `from day ${s.from_day}`;
    return `${days}: ${s.mg_per_day} mg/day`;
  }).join("; ");
  const max = d.max_mg_per_day ? ` (max ${d.max_mg_per_day} mg/day)` : "";
  return `${d.schedule}${max}${steps ? ` — ${steps}` : ""}${d.flag ? ` — ${d.flag}` : ""}`;
}

function renderSuggest(doc) {
  const out = [];
  out.push(el("section", { class: `verdict verdict-${doc.complete ? "ok" : "incomplete"}`, id: "verdict" },
    el("h2", {}, `Which cramp drug? (${doc.indication.code}, ${doc.indication.basis})`),
    el("p", {}, doc.complete ? "Every medication was checked." :
      `Incomplete: ${doc.unresolved.join(", ")} could not be checked; findings may be missing.`),
    patientLine(doc.patient),
    el("p", { class: "kbline" }, `KB ${doc.kb.version}, ${doc.jurisdiction} label facts; ranked by ${doc.ranking.join(", ")}; checked ${new Date().toLocaleString()}`)));
  out.push(medicationsTable(doc.medications));
  if (doc.steps && doc.steps.length) {
    out.push(el("section", { class: "block" }, el("h2", {}, "First"),
      doc.steps.map((s) => el("article", { class: "step" }, el("h3", {}, s.title),
        row("Patient", s.basis), el("p", {}, s.detail), sourcesList(s.sources),
        (s.findings || []).map((f) => findingCard(f, doc.medications))))));
  }
  out.push(el("section", { class: "block" }, el("h2", {}, "Therapies, best first"),
    el("table", { class: "therapies" },
      el("thead", {}, el("tr", {}, ["#", "Drug", "Status", "Why", "Evidence", "Cautions", "Dosing"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, doc.therapies.map((t) => el("tr", { class: `status-${t.status}` },
        el("td", {}, String(t.rank)), el("th", { scope: "row" }, t.drug),
        el("td", {}, el("span", { class: `badge status-${t.status}` }, t.status)),
        el("td", {}, t.reason), el("td", {}, t.evidence_level || "—"),
        el("td", {}, ["contraindicated", "major", "moderate", "minor"]
          .filter((k) => t.cautions[k]).map((k) => `${t.cautions[k]} ${k}`).join(", ") || "none"),
        el("td", {}, dosingText(t.dosing) || "—")))))));
  for (const t of doc.therapies.filter((x) => x.findings.length)) {
    const details = el("details", { class: "therapy-findings" },
      el("summary", {}, `${t.drug}: ${t.findings.length} finding(s)`),
      t.findings.map((f) => findingCard(f, doc.medications)));
    out.push(details);
  }
  if (doc.medication_findings && doc.medication_findings.length) {
    out.push(findingsSection(doc.medication_findings, doc.medications, "About the medication list"));
  }
  return out;
}

function readForm() {
  // Every non-blank line is a medication: nothing typed is left out unseen.
  const meds = $("meds").value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
  const body = { medications: meds, jurisdiction: $("jurisdiction").value };
  for (const f of LAB_FIELDS) {
    // A number input the browser cannot read (`3,1`) has an empty value:
    // say so rather than check without it.
    if ($(f).validity.badInput) return { error: { field: f, error: "not a number" } };
    const raw = $(f).value.trim();
    if (raw === "") continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) return { error: { field: f, error: "not a number" } };
    body[f] = value;
  }
  const conditions = $("conditions").value.split(",").map((c) => c.trim()).filter(Boolean);
  if (conditions.length) body.conditions = conditions;
  return { body };
}

function fieldInput(field) {
  if (!field) return null;
  const base = field.replace(/\[\d+\]$/, "");
  return { propose: $("propose"), medications: $("meds"), conditions: $("conditions"),
    jurisdiction: $("jurisdiction"), indication: $("indication"), egfr: $("egfr"), qtc: $("qtc"),
    potassium: $("potassium"), magnesium: $("magnesium"), age: $("age") }[base] || null;
}

function clearErrors() {
  for (const node of document.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function showError(err) {
  const results = $("results");
  results.replaceChildren(el("section", { class: "error", role: "alert" },
    el("h2", {}, "Not checked"),
    el("p", {}, err.field ? `${err.field}: ${err.error}` : err.error)));
  const input = fieldInput(err.field);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else {
    results.focus();
  }
}

async function post(path, body) {
  $("status").textContent = "Checking…";
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const doc = await response.json();
    $("status").textContent = "";
    return response.ok ? { doc } : { error: doc };
  } catch (e) {
    $("status").textContent = "";
    return { error: { error: `the server could not be reached (${e.message})`, field: null } };
  }
}

function show(nodes, label) {
  const results = $("results");
  results.replaceChildren(...nodes.filter(Boolean));
  $("status").textContent = label;
  results.focus();
}

async function runCheck(event) {
  event.preventDefault();
  clearErrors();
  const form = readForm();
  if (form.error) return showError(form.error);
  const propose = $("propose").value.trim();
  if (!propose) return showError({ field: "propose", error: "type or pick the drug to check" });
  const { doc, error } = await post("/api/check", { propose, ...form.body });
  if (error) return showError(error);
  show(renderCheck(doc), `Verdict ${doc.verdict}, ${doc.findings.length} finding(s).`);
}

async function runSuggest() {
  clearErrors();
  const form = readForm();
  if (form.error) return showError(form.error);
  const body = { ...form.body };
  if ($("indication").value) body.indication = $("indication").value;
  const { doc, error } = await post("/api/suggest", body);
  if (error) return showError(error);
  show(renderSuggest(doc), `${doc.therapies.length} therapies ranked.`);
}

async function loadKb() {
  try {
    const response = await fetch("/api/kb", { headers: { Accept: "application/json" } });
    const kb = await response.json();
    $("kb-line").textContent = `Knowledge base ${kb.kb.version} (${kb.kb.origin}), ${kb.sources.length} sources.`;
    $("therapies").replaceChildren(...kb.therapies.map((t) => el("option", { value: t })));
    $("indication").append(...kb.indications.map((i) => el("option", { value: i }, i)));
    $("conditions-known").textContent = kb.conditions.map((c) => `${c.code} (${c.name})`).join("; ");
  } catch (e) {
    $("kb-line").textContent = `Knowledge base: unavailable (${e.message})`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("check-form").addEventListener("submit", runCheck);
  $("suggest-button").addEventListener("click", runSuggest);
  $("print-button").addEventListener("click", () => window.print());
  // A printout for the chart shows everything, folded sections included.
  window.addEventListener("beforeprint", () => {
    for (const d of document.querySelectorAll("#results details")) d.open = true;
  });
  loadKb();
});
