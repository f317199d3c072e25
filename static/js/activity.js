// Interaction form: the participant search box lives inside the form; Enter there must
// not submit the interaction half-typed. htmx runs the search as the person types.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("input[data-picker-search]")) {
    event.preventDefault();
  }
});
// A timeline loaded by htmx is no longer busy.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (target && target.matches(".timeline[aria-busy]")) {
    target.removeAttribute("aria-busy");
  }
});
