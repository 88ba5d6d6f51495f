/* Live notifications: keeps the unread badge current and shows a toast per new
 * notification, over ws(s)://<host>/ws/notifications/. Remembers the newest notification
 * id it has seen and, on every reconnect, asks for those it missed (?since=<id>); shows
 * each id once. Reconnects with capped exponential backoff and full jitter (0.5 s base,
 * 3 s cap: back within ~3 s of the server's return), reset once a connection has
 * delivered its first message; a session that ended (logout elsewhere, idle timeout)
 * sends the page to the login page. Any other close (1013 "try again later" when the
 * server's channel layer failed, 1006, 1011, …) is retried. */
(function () {
  "use strict";

  var CLOSE_UNAUTHENTICATED = 4401;
  var BASE_DELAY_MS = 500;
  var MAX_DELAY_MS = 3000;
  var TOAST_MS = 8000;
  var PING_MS = 25000;
  var SHOWN_KEEP = 500;

  var loginUrl = document.body.getAttribute("data-login-url") || "/accounts/login/";
  var socket = null;
  var attempt = 0;
  var pinger = null;
  var ended = false;
  var lastId = null;    // the newest notification id seen; null until the first connection says it
  var shown = {};       // ids already toasted (a replay may repeat a push)
  var shownOrder = [];

  function setUnread(n) {
    var badges = document.querySelectorAll("[data-testid=unread-count]");
    for (var i = 0; i < badges.length; i++) {
      badges[i].textContent = String(n);
      badges[i].classList.toggle("is-zero", !n);
    }
  }

  function toast(text, url) {
    var box = document.getElementById("toasts");
    if (!box || !text) return;
    var item = document.createElement("div");
    item.className = "toast";
    item.setAttribute("role", "status");
    item.setAttribute("data-testid", "toast");
    var content;
    if (url && url.charAt(0) === "/" && url.charAt(1) !== "/") {  // only our own paths
      content = document.createElement("a");
      content.href = url;
    } else {
      content = document.createElement("span");
    }
    content.textContent = text;  // never innerHTML: the text comes from user input
    item.appendChild(content);
    box.appendChild(item);
    setTimeout(function () { if (item.parentNode) item.parentNode.removeChild(item); }, TOAST_MS);
  }

  function toLogin() {
    ended = true;
    var next = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.assign(loginUrl + "?next=" + next);
  }

  function remember(id) {
    shown[id] = true;
    shownOrder.push(id);
    if (shownOrder.length > SHOWN_KEEP) delete shown[shownOrder.shift()];
    if (lastId === null || id > lastId) lastId = id;
  }

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!data || typeof data !== "object") return;
    attempt = 0;  // this connection works: the next drop starts the backoff afresh
    if (data.type === "session_ended") { toLogin(); return; }
    if (typeof data.unread === "number") setUnread(data.unread);
    // the first connection learns where the page stands; older notices are not toasted
    if (data.type === "unread" && typeof data.last_id === "number" && (lastId === null || data.last_id > lastId)) {
      lastId = data.last_id;  // 0 for a user with no notice yet: a reconnect asks for all since
    }
    if (data.type === "notification") {
      if (typeof data.id === "number" && data.id > 0) {
        if (shown[data.id]) return;
        remember(data.id);
      }
      toast(data.text, data.url);
    }
  }

  function backoff() {
    // full jitter: anywhere between 0 and the capped exponential step
    var step = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * Math.pow(2, attempt));
    attempt += 1;
    return Math.floor(Math.random() * step);
  }

  function connect() {
    if (ended) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var query = lastId === null ? "" : "?since=" + lastId;
    socket = new WebSocket(scheme + window.location.host + "/ws/notifications/" + query);
    socket.onopen = function () {
      clearInterval(pinger);
      pinger = setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
      }, PING_MS);
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      clearInterval(pinger);
      if (event.code === CLOSE_UNAUTHENTICATED) { toLogin(); return; }
      if (ended) return;
      setTimeout(connect, backoff());
    };
  }

  window.addEventListener("pagehide", function () {
    ended = true;
    if (socket) socket.close();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { ended = false; attempt = 0; connect(); }  // back from the page cache
  });
  connect();
})();
