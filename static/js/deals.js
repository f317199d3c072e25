// The deals board: drag and drop (SortableJS) and the keyboard "Move to…" menu both POST the
// deal's version through htmx; the server answers with the card as it now is. A refused move
// (someone else moved the deal: 409) comes back with the card as the server has it, and the
// card is put back in the column the server says, with the reason announced. The answer also
// carries the headers of the columns involved (htmx out-of-band swaps): their count, sum and
// weighted sum come from the server, never counted here.
(function () {
  const board = document.querySelector("[data-board][data-sortable]");
  if (!board) {
    return;
  }
  const status = document.getElementById("board-status");
  const origins = new Map(); // deal id -> {list, next} before a drag

  function announce(message, isError) {
    if (!status) return;
    status.textContent = message || "";
    status.classList.toggle("is-error", Boolean(isError));
  }

  function listOf(stageId) {
    return board.querySelector(`.deal-column-list[data-stage-id="${stageId}"]`);
  }

  function placeBeforeMore(list, card) {
    const more = list.querySelector(":scope > .column-more");
    list.insertBefore(card, more);
  }

  function post(card, stageId, beforeId) {
    // "from": the column the card left on this board, whose header comes back too.
    const values = { version: card.dataset.version, stage: stageId, from: card.dataset.stage };
    if (beforeId) values.before = beforeId;
    htmx.ajax("POST", card.dataset.moveUrl, { source: card, target: card, swap: "outerHTML", values: values });
  }

  board.querySelectorAll(".deal-column-list").forEach((list) => {
    Sortable.create(list, {
      group: "deals",
      draggable: ".deal-card",
      filter: "summary, button, input, select",
      preventOnFilter: false,
      animation: 120,
      // Pointer events rather than native drag and drop: the same on touch screens, mice and test browsers.
      forceFallback: true,
      onChoose(event) {
        // Sortable clones the card for its ghost, and a clone's style attribute counts as an
        // inline style under the Content-Security-Policy: the card goes into the clone
        // without one (the styles Sortable needs are set afterwards, through the CSSOM).
        const item = event.item;
        item.style.removeProperty("will-change");
        if (!item.getAttribute("style")) item.removeAttribute("style");
      },
      onStart(event) {
        origins.set(event.item.dataset.dealId, { list: event.from, next: event.item.nextElementSibling });
      },
      onEnd(event) {
        const card = event.item;
        if (event.from === event.to && event.oldIndex === event.newIndex) {
          origins.delete(card.dataset.dealId);
          return;
        }
        let next = card.nextElementSibling;
        while (next && !next.classList.contains("deal-card")) next = next.nextElementSibling;
        post(card, event.to.dataset.stageId, next ? next.dataset.dealId : "");
      },
    });
  });

  // A refused move is still swapped in: its card carries the server's stage and version.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!(target && target.classList && target.classList.contains("deal-card"))) return;
    // htmx carries an old card's style attribute over to the new one while it settles;
    // Sortable's animation leaves empty ones on the cards (set through the CSSOM), and
    // copied as attributes they are inline styles the Content-Security-Policy refuses.
    board.querySelectorAll(".deal-card[style]").forEach((element) => {
      if (!element.getAttribute("style").trim()) element.removeAttribute("style");
    });
    target.removeAttribute("style");
    if ([400, 409].includes(event.detail.xhr.status)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  const handled = new WeakSet();
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const xhr = event.detail.xhr;
    const dealId = xhr && xhr.getResponseHeader("X-Deal-Id");
    if (!dealId || handled.has(xhr)) return;
    handled.add(xhr);
    const card = document.getElementById(`deal-${dealId}`);
    if (!card) return;
    const refused = card.dataset.refused === "1";
    const origin = origins.get(dealId);
    origins.delete(dealId);
    const home = listOf(card.dataset.stage);
    const current = card.parentElement;
    if (!home) {
      card.remove(); // now in a stage this board does not show
    } else if (origin) {
      // A drag: the card sits where it was dropped; put it back if the server says so.
      if (current !== home) {
        const next = origin.list === home && origin.next && origin.next.parentElement === home ? origin.next : null;
        if (next) home.insertBefore(card, next);
        else placeBeforeMore(home, card);
      }
    } else if (current !== home) {
      // The "Move to…" menu: the card goes to the end of its new column.
      placeBeforeMore(home, card);
    }
    if (refused) card.classList.add("is-refused");
    announce(card.dataset.message, refused);
    // Keyboard users keep their place: focus the moved card's link.
    const link = card.querySelector(".deal-card-title");
    if (link) link.focus();
  });
})();
