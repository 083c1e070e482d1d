// MARRI gateway console: the little the server cannot do for the browser.
// 1. Times are sent in UTC; here they are shown in the browser's zone, UTC kept on hover.
// 2. Date filters are days in the browser's zone: the form says which zone that is.
// 3. A region marked data-live-src is fetched again every data-live-every seconds.
// Without JavaScript every page still works (UTC times, UTC days, a meta refresh).
"use strict";

(function () {
  function pad(n) { return String(n).padStart(2, "0"); }

  function offsetText(date) {
    const minutes = -date.getTimezoneOffset();
    const sign = minutes >= 0 ? "+" : "-";
    const abs = Math.abs(minutes);
    return sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) { return; }
      el.textContent = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" +
        pad(date.getDate()) + " " + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" +
        pad(date.getSeconds()) + " " + offsetText(date);
      el.setAttribute("data-local", "");
    });
  }

  function zoneFields(root) {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    root.querySelectorAll("input[name='tz']").forEach(function (el) {
      if (!el.value) { el.value = zone; }
    });
    root.querySelectorAll("[data-zone-name]").forEach(function (el) {
      el.textContent = zone || "UTC";
    });
  }

  function live(region) {
    const every = Math.max(1, Number(region.getAttribute("data-live-every")) || 10) * 1000;
    const src = region.getAttribute("data-live-src");
    function tick() {
      const active = document.activeElement;
      if (active && region.contains(active) && active.tagName === "INPUT") {
        window.setTimeout(tick, every);  // someone is typing here: do not pull it away
        return;
      }
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok || response.redirected) { throw new Error("stopped"); }
          return response.text();
        })
        .then(function (html) {
          region.innerHTML = html;
          localTimes(region);
          region.setAttribute("data-refreshed", new Date().toISOString());
          window.setTimeout(tick, every);
        })
        .catch(function () { region.setAttribute("data-live-stopped", ""); });
    }
    window.setTimeout(tick, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    zoneFields(document);
    document.querySelectorAll("[data-live-src]").forEach(live);
  });
})();
