/* Score sheet (绩效自评表 / 复核评分表): while the person types, post the form to the page's
 * preview URL (nothing is saved) and show the scores the server computes — each line's
 * points and score, the section subtotals, the execution rate, the total and the grade.
 * The saved result is what counts; this only shows it early. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-sheet-form]");
  if (!form || !window.fetch || !window.FormData) return;
  var url = form.getAttribute("data-preview-url");
  if (!url) return;
  var timer = null;
  var seq = 0;

  function set(selector, value) {
    var el = form.querySelector(selector);
    if (el) el.textContent = value;
  }

  function show(data) {
    set('[data-live="execution_rate"]', data.execution_rate !== null ? data.execution_rate + "%" : "—");
    ["execution", "output", "outcome", "satisfaction", "total"].forEach(function (key) {
      set('[data-live="' + key + '"]', data[key]);
    });
    set('[data-live="grade"]', data.grade_display || "—");
    set('[data-live="state"]', data.complete ? "" : form.getAttribute("data-incomplete") || "…");
    Object.keys(data.lines || {}).forEach(function (id) {
      var line = data.lines[id];
      set('[data-line-points="' + id + '"]', line.points);
      set('[data-line-score="' + id + '"]', line.score !== null ? line.score : "—");
    });
  }

  function preview() {
    var mine = ++seq;
    var body = new FormData(form);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && mine === seq) show(data); })
      .catch(function () { /* offline: the saved figures stay */ });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
