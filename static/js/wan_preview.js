/* Amounts are typed in 元 and read in 万元 (issue 21): beside every input marked
 * data-wan-preview="万元" (the translated unit) this shows the value in 万元 as it is typed,
 * e.g. 3500000 → "= 350.00 万元". The input stays in 元; the server converts nothing from this.
 * Commas and spaces are ignored as the server ignores them; anything else shows nothing. */
(function () {
  "use strict";

  var format = window.Intl
    ? new Intl.NumberFormat(document.documentElement.lang || "zh-CN", {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      })
    : null;

  function wan(raw) {
    var text = String(raw || "").replace(/[,，\s]/g, "");
    if (!/^-?\d+(\.\d*)?$/.test(text)) return null;
    var value = Number(text) / 10000;
    if (!isFinite(value)) return null;
    return format ? format.format(value) : value.toFixed(2);
  }

  var inputs = document.querySelectorAll("input[data-wan-preview]");
  for (var i = 0; i < inputs.length; i++) {
    (function (input, n) {
      var out = document.createElement("span");
      out.className = "wan-preview muted small";
      out.id = (input.id || "amount-" + n) + "-wan";
      out.setAttribute("data-testid", "wan-preview");
      out.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", out);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + out.id);
      var unit = input.getAttribute("data-wan-preview");
      function update() {
        var shown = wan(input.value);
        out.textContent = shown === null ? "" : "= " + shown + " " + unit;
      }
      input.addEventListener("input", update);
      update();
    })(inputs[i], i);
  }
})();
