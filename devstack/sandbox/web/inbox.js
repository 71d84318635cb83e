// The sandbox inbox: reads /_sandbox/inbox/state, re-reads it on every `change` server-sent event,
// and edits the sandbox through the /_sandbox/ JSON endpoints. Message text is set as textContent only.
"use strict";

const $ = (sel) => document.querySelector(sel);
let state = null;
let selected = null; // the recipient whose thread is open
let lastShown = "";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await fetch(path, options);
  const reply = await response.json();
  if (!response.ok) throw new Error(reply.error || `HTTP ${response.status}`);
  return reply;
}

async function refresh() {
  state = await api("/_sandbox/inbox/state");
  render();
}

// --- filters, recipients, thread ---------------------------------------------------------------

function filtered() {
  const f = Object.fromEntries(new FormData($("#filters")));
  const digits = f.recipient.replace(/\D/g, "");
  const q = f.q.trim().toLowerCase();
  return state.messages.filter((m) =>
    (!f.provider || m.provider === f.provider) &&
    (!f.channel || m.channel === f.channel) &&
    (!f.status || m.report.state === f.status) &&
    (!digits || m.to.includes(digits)) &&
    (!q || `${m.subject || ""} ${m.text} ${m.template_code || ""}`.toLowerCase().includes(q)));
}

function render() {
  const messages = filtered();
  const byPhone = new Map();
  for (const m of messages) byPhone.set(m.to, [...(byPhone.get(m.to) || []), m]);
  const phones = [...byPhone.keys()].sort((a, b) => last(byPhone.get(b)).accepted_at - last(byPhone.get(a)).accepted_at);
  if (!byPhone.has(selected)) selected = phones[0] || null;
  $("#empty").hidden = phones.length > 0;
  $("#recipients").replaceChildren(...phones.map((phone) => {
    const thread = byPhone.get(phone);
    const newest = last(thread);
    return el("li", { class: phone === selected ? "selected" : "", "data-phone": phone, onclick: () => { selected = phone; render(); } },
      el("span", { class: "who" }, newest.to_masked),
      el("span", { class: "count" }, `${thread.length}`),
      el("span", { class: "preview" }, `${label(newest)} · ${newest.text}`));
  }));
  const thread = byPhone.get(selected) || [];
  $("#thread-to").textContent = selected ? formatPhone(selected) : "—";
  $("#thread-count").textContent = selected ? `${thread.length} message${thread.length === 1 ? "" : "s"}` : "";
  const shown = `${selected} ${thread.length}`;
  $("#thread").replaceChildren(...thread.map(message));
  // A new thread, or a new message in it: show the newest, as a phone does.
  if (shown !== lastShown) $("#thread").scrollTop = $("#thread").scrollHeight;
  lastShown = shown;
  renderPanels();
}

const last = (list) => list[list.length - 1];
const label = (m) => (m.channel === "alimtalk" ? "알림톡" : m.channel.toUpperCase());
const formatPhone = (p) => (p.length === 11 ? `${p.slice(0, 3)}-${p.slice(3, 7)}-${p.slice(7)}` : p);
const providerName = (p) => (p === "solapi" ? "SOLAPI" : "API Store");

function message(m) {
  const classes = [...new Set(["msg", m.report.state, m.test ? "test" : ""])].join(" ");
  return el("article", { class: classes, id: `m-${m.id}`, "data-id": m.id, "data-state": m.report.state, "data-channel": m.channel, "data-fallback-of": m.fallback_of },
    el("div", { class: "from" }, `${m.from || "(no sender)"} `, el("span", { class: "tag" }, providerName(m.provider))),
    m.fallback_of && el("span", { class: "link", onclick: () => flash(m.fallback_of) },
      `↳ ${m.route === "app" ? "sent by the app" : "the provider's fallback"} for the AlimTalk above`),
    m.channel === "alimtalk" ? kakaoCard(m) : bubble(m),
    meta(m),
    m.fallback_id && el("span", { class: "link", onclick: () => flash(m.fallback_id) }, "replaced by a text message ↓"));
}

function bubble(m) {
  return el("div", { class: "bubble" },
    ...m.images.map((src) => el("img", { src, alt: "MMS image" })),
    m.subject && el("span", { class: "subject" }, m.subject),
    m.text);
}

function kakaoCard(m) {
  return el("div", { class: "kakao" },
    el("div", { class: "head" }, m.test ? "알림톡 (test mode)" : "알림톡 도착"),
    el("div", { class: "body" }, m.text),
    m.buttons.length > 0 && el("div", { class: "btns" },
      m.buttons.map((b) => el("span", { title: b.type }, b.name, b.url && el("small", {}, b.url)))),
    el("div", { class: "tpl" }, `template ${m.template_code || "?"}`));
}

function meta(m) {
  const r = m.report;
  const when = m.scheduled ? `scheduled for ${m.send_at_kst} KST` : `${m.send_at_kst} KST`;
  const size = m.bytes === null ? "not EUC-KR: unsendable" : `${m.bytes} bytes EUC-KR (${m.fits} size)`;
  const code = r.code ? ` ${r.code}` : "";
  return el("div", { class: "meta" },
    el("span", { class: `pill ${r.state}`, "data-report": r.state }, `${r.state}${code}${r.meaning ? ` · ${r.meaning}` : ""}`),
    el("span", {}, label(m)),
    m.channel !== "alimtalk" && el("span", {}, size),
    el("span", {}, when),
    el("span", { class: "mono", title: "the provider's message id" }, m.cmid || m.message_id || ""));
}

function flash(id) {
  const node = document.getElementById(`m-${id}`);
  if (!node) return;
  node.scrollIntoView({ behavior: "smooth", block: "center" });
  node.classList.add("flash");
  setTimeout(() => node.classList.remove("flash"), 1200);
}

// --- panels --------------------------------------------------------------------------------------

const pairs = (obj) => Object.entries(obj || {}).map(([k, v]) => `${k}=${v}`).join(", ");

function parsePairs(text) {
  const out = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = part.split("=").map((s) => s.trim());
    if (!key || value === undefined || Number.isNaN(Number(value))) throw new Error(`"${part}": write code=weight`);
    out[key] = Number(value);
  }
  return out;
}

function fill(form, values) {
  // Never overwrite what someone is typing.
  const active = document.activeElement;
  if ((form.contains(active) && active.matches("input, select")) || form.dataset.dirty) return;
  for (const [name, value] of Object.entries(values)) if (form.elements[name]) form.elements[name].value = value;
}

function renderPanels() {
  const f = state.faults;
  fill($("#faults"), { ...f, result_codes: pairs(f.result_codes) });
  fill($("#config"), { report_delay_s: state.config.report_delay_s });
  fill($("#balance"), { apistore: state.balance.apistore, solapi: state.balance.solapi });
  const mixForm = $("#mix");
  fill(mixForm, { weights: pairs(state.outcomes.mix[mixForm.elements.kind.value]) });
  $("#forced-list").replaceChildren(...Object.entries(state.outcomes.forced).map(([phone, fields]) =>
    el("li", {}, el("span", {}, el("b", {}, phone), ` ${pairs(fields)}`),
      el("button", { type: "button", onclick: () => act($("#forced"), () => api("/_sandbox/outcomes", { phone, clear: true })) }, "remove"))));
  const pins = Object.entries(state.pins);
  $("#pins").replaceChildren(pins.length === 0 ? el("p", { class: "muted" }, "No PIN pending.") : el("table", {},
    el("tr", {}, el("th", {}, "number"), el("th", {}, "PIN"), el("th", {}, "by, on"), el("th", {}, "")),
    pins.map(([number, p]) => el("tr", {}, el("td", {}, number), el("td", { class: "pin" }, p.pincode),
      el("td", {}, `${p.pintype}, ${p.api || "kko"}`), el("td", {}, p.expired ? "expired" : "valid 3 min")))));
  $("#senders").replaceChildren(el("table", {},
    el("tr", {}, el("th", {}, "registry"), el("th", {}, "numbers (✓ confirmed, … awaiting PIN)")),
    Object.entries(state.senders).map(([api, list]) => el("tr", {}, el("td", {}, api),
      el("td", {}, list.map((s) => `${s.sendnumber} ${s.USE_YN === "Y" ? "✓" : "…"}`).join(", ") || "—")))));
  $("#templates").replaceChildren(...state.templates.map(template));
}

function template(t) {
  const parts = t.template_msg.split(/(#\{[^}]*\})/).map((part) => (part.startsWith("#{") ? el("span", { class: "var" }, part) : part));
  return el("div", { class: "tpl-card" },
    el("div", {}, el("b", {}, t.template_code), ` ${t.template_name} `, el("span", { class: `pill ${t.status === "승인" ? "delivered" : ""}` }, t.status)),
    el("div", { class: "text" }, parts),
    t.btnList.map((b) => el("div", { class: "muted" }, `[${b.template_btn_type}] ${b.template_btn_name} ${b.template_btn_url || ""}`)));
}

async function act(form, call) {
  const error = form.querySelector("[data-error]");
  try {
    await call();
    if (error) error.textContent = "";
    delete form.dataset.dirty;
    await refresh();
  } catch (e) {
    if (error) error.textContent = e.message;
  }
}

function onSubmit(selector, call) {
  const form = $(selector);
  form.addEventListener("input", () => { form.dataset.dirty = "1"; });
  form.addEventListener("submit", (event) => { event.preventDefault(); act(form, () => call(form.elements)); });
}

function wire() {
  $("#filters").addEventListener("input", render);
  $("#clear").addEventListener("click", () => act($("#filters"), () => api("/_sandbox/clear", {})));
  onSubmit("#faults", (e) => api("/_sandbox/faults", {
    latency_ms: Number(e.latency_ms.value), error_5xx_rate: Number(e.error_5xx_rate.value),
    timeout_rate: Number(e.timeout_rate.value), timeout_s: Number(e.timeout_s.value),
    result_codes: parsePairs(e.result_codes.value) }));
  $("#faults-off").addEventListener("click", () => act($("#faults"), () => api("/_sandbox/faults", {})));
  onSubmit("#forced", (e) => api("/_sandbox/outcomes", {
    phone: e.phone.value.replace(/\D/g, ""), [e.field.value]: e.field.value === "pending" ? true : e.code.value.trim() }));
  $("#forced").elements.field.addEventListener("change", fillCodes);
  onSubmit("#mix", (e) => api("/_sandbox/outcomes", { mix: { [e.kind.value]: parsePairs(e.weights.value) } }));
  $("#mix").elements.kind.addEventListener("change", () => { delete $("#mix").dataset.dirty; renderPanels(); });
  onSubmit("#config", (e) => api("/_sandbox/config", { report_delay_s: Number(e.report_delay_s.value) }));
  onSubmit("#balance", (e) => Promise.all([
    api("/_sandbox/balance", { balance: Number(e.apistore.value) }),
    api("/_sandbox/balance", { provider: "solapi", balance: Number(e.solapi.value) })]));
}

let codeTables = {};
function fillCodes() {
  const table = codeTables[$("#forced").elements.field.value] || {};
  $("#codes").replaceChildren(...Object.entries(table).map(([code, meaning]) => el("option", { value: code }, meaning)));
}

function listen() {
  const live = $("#live");
  const source = new EventSource("/_sandbox/inbox/stream");
  source.addEventListener("change", () => refresh().catch((e) => console.warn("refresh failed", e)));
  source.addEventListener("open", () => { live.textContent = "live"; live.classList.add("on"); });
  // EventSource reconnects by itself (a sandbox restart included); only say so meanwhile.
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.classList.remove("on"); });
}

document.addEventListener("DOMContentLoaded", async () => {
  wire();
  codeTables = await api("/_sandbox/inbox/codes");
  fillCodes();
  await refresh();
  listen();
});
