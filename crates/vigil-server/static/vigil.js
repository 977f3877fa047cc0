// Vigil's only script: live updates over Server-Sent Events and the DISARM
// picker. Every page works without it; this makes them live and quicker.
"use strict";

(function live() {
  const regions = Array.from(document.querySelectorAll("[data-live-fragment]"));
  if (regions.length === 0 || !("EventSource" in window)) return;
  const status = document.getElementById("live-status");
  const say = (text, connected) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("connected", connected);
  };
  let timer = null;
  const refresh = () => {
    timer = null;
    for (const region of regions) {
      const known = new Set(Array.from(region.querySelectorAll("[data-report]")).map((e) => e.dataset.report));
      fetch(region.dataset.liveFragment, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => {
          region.innerHTML = html;
          const fresh = Array.from(region.querySelectorAll("[data-report]")).filter((e) => !known.has(e.dataset.report));
          fresh.forEach((e) => e.classList.add("fresh"));
          if (fresh.length > 0) say(fresh.length + " new item" + (fresh.length === 1 ? "" : "s") + " just arrived", true);
        })
        .catch(() => say("Could not refresh; retrying with the next event", false));
    }
  };
  const schedule = () => {
    if (timer === null) timer = setTimeout(refresh, 250);
  };
  const source = new EventSource("/api/stream");
  source.onopen = () => say("Live: new items appear here as they are shared", true);
  source.onerror = () => say("Live updates interrupted; reconnecting…", false);
  for (const kind of ["created", "updated", "revoked", "deleted"]) source.addEventListener(kind, schedule);
  window.addEventListener("pagehide", () => source.close());
})();

(function disarmPicker() {
  const field = document.getElementById("techniques");
  const search = document.getElementById("technique-search");
  const results = document.getElementById("technique-results");
  const chips = document.getElementById("technique-chips");
  if (!field || !search || !results || !chips) return;
  search.closest(".picker").hidden = false;
  const names = new Map();
  for (const chip of chips.querySelectorAll("li")) {
    const text = chip.textContent.trim();
    const space = text.indexOf(" ");
    if (space > 0) names.set(text.slice(0, space), text.slice(space + 1));
  }
  const chosen = () => field.value.split(/[\s,]+/).map((t) => t.trim().toUpperCase()).filter((t) => t.length > 0);
  const render = () => {
    chips.replaceChildren();
    for (const id of chosen()) {
      const item = document.createElement("li");
      item.className = "chip";
      item.textContent = id + (names.has(id) ? " " + names.get(id) : "");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + id);
      remove.addEventListener("click", () => {
        field.value = chosen().filter((t) => t !== id).join(", ");
        render();
        search.focus();
      });
      item.appendChild(remove);
      chips.appendChild(item);
    }
  };
  const add = (technique) => {
    names.set(technique.id, technique.name);
    const ids = chosen();
    if (!ids.includes(technique.id)) ids.push(technique.id);
    field.value = ids.join(", ");
    render();
    results.replaceChildren();
    search.value = "";
    search.focus();
  };
  let timer = null;
  const lookup = () => {
    const q = search.value.trim();
    if (q.length === 0) {
      results.replaceChildren();
      return;
    }
    fetch("/api/disarm/techniques?limit=15&q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((body) => {
        results.replaceChildren();
        for (const technique of body.techniques) {
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.dataset.technique = technique.id;
          button.textContent = technique.id + " " + technique.name;
          button.addEventListener("click", () => add(technique));
          item.appendChild(button);
          results.appendChild(item);
        }
        if (body.techniques.length === 0) {
          const item = document.createElement("li");
          item.textContent = "No technique matches.";
          results.appendChild(item);
        }
      })
      .catch(() => {});
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, 150);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = results.querySelector("button");
      if (first) first.focus();
    }
  });
  field.addEventListener("change", render);
  render();
})();
