// Header search: the results dropdown (filled by htmx) is a listbox of links.
// ArrowDown/ArrowUp move through the options, Enter opens the highlighted one (or, with
// none highlighted, submits the form to the full results page), Escape closes the list.
(() => {
  const input = document.getElementById("crm-search");
  const box = document.getElementById("crm-search-results");
  if (!input || !box) {
    return;
  }
  let active = -1;
  const options = () => Array.from(box.querySelectorAll('[role="option"]'));

  function highlight(index) {
    const list = options();
    list.forEach((option, i) => {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      option.classList.toggle("active", i === index);
    });
    active = index;
    if (index >= 0 && list[index]) {
      input.setAttribute("aria-activedescendant", list[index].id);
      list[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close() {
    box.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    highlight(-1);
  }

  input.addEventListener("keydown", (event) => {
    const list = options();
    if (event.key === "ArrowDown" && list.length) {
      event.preventDefault();
      highlight(Math.min(active + 1, list.length - 1));
    } else if (event.key === "ArrowUp" && list.length) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0 && list[active]) {
      event.preventDefault();
      window.location.assign(list[active].href);
    } else if (event.key === "Escape") {
      close();
    }
  });

  input.addEventListener("input", () => {
    if (input.value.trim().length < 2) {
      close();
    }
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== box) {
      return;
    }
    if (input.value.trim().length < 2) {
      close();
      return;
    }
    const listbox = box.querySelector('[role="listbox"]');
    input.setAttribute("aria-controls", listbox ? listbox.id : box.id);
    input.setAttribute("aria-expanded", listbox ? "true" : "false");
    highlight(-1);
  });

  document.addEventListener("click", (event) => {
    if (event.target !== input && !box.contains(event.target)) {
      close();
    }
  });
})();
