/* The dashboard's only script (no inline scripts: the pages run under a strict CSP).
 *
 * 1. Polling slows down while the tab is hidden. htmx polls `every Ns` on the few elements
 *    marked `data-poll`: the server picks N (fast while something on the page is changing, slow
 *    once it settled) and swaps in a new poller when it changes; it answers 204 while nothing
 *    moved, and 286 (stop) only for what can never change again (a finished operation). While
 *    the document is hidden, a poll is let through only once per `data-poll-hidden-seconds`.
 *    When the tab shows again, a poll that is overdue fires at once (the `xds:poll` trigger).
 * 2. "12 s ago" texts (`time.js-ago`) keep counting without asking the server.
 * 3. Copy buttons (`data-copy="#selector"`).
 * 4. "Select all" checkboxes (`data-select-all="selector of the checkboxes"`).
 * 5. Buttons that act on a selection wait, disabled, until something is selected
 *    (`data-needs-selection="selector of what must match, e.g. the ticked boxes"`).
 * 6. The phone's menu button (`.menu-toggle`): it folds and unfolds the header; the stylesheet
 *    shows the menu while `aria-expanded` is true. Escape folds it again.
 */
(function () {
  "use strict";

  var lastPoll = new Map(); // poller key -> time of its last request (ms)

  function pollKey(elt) {
    return elt.id || (elt.getAttribute("hx-get") || "").split("?")[0];
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-poll")) {
      return;
    }
    var key = pollKey(elt);
    var now = Date.now();
    if (document.hidden) {
      var hiddenMs = 1000 * (parseInt(elt.getAttribute("data-poll-hidden-seconds"), 10) || 60);
      var last = lastPoll.get(key) || 0;
      if (now - last < hiddenMs) {
        evt.preventDefault(); // skip this tick; the timer keeps running
        return;
      }
    }
    lastPoll.set(key, now);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) {
      return;
    }
    document.querySelectorAll("[data-poll]").forEach(function (elt) {
      var trigger = elt.getAttribute("hx-trigger") || "";
      var last = lastPoll.get(pollKey(elt)) || 0;
      if (trigger.indexOf("xds:poll") !== -1 && Date.now() - last > 2000) {
        window.htmx.trigger(elt, "xds:poll");
      }
    });
  });

  // --- "N s ago" -----------------------------------------------------------------------------
  var relative = null;
  try {
    relative = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, {
      numeric: "always",
      style: "narrow",
    });
  } catch (e) {
    relative = null;
  }

  function formatAgo(seconds) {
    if (!relative) {
      return null;
    }
    if (seconds < 60) {
      return relative.format(-seconds, "second");
    }
    if (seconds < 3600) {
      return relative.format(-Math.floor(seconds / 60), "minute");
    }
    if (seconds < 86400) {
      return relative.format(-Math.floor(seconds / 3600), "hour");
    }
    return relative.format(-Math.floor(seconds / 86400), "day");
  }

  function refreshAgo() {
    document.querySelectorAll("time.js-ago[datetime]").forEach(function (elt) {
      var then = Date.parse(elt.getAttribute("datetime"));
      if (isNaN(then)) {
        return;
      }
      var text = formatAgo(Math.max(0, Math.round((Date.now() - then) / 1000)));
      if (text) {
        elt.textContent = text;
      }
    });
  }
  setInterval(refreshAgo, 5000);

  // --- Copy buttons --------------------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button || !navigator.clipboard) {
      return;
    }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied-label") || label;
      setTimeout(function () {
        button.textContent = label;
      }, 1500);
    });
  });
  // --- Select all ----------------------------------------------------------------------------
  document.addEventListener("change", function (evt) {
    var all = evt.target;
    if (!all.matches || !all.matches("[data-select-all]")) {
      return;
    }
    document.querySelectorAll(all.getAttribute("data-select-all")).forEach(function (box) {
      box.checked = all.checked;
    });
  });
  // --- The phone's menu -------------------------------------------------------------------------
  function setMenu(toggle, open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest ? evt.target.closest(".menu-toggle") : null;
    if (toggle) {
      setMenu(toggle, toggle.getAttribute("aria-expanded") !== "true");
    }
  });
  document.addEventListener("keydown", function (evt) {
    var toggle = document.querySelector(".menu-toggle[aria-expanded='true']");
    if (evt.key === "Escape" && toggle) {
      setMenu(toggle, false);
      toggle.focus();
    }
  });

  // --- Buttons that need a selection ---------------------------------------------------------
  function updateSelectionButtons() {
    document.querySelectorAll("[data-needs-selection]").forEach(function (button) {
      button.disabled = !document.querySelector(button.getAttribute("data-needs-selection"));
    });
  }
  // After "Select all" above (listeners run in order), and after a swap (new rows, none ticked).
  document.addEventListener("change", updateSelectionButtons);
  document.addEventListener("htmx:afterSettle", updateSelectionButtons);
  updateSelectionButtons();
})();
