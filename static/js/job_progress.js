/* Background job page: polls the job's progress URL every 500 ms and updates the bar;
 * when the job has finished, reloads the page once so the server shows the result or
 * the table of errors. Backs off while the server does not answer. */
(function () {
  "use strict";

  var INTERVAL_MS = 500;
  var MAX_DELAY_MS = 10000;

  var box = document.querySelector("[data-job-progress-url]");
  if (!box || box.getAttribute("data-job-finished") === "1") return;

  var url = box.getAttribute("data-job-progress-url");
  var bar = box.querySelector("[data-job-bar]");
  var phase = box.querySelector("[data-job-phase]");
  var count = box.querySelector("[data-job-count]");
  var percent = box.querySelector("[data-job-percent]");
  var status = document.querySelector("[data-job-status]");
  var delay = INTERVAL_MS;

  function show(state) {
    if (bar) { bar.value = state.percent; bar.textContent = state.percent + "%"; }
    if (phase) phase.textContent = state.phase_display || "";
    if (count) count.textContent = state.total ? state.done + " / " + state.total : (state.done ? String(state.done) : "");
    if (percent) percent.textContent = state.percent + "%";
    if (status) status.textContent = state.status_display;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (state) {
        delay = INTERVAL_MS;
        show(state);
        if (state.finished) {
          window.location.reload();
        } else {
          setTimeout(poll, delay);
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, MAX_DELAY_MS);
        setTimeout(poll, delay);
      });
  }

  setTimeout(poll, INTERVAL_MS);
})();
