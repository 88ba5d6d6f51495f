/* 督办看板: re-fetches the board's tables (?fragment=1) when the server says the board
 * changed (a `board_changed` message on ws(s)://<host>/ws/notifications/). live.js keeps
 * its socket to itself, so the board opens its own to the same URL; live.js handles a
 * session that ended. Reconnects with backoff and refreshes once after a reconnect (an
 * event may have been missed while the socket was down). */
(function () {
  "use strict";

  var CLOSE_UNAUTHENTICATED = 4401;
  var MAX_DELAY_MS = 30000;
  var PING_MS = 25000;
  var DEBOUNCE_MS = 400;

  var box = document.getElementById("board-tables");
  if (!box || !window.fetch || !window.WebSocket) return;

  var socket = null;
  var delay = 1000;
  var pinger = null;
  var pending = null;
  var stopped = false;
  var opened = false;

  function refresh() {
    clearTimeout(pending);
    // several items closed at once (a bulk action) make one fetch
    pending = setTimeout(function () {
      var url = box.getAttribute("data-fragment-url");
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          box.innerHTML = html;  // our own server-rendered, escaped template
          var mark = document.querySelector("[data-testid=board-live]");
          if (mark) mark.hidden = false;
        })
        .catch(function () { /* keep the tables shown; the next change tries again */ });
    }, DEBOUNCE_MS);
  }

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (data && data.type === "board_changed") refresh();
  }

  function connect() {
    if (stopped) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
    socket.onopen = function () {
      delay = 1000;
      if (opened) refresh();
      opened = true;
      clearInterval(pinger);
      pinger = setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
      }, PING_MS);
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      clearInterval(pinger);
      if (event.code === CLOSE_UNAUTHENTICATED || stopped) return;
      var wait = delay + Math.floor(Math.random() * 500);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      setTimeout(connect, wait);
    };
  }

  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) socket.close();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { stopped = false; delay = 1000; connect(); refresh(); }
  });
  connect();
})();
