/* Project form (结果应用): when the year, code, name or category change, ask the server for
 * the department's earlier years — the last grade of the project this one continues, with
 * its budget recommendation, and any similar one-off project graded 差 — and show the
 * fragment it renders. A warning only: saving never depends on it. */
(function () {
  "use strict";

  var panel = document.querySelector("[data-results-panel]");
  var form = document.querySelector('form[data-testid="project-form"]');
  if (!panel || !form || !window.fetch) return;
  var url = panel.getAttribute("data-url");
  var fields = ["fiscal_year", "code", "name", "category"];
  var timer = null;
  var seq = 0;

  function query() {
    var params = new URLSearchParams();
    fields.forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (input) params.set(name, input.value.trim());
    });
    return params.toString();
  }

  function refresh() {
    var mine = ++seq;
    fetch(url + "?" + query(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null && mine === seq) panel.innerHTML = html; })
      .catch(function () { /* offline: what the page showed stays */ });
  }

  function schedule(event) {
    if (!event.target || fields.indexOf(event.target.name) < 0) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
