/* 绩效目标 edit form: rows added client-side, level 2 narrowed to the chosen level 1, a
 * live total of the weights, and the indicator autocomplete (the project's pickable
 * library indicators, from the page's JSON endpoint) that fills a row from the library.
 * The server checks everything again; without this script the form still works. */
(function () {
  "use strict";

  var form = document.querySelector("form.target-edit");
  if (!form) return;
  var body = form.querySelector("[data-rows]");
  var template = form.querySelector("template[data-row-template]");
  var totalForms = form.querySelector("input[name$='-TOTAL_FORMS']");
  var searchUrl = form.getAttribute("data-indicators-url");
  var weightTotal = parseFloat(form.getAttribute("data-weight-total") || "100");
  var parentScript = document.getElementById("level2-parent");
  var level2Parent = parentScript ? JSON.parse(parentScript.textContent) : {};
  var DELAY_MS = 200;

  function field(row, name) {
    return row.querySelector("[data-field='" + name + "']");
  }

  function rows() {
    return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]"));
  }

  function isDeleted(row) {
    var box = field(row, "DELETE");
    return !!(box && box.checked);
  }

  function renumber() {
    var n = 0;
    rows().forEach(function (row) {
      var cell = row.querySelector("[data-pos]");
      if (isDeleted(row)) {
        row.classList.add("deleted");
        if (cell) cell.textContent = "";
      } else {
        row.classList.remove("deleted");
        n += 1;
        if (cell) cell.textContent = String(n);
      }
    });
  }

  /* -- weights ---------------------------------------------------------------------- */

  function number(text) {
    var value = parseFloat(String(text || "").replace(/,/g, "").trim());
    return isFinite(value) ? value : 0;
  }

  function shown(value) {
    return String(Math.round(value * 100) / 100);
  }

  function updateTotals() {
    var quantitative = 0;
    var qualitative = 0;
    rows().forEach(function (row) {
      if (isDeleted(row)) return;
      var weight = number(field(row, "weight").value);
      if (field(row, "direction").value === "qualitative") qualitative += weight;
      else quantitative += weight;
    });
    var all = quantitative + qualitative;
    var out = {quantitative: quantitative, qualitative: qualitative, all: all};
    Object.keys(out).forEach(function (key) {
      var target = form.querySelector("[data-total='" + key + "']");
      if (target) target.textContent = shown(out[key]);
    });
    var allBox = form.querySelector("[data-total='all']");
    if (allBox) allBox.classList.toggle("off", Math.abs(all - weightTotal) > 0.001);
  }

  /* -- level 2 under level 1 ------------------------------------------------------------ */

  function narrow(row) {
    var level1 = field(row, "level1").value;
    var level2 = field(row, "level2");
    Array.prototype.forEach.call(level2.options, function (option) {
      var foreign = !!(option.value && level1 && level2Parent[option.value] !== level1);
      option.hidden = foreign;
      option.disabled = foreign;
    });
    if (level2.value && level1 && level2Parent[level2.value] !== level1) level2.value = "";
  }

  /* -- the indicator autocomplete ---------------------------------------------------------- */

  function fill(row, item) {
    field(row, "indicator_code").value = item.code;
    field(row, "level1").value = item.level1;
    narrow(row);
    field(row, "level2").value = item.level2;
    field(row, "name").value = item.name;
    field(row, "direction").value = item.direction;
    if (item.unit) field(row, "unit").value = item.unit;
    row.classList.add("from-library");
    updateTotals();
  }

  function attachPicker(row) {
    var input = field(row, "indicator_code");
    var list = row.querySelector(".picker-list");
    if (!input || !list || !searchUrl) return;
    var timer = null;
    var items = [];
    var active = -1;
    var asked = 0;

    /* The list is fixed to the viewport at the input, so the table's scroll box (overflow)
       cannot clip it (issue 21); above the input when there is more room there. */
    function place() {
      var box = input.getBoundingClientRect();
      var below = window.innerHeight - box.bottom;
      var up = below < Math.min(list.scrollHeight, 280) + 8 && box.top > below;
      list.style.left = Math.max(4, Math.min(box.left, window.innerWidth - list.offsetWidth - 4)) + "px";
      list.style.top = up ? "" : box.bottom + 2 + "px";
      list.style.bottom = up ? window.innerHeight - box.top + 2 + "px" : "";
    }

    function onScroll() { if (!list.hidden) place(); }
    window.addEventListener("scroll", onScroll, true);
    window.addEventListener("resize", onScroll);

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
    }

    function highlight(index) {
      var entries = list.querySelectorAll("li[role=option]");
      active = index;
      Array.prototype.forEach.call(entries, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
    }

    function choose(index) {
      if (index >= 0 && index < items.length) fill(row, items[index]);
      close();
    }

    function show(results) {
      list.textContent = "";
      items = results;
      active = -1;
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = form.getAttribute("data-none") || "—";
        list.appendChild(none);
      }
      results.forEach(function (item, index) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        var code = document.createElement("b");
        code.textContent = item.code;  // never innerHTML: library text
        var rest = document.createElement("span");
        rest.textContent = " " + item.name;
        var meta = document.createElement("span");
        meta.className = "muted small";
        meta.textContent = [item.level2_display, item.direction_display, item.unit, item.scope_display]
          .filter(Boolean).join(" · ");
        li.appendChild(code);
        li.appendChild(rest);
        li.appendChild(meta);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus; the blur would close the list first
          choose(index);
        });
        list.appendChild(li);
      });
      list.hidden = false;
      place();
    }

    function search() {
      var q = input.value.trim();
      if (!q) { close(); return; }
      var ticket = ++asked;
      fetch(searchUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (data) { if (ticket === asked && document.activeElement === input) show(data.results || []); })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      if (!input.value.trim()) row.classList.remove("from-library");
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter") { if (active >= 0) { event.preventDefault(); choose(active); } }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  /* -- rows ------------------------------------------------------------------------------ */

  function attach(row) {
    field(row, "level1").addEventListener("change", function () { narrow(row); });
    var box = field(row, "DELETE");
    if (box) box.addEventListener("change", function () { renumber(); updateTotals(); });
    if (field(row, "indicator_code").value.trim()) row.classList.add("from-library");
    narrow(row);
    attachPicker(row);
  }

  function addRow() {
    var index = parseInt(totalForms.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    var row = holder.querySelector("tr");
    body.appendChild(row);
    totalForms.value = String(index + 1);
    attach(row);
    renumber();
    var first = field(row, "indicator_code");
    if (first) first.focus();
  }

  rows().forEach(attach);
  var addButton = form.querySelector("[data-add-row]");
  if (addButton) addButton.addEventListener("click", addRow);
  body.addEventListener("input", updateTotals);
  body.addEventListener("change", updateTotals);
  renumber();
  updateTotals();
})();
