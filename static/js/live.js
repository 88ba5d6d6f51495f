/* Live notifications: keeps the unread badge current and shows a toast per new
 * notification, over ws(s)://<host>/ws/notifications/. Reconnects with backoff; a
 * session that ended (logout elsewhere, idle timeout) sends the page to the login page. */
(function () {
  "use strict";

  var CLOSE_UNAUTHENTICATED = 4401;
  var MAX_DELAY_MS = 30000;
  var TOAST_MS = 8000;
  var PING_MS = 25000;

  var loginUrl = document.body.getAttribute("data-login-url") || "/accounts/login/";
  var socket = null;
  var delay = 1000;
  var pinger = null;
  var ended = false;

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

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!data || typeof data !== "object") return;
    if (data.type === "session_ended") { toLogin(); return; }
    if (typeof data.unread === "number") setUnread(data.unread);
    if (data.type === "notification") toast(data.text, data.url);
  }

  function connect() {
    if (ended) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
    socket.onopen = function () {
      delay = 1000;
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
      var wait = delay + Math.floor(Math.random() * 500);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      setTimeout(connect, wait);
    };
  }

  window.addEventListener("pagehide", function () {
    ended = true;
    if (socket) socket.close();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { ended = false; delay = 1000; connect(); }  // back from the page cache
  });
  connect();
})();
