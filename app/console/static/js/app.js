// The console's shell: sign-in, the date range, and the hash router (#/overview,
// #/tenants, #/tenant/<id>, #/batches, #/insights).
import { ApiError, get, token } from "./api.js";
import { h, clear, errorBox } from "./dom.js";
import { overview } from "./pages/overview.js";
import { tenants } from "./pages/tenants.js";
import { tenantPage } from "./pages/tenant.js";
import { batches } from "./pages/batches.js";
import { insights } from "./pages/insights.js";

const $ = (id) => document.getElementById(id);
const view = $("view");
let session = null;
let rendering = 0;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function setRange(days) {
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86400000);
  $("start").value = isoDay(start);
  $("end").value = isoDay(end);
}

function range() {
  return { start: $("start").value, end: $("end").value };
}

function showLogin(message) {
  session = null;
  token.clear();
  clear(view);
  for (const id of ["nav", "range", "role", "logout"]) $(id).hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  $("token").value = "";
  $("token").focus();
}

async function signIn() {
  // /v1/session answers 401/403 for a wrong token: nothing else is asked before it passes.
  session = await get("/v1/session");
  $("login").hidden = true;
  for (const id of ["nav", "range", "role", "logout"]) $(id).hidden = false;
  $("role").textContent = session.role === "admin" ? "admin" : "read-only";
}

const ROUTES = [
  [/^#\/overview$/, () => overview(range())],
  [/^#\/tenants$/, () => tenants(range())],
  [/^#\/tenant\/(.+)$/, (m) => tenantPage(range(), decodeURIComponent(m[1]), session)],
  [/^#\/batches$/, () => batches()],
  [/^#\/insights$/, () => insights(range())],
];

async function render() {
  if (!session) return;
  const ticket = ++rendering;
  const hash = location.hash || "#/overview";
  let page = "overview";
  for (const a of document.querySelectorAll("#nav a")) {
    const active = hash.startsWith(a.getAttribute("href")) || (a.dataset.page === "tenants" && hash.startsWith("#/tenant/"));
    a.classList.toggle("active", active);
    if (active) page = a.dataset.page;
  }
  view.dataset.page = page;
  view.dataset.state = "loading";
  clear(view, h("p", { class: "muted", text: "Loading…" }));
  const route = ROUTES.map(([re, make]) => [hash.match(re), make]).find(([m]) => m);
  try {
    const content = route ? await route[1](route[0]) : [h("p", { class: "empty", text: "No such page." })];
    if (ticket !== rendering) return;
    clear(view, content);
    view.dataset.state = "ready";
  } catch (error) {
    if (ticket !== rendering) return;
    if (error instanceof ApiError && error.unauthenticated) {
      showLogin(error.message); // the token was revoked or changed: sign in again
      return;
    }
    clear(view, errorBox(error));
    view.dataset.state = "error";
  }
}

function start() {
  setRange(30);
  $("range-form").addEventListener("change", render);
  for (const b of document.querySelectorAll(".presets button")) {
    b.addEventListener("click", () => { setRange(Number(b.dataset.days)); render(); });
  }
  $("logout").addEventListener("click", () => showLogin(""));
  $("refresh").addEventListener("click", render);
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const secret = $("token").value.trim();
    if (!secret) return;
    token.set(secret);
    try {
      await signIn();
      render();
    } catch (error) {
      showLogin(error instanceof ApiError ? error.message : String(error));
    }
  });
  window.addEventListener("hashchange", render);
  if (token.get()) {
    signIn().then(render, (error) => showLogin(error.message));
  } else {
    showLogin("");
  }
}

start();
