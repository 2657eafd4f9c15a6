// meshlens pages: pan and zoom of the graph, auto-refresh, and the workloads filter. Hand-written, no libraries.
"use strict";

function setUpGraph() {
  const canvas = document.getElementById("graph");
  const svg = canvas && canvas.querySelector("svg");
  if (!svg) return;
  const [x0, y0, w0, h0] = svg.getAttribute("viewBox").split(" ").map(Number);
  let view = { x: x0, y: y0, w: w0, h: h0 };
  const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  const toGraph = (event) => {
    const box = svg.getBoundingClientRect();
    return { x: view.x + (event.clientX - box.left) / box.width * view.w, y: view.y + (event.clientY - box.top) / box.height * view.h };
  };
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    const at = toGraph(event);
    view = { x: at.x - (at.x - view.x) * factor, y: at.y - (at.y - view.y) * factor, w: view.w * factor, h: view.h * factor };
    apply();
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (event.target.closest("a")) return;  // a click on a node follows its link
    drag = { x: event.clientX, y: event.clientY, view: { ...view } };
    canvas.classList.add("dragging");
  });
  window.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const box = svg.getBoundingClientRect();
    view.x = drag.view.x - (event.clientX - drag.x) / box.width * view.w;
    view.y = drag.view.y - (event.clientY - drag.y) / box.height * view.h;
    apply();
  });
  window.addEventListener("pointerup", () => { drag = null; canvas.classList.remove("dragging"); });
  const reset = document.getElementById("zoom-reset");
  if (reset) reset.addEventListener("click", (event) => { event.preventDefault(); view = { x: x0, y: y0, w: w0, h: h0 }; apply(); });

  const refresh = document.getElementById("auto-refresh");
  if (refresh) {
    refresh.checked = sessionStorage.getItem("meshlens-refresh") === "on";
    let timer = null;
    const schedule = () => {
      clearTimeout(timer);
      sessionStorage.setItem("meshlens-refresh", refresh.checked ? "on" : "off");
      if (refresh.checked) timer = setTimeout(() => location.reload(), 10000);
    };
    refresh.addEventListener("change", schedule);
    schedule();
  }
}

function setUpFilter() {
  const filter = document.getElementById("filter");
  const table = document.getElementById("workloads");
  if (!filter || !table) return;
  filter.addEventListener("input", () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const row of table.tBodies[0].rows) {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((w) => text.includes(w));
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { setUpGraph(); setUpFilter(); });
