/* The open inbox shows new tasks live (issue 21).
 *
 * live.js keeps the unread badge current from the notifications WebSocket; a new task always
 * comes with a notification. This script watches that badge (and, when live.js dispatches it,
 * the "jixiao:notification" DOM event on document) and then re-fetches the inbox's rows
 * (?rows=1, the same template as the page's <tbody>), marking the rows that were not there
 * before and announcing them to screen readers. Only on the first page of the inbox.
 * A row is told apart by its data-task key ("task-12" for a flow task, "recheck-5",
 * "rectification-3"... for a state-machine step), so both kinds of row are followed.
 */
(function () {
  "use strict";

  var body = document.querySelector("[data-inbox-rows]");
  if (!body || !body.getAttribute("data-rows-url") || !window.fetch) {
    return;
  }
  var url = body.getAttribute("data-rows-url");
  var busy = false;
  var again = false;

  function shown() {
    var ids = {};
    var rows = body.querySelectorAll("tr[data-task]");
    for (var i = 0; i < rows.length; i++) {
      ids[rows[i].getAttribute("data-task")] = true;
    }
    return ids;
  }

  function announce(count) {
    var box = document.getElementById("toasts");
    var label = body.getAttribute("data-new-label") || "";
    if (!box || !count || !label) return;
    var item = document.createElement("div");
    item.className = "toast";
    item.setAttribute("role", "status");
    item.setAttribute("data-testid", "inbox-new");
    item.textContent = label + " +" + count;
    box.appendChild(item);
    window.setTimeout(function () {
      if (item.parentNode) item.parentNode.removeChild(item);
    }, 8000);
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var before = shown();
        var template = document.createElement("template");
        template.innerHTML = "<table><tbody>" + html + "</tbody></table>";
        var fresh = template.content.querySelector("tbody");
        if (!fresh) return;
        var added = 0;
        var rows = fresh.querySelectorAll("tr[data-task]");
        for (var i = 0; i < rows.length; i++) {
          if (!before[rows[i].getAttribute("data-task")]) {
            rows[i].classList.add("is-new");
            rows[i].setAttribute("data-new", "1");
            added++;
          }
        }
        body.replaceChildren.apply(body, Array.prototype.slice.call(fresh.childNodes));
        announce(added);
      })
      .catch(function () {
        /* the next notice tries again; a reload shows the rows anyway */
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  document.addEventListener("jixiao:notification", refresh);

  var badge = document.querySelector("[data-testid=unread-count]");
  if (badge && window.MutationObserver) {
    var last = badge.textContent;
    new MutationObserver(function () {
      var now = badge.textContent;
      if (Number(now) > Number(last)) refresh();
      last = now;
    }).observe(badge, { childList: true, characterData: true, subtree: true });
  }
})();
