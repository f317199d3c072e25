// Small progressive enhancements; everything works without JavaScript too.
// No inline handlers anywhere: the Content-Security-Policy forbids inline script.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("select[data-autosubmit]")) {
    target.form.requestSubmit();
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // A double click must not submit twice.
  if (form.dataset.submitting === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
  setTimeout(() => { form.dataset.submitting = ""; }, 3000);
});

// The app shell: the menu button opens the navigation on small screens; the current section
// is marked; "/" (or Ctrl/Cmd+K) puts the cursor in the search from anywhere.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (!toggle) return;
  const open = document.body.classList.toggle("menu-open");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  if (open) {
    const first = document.querySelector("#app-nav a");
    if (first) first.focus();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.body.classList.contains("menu-open")) {
    document.body.classList.remove("menu-open");
    const toggle = document.querySelector("[data-menu-toggle]");
    if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    return;
  }
  const search = document.getElementById("crm-search");
  if (!search) return;
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  const shortcut = (event.key === "/" && !typing) || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k");
  if (shortcut) {
    event.preventDefault();
    search.focus();
    search.select();
  }
});
document.addEventListener("DOMContentLoaded", () => {
  let best = null;
  let bestLength = 0;
  for (const link of document.querySelectorAll("#app-nav a")) {
    const path = new URL(link.href, window.location.href).pathname;
    const here = window.location.pathname;
    const matches = here === path || (here.startsWith(path) && path.split("/").length > 4);
    if (matches && path.length > bestLength) { best = link; bestLength = path.length; }
  }
  if (best) best.setAttribute("aria-current", "page");
});

// Copy buttons ([data-copy-text]): shown only where the clipboard can be reached; the status
// next to the button says that the copy worked.
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("[data-copy-text]")) button.hidden = false;
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-text]");
  if (!button) return;
  const status = button.parentElement.querySelector("[data-copy-status]");
  try {
    await navigator.clipboard.writeText(button.dataset.copyText);
    if (status) status.textContent = button.dataset.copied || "";
  } catch (error) {
    if (status) status.textContent = "";
  }
});
