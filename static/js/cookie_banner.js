// The cookie banner (usage/): answer it without leaving the page, and open it again from
// the footer's "Cookie settings" link. Without JavaScript the same form posts and comes
// back to the page, and the link opens the cookie settings page instead.
(() => {
  const banner = () => document.querySelector("[data-cookie-banner]");
  let opener = null;

  function announce(text) {
    const status = document.querySelector("[data-cookie-status]");
    if (status) status.textContent = text;
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-cookie-settings]");
    const section = banner();
    if (!link || !section) return;
    event.preventDefault();
    opener = link;
    section.hidden = false;
    link.setAttribute("aria-expanded", "true");
    section.scrollIntoView({ block: "start" });
    section.focus();
  });

  document.addEventListener("keydown", (event) => {
    const section = banner();
    // Escape closes a banner opened from the footer (a first answer is still owed otherwise).
    if (event.key === "Escape" && opener && section && !section.hidden && section.contains(document.activeElement)) {
      close(section);
    }
  });

  function close(section) {
    section.hidden = true;
    const back = opener || document.querySelector(".brand");
    if (opener) opener.setAttribute("aria-expanded", "false");
    opener = null;
    if (back) back.focus();
  }

  // Capture phase: before app.js's double-submit guard, which would hold a second answer.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const section = form.closest("[data-cookie-banner]");
    if (!section || !form.matches("form[data-cookie-choice]") || form.dataset.native === "1") return;
    event.preventDefault();
    const button = event.submitter;
    const body = new FormData(form);
    if (button && button.name) body.set(button.name, button.value);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`cookie choice: ${response.status}`);
      const answer = await response.json();
      close(section);
      announce(answer.message);
    } catch (error) {
      // Let the browser post the form itself: the answer still counts, the page reloads.
      form.dataset.native = "1";
      form.requestSubmit(button || undefined);
    }
  }, true);
})();
