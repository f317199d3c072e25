// Contacts list: "select all on this page" ticks every row checkbox of the bulk form.
// Without JavaScript the rows are ticked one by one, or "all matches" is used.
document.addEventListener("change", (event) => {
  const toggle = event.target;
  if (!toggle.matches("input[type=checkbox][data-select-all]")) {
    return;
  }
  const name = toggle.getAttribute("data-select-all");
  document.querySelectorAll(`input[type=checkbox][name="${name}"][form="bulk-form"]`).forEach((box) => {
    box.checked = toggle.checked;
  });
});
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.matches('input[type=checkbox][name="ids"][form="bulk-form"]')) {
    return;
  }
  const toggle = document.querySelector("input[type=checkbox][data-select-all]");
  if (toggle) {
    const boxes = Array.from(document.querySelectorAll('input[type=checkbox][name="ids"][form="bulk-form"]'));
    toggle.checked = boxes.every((b) => b.checked);
    toggle.indeterminate = !toggle.checked && boxes.some((b) => b.checked);
  }
});
// Bulk actions appear when a row is ticked (without JavaScript they are always there).
function showBulkBar() {
  const bar = document.querySelector("[data-bulk-bar]");
  if (!bar) return;
  const ticked = document.querySelectorAll('input[type=checkbox][name="ids"][form="bulk-form"]:checked').length;
  bar.hidden = ticked === 0;
  const count = bar.querySelector("[data-ticked-count]");
  if (count) count.textContent = String(ticked);
}
document.addEventListener("change", (event) => {
  if (event.target.matches('input[type=checkbox][form="bulk-form"]')) showBulkBar();
});
document.addEventListener("DOMContentLoaded", showBulkBar);
// A panel of the list's toolbar (filters, saved views, export) that was opened stays open on
// the next page of the same list in this tab, so applying a filter does not fold it away.
function panelKey(panel) {
  return `list-panel:${window.location.pathname}:${panel.dataset.panel}`;
}
document.addEventListener("toggle", (event) => {
  const panel = event.target;
  if (!(panel instanceof HTMLDetailsElement) || !panel.matches("details.list-panel[data-panel]")) return;
  try {
    window.sessionStorage.setItem(panelKey(panel), panel.open ? "1" : "");
  } catch (error) { /* storage refused: panels simply start folded */ }
}, true);
document.addEventListener("DOMContentLoaded", () => {
  for (const panel of document.querySelectorAll("details.list-panel[data-panel]")) {
    try {
      if (window.sessionStorage.getItem(panelKey(panel)) === "1") panel.open = true;
    } catch (error) { /* as above */ }
  }
});
