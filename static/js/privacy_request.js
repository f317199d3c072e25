// The public privacy request form: the rectification and objection questions show only
// when their right is ticked. Without JavaScript they are simply always shown.
(() => {
  const form = document.querySelector(".privacy-request-form form");
  if (!form) {
    return;
  }
  const update = () => {
    form.querySelectorAll("[data-privacy-for]").forEach((block) => {
      const box = form.querySelector(`input[name="rights"][value="${block.dataset.privacyFor}"]`);
      const hasErrors = block.querySelector(".errorlist") !== null;
      block.hidden = !(box && box.checked) && !hasErrors;
    });
  };
  form.addEventListener("change", (event) => {
    if (event.target.matches('input[name="rights"]')) {
      update();
    }
  });
  update();
})();
