/* The header's menu below 1280 px (issue 21): the navigation and the user box fold behind a
   button that opens them. Loaded right after the header (not deferred), so the folded header
   is the first one painted. Without JavaScript the header simply wraps. */
(function () {
  "use strict";
  var bar = document.querySelector(".topbar");
  var button = bar && bar.querySelector(".nav-toggle");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) return;
  var wide = window.matchMedia("(min-width: 1280px)");

  function setOpen(open) {
    bar.classList.toggle("is-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  bar.classList.add("has-menu");
  button.hidden = false;
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes the open menu and gives the focus back to its button
  bar.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("is-open") && !wide.matches) {
      setOpen(false);
      button.focus();
    }
  });
  // grown past 1280 px the menu is the plain header again
  wide.addEventListener("change", function () { if (wide.matches) setOpen(false); });
})();

/* A table too wide for its box scrolls inside it (.table-wrap): such a box takes the focus,
   so that it can be scrolled from the keyboard too (WCAG 2.1.1; axe scrollable-region-focusable). */
(function () {
  "use strict";
  function focusable() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusable);
  else focusable();
  window.addEventListener("resize", focusable);
})();
