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
