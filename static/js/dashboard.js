/* Dashboard progressive enhancement: keyboard (j k x o / ? and the action keys the
 * templates render from the action registry as data-key / data-bulk-key), actions without
 * reload, the reason popup, the live queue ("N new" bar) and counts, "being handled by"
 * claims. Without it every form still works. */
(function () {
  "use strict";
  var body = document.body;
  var items = function () { return Array.prototype.slice.call(document.querySelectorAll(".queue .item:not([hidden])")); };
  var current = null;
  var help = document.getElementById("help");
  var helpReturn = null;
  var reasonBox = document.getElementById("reason-dialog");
  var reasonDone = null;  // what Enter in the reason popup does with the reason
  var reasonReturn = null;
  var queue = document.querySelector("[data-queue][data-live-url]");
  var liveBar = document.querySelector("[data-live-bar]");
  var waiting = "";  // rendered items the "N new" bar holds until `n` or a click

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.nodeName));
  }

  function focusItem(item) {
    if (!item) return;
    if (current) current.classList.remove("current");
    current = item;
    item.classList.add("current");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
    claim(item);
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var at = list.indexOf(current);
    focusItem(list[Math.max(0, Math.min(list.length - 1, at < 0 ? 0 : at + step))]);
  }

  function claim(item) {
    var url = item.getAttribute("data-claim-url");
    if (!url) return;
    fetch(url, { method: "POST", headers: { "X-CSRFToken": body.dataset.csrf }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        var badge = item.querySelector("[data-claimed]");
        if (!badge || !data) return;
        badge.hidden = !data.holder;
        if (data.holder) badge.textContent = badge.textContent.replace(/\S+@\S+$/, data.holder);
      }).catch(function () {});
  }

  function updateCounts(counts) {
    Object.keys(counts || {}).forEach(function (key) {
      document.querySelectorAll('[data-count="' + key + '"]').forEach(function (el) {
        var cap = Number(body.dataset.countCap);  // decided items are counted up to the cap
        el.textContent = !counts[key] ? "" : counts[key] > cap ? cap + "+" : String(counts[key]);
      });
    });
  }

  function refreshCounts(force) {
    if ((document.hidden && force !== true) || !body.dataset.countsUrl) return;
    fetch(body.dataset.countsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; }).then(updateCounts).catch(function () {});
  }

  /* Action forms: post in the background, drop the item from the queue, focus the next. */
  /* Action forms: post in the background. In a queue the card leaves at once and the next
   * one has the focus, so a second key acts on the next comment, not again on this one. */
  var inFlight = 0;
  function submitAction(form) {
    var item = form.closest(".item");
    // data-stays (feature / unfeature): the item keeps its place; the page is reloaded to show it.
    var inQueue = item && item.closest("[data-queue]") && !form.hasAttribute("data-stays");
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    if (inQueue) {
      var list = items();
      var next = list[list.indexOf(item) + 1] || list[list.indexOf(item) - 1];
      item.hidden = true;
      if (next) focusItem(next); else current = null;
    }
    inFlight += 1;
    return fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, message: r.statusText }; });
    }).then(function (data) {
      inFlight -= 1;
      buttons.forEach(function (b) { b.disabled = false; });
      if (!data.ok) {
        if (inQueue) { item.hidden = false; focusItem(item); }
        alertBox(item, data.message || "Error");
        return;
      }
      // Answers to quick successive actions may cross: the last one in flight asks afresh.
      if (inFlight) updateCounts(data.counts); else refreshCounts(true);
      if (inQueue) item.remove(); else location.reload();
    }).catch(function () {
      inFlight -= 1;
      buttons.forEach(function (b) { b.disabled = false; });
      form.submit();
    });
  }

  function alertBox(item, message) {
    var p = document.createElement("p");
    p.className = "flash error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    (item || document.querySelector("main")).prepend(p);
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.closest(".item") || !window.fetch) return;
    e.preventDefault();
    submitAction(form);
  });

  function act(name) {
    if (!current) return;
    var form = current.querySelector('[data-action="' + name + '"]');
    if (!form) return;
    if (name === "fix") {
      form.open = true;
      var field = form.querySelector("textarea, input[name=correction]");
      if (field) { field.focus(); field.select && field.select(); }
      return;
    }
    if (name === "reject" && reasonBox) {
      askReason(function (reason) {
        form.querySelector("[data-reason-value]").value = reason;
        submitAction(form);
      });
      return;
    }
    submitAction(form);
  }

  /* The reason popup: 1-9 picks a preset, the text line takes one's own, Enter rejects,
   * Esc cancels; the focus goes back to where it was (the card). */
  function askReason(done) {
    reasonDone = done;
    reasonReturn = current || document.activeElement;
    reasonBox.querySelectorAll("[data-preset]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    reasonBox.querySelector("[data-reason-text]").value = "";
    reasonBox.hidden = false;
    reasonBox.querySelector("[data-reason-box]").focus();
  }
  function closeReason(confirmed) {
    var done = reasonDone;
    var picked = reasonBox.querySelector('[data-preset][aria-pressed="true"]');
    var own = reasonBox.querySelector("[data-reason-text]").value.trim();
    reasonBox.hidden = true;
    reasonDone = null;
    if (reasonReturn && reasonReturn.focus) reasonReturn.focus();
    if (confirmed && done) done(own || (picked ? picked.getAttribute("data-preset") : ""));
  }
  function pickPreset(button) {
    reasonBox.querySelectorAll("[data-preset]").forEach(function (b) {
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
  }
  if (reasonBox) {
    reasonBox.addEventListener("keydown", function (e) {
      e.stopPropagation();  // the queue's keys are off while the popup is open
      if (e.key === "Escape") { e.preventDefault(); closeReason(false); return; }
      if (e.key === "Enter" && !e.target.matches("[data-reason-cancel], [data-preset]")) {
        e.preventDefault(); closeReason(true); return;
      }
      if (e.key === "Tab") {  // keep the focus inside the popup
        var stops = Array.prototype.slice.call(reasonBox.querySelectorAll("button, input"));
        var at = stops.indexOf(document.activeElement);
        var next = stops[(at + (e.shiftKey ? -1 : 1) + stops.length) % stops.length];
        e.preventDefault(); next.focus(); return;
      }
      if (/^[1-9]$/.test(e.key) && !typing(e.target)) {
        var button = reasonBox.querySelectorAll("[data-preset]")[Number(e.key) - 1];
        if (button) { e.preventDefault(); pickPreset(button); }
      }
    });
    reasonBox.addEventListener("click", function (e) {
      var preset = e.target.closest("[data-preset]");
      if (preset) { pickPreset(preset); closeReason(true); }
      if (e.target.closest("[data-reason-confirm]")) closeReason(true);
      if (e.target.closest("[data-reason-cancel]")) closeReason(false);
    });
  }

  /* Bulk actions on the selection (Shift+A, Shift+R with the reason popup, Shift+S). */
  function bulk(button) {
    var form = button.form;
    if (!document.querySelectorAll("[data-select]:checked").length) return;
    if (button.hasAttribute("data-asks-reason") && reasonBox) {
      askReason(function (reason) {
        form.querySelector("[data-reason-value]").value = reason;
        form.requestSubmit(button);
      });
      return;
    }
    form.requestSubmit(button);
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-bulk-key]");
    if (button && button.hasAttribute("data-asks-reason") && reasonBox && reasonBox.hidden) {
      e.preventDefault(); bulk(button);
    }
    var reject = e.target.closest("[data-reason-form] button");
    if (reject && reasonBox) {
      e.preventDefault();
      var item = reject.closest(".item");
      if (item) focusItem(item);
      askReason(function (reason) {
        reject.form.querySelector("[data-reason-value]").value = reason;
        submitAction(reject.form);
      });
    }
  }, true);

  /* The live queue: poll for items stored after the newest one shown (same filters); the
   * bar says how many, `n` or a click appends them, so nothing moves under the reader. */
  function poll() {
    if (document.hidden || !queue) return;
    var url = new URL(queue.getAttribute("data-live-url"), location.href);
    url.searchParams.set("after", queue.getAttribute("data-newest"));
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        updateCounts(data.counts);
        if (!data.count) return;
        queue.setAttribute("data-newest", String(data.newest));
        waiting += data.html;
        var n = (liveBar.getAttribute("data-waiting") | 0) + data.count;
        liveBar.setAttribute("data-waiting", String(n));
        liveBar.querySelector("button").textContent =
          queue.getAttribute("data-live-label").replace("{n}", String(n) + (data.more ? "+" : "")) + " (n)";
        liveBar.hidden = false;
      }).catch(function () {});
  }
  function insertWaiting() {
    if (!waiting) return;
    var empty = queue.querySelector(".empty");
    if (empty) empty.remove();
    var holder = document.createElement("div");
    holder.innerHTML = waiting;  // rendered and escaped by the server's item template
    var first = holder.firstElementChild;
    while (holder.firstChild) queue.appendChild(holder.firstChild);
    waiting = "";
    liveBar.hidden = true;
    liveBar.setAttribute("data-waiting", "0");
    if (!current && first) focusItem(first.matches(".item") ? first : queue.querySelector(".item"));
  }
  if (liveBar) liveBar.addEventListener("click", function (e) {
    if (e.target.closest("[data-live-insert]")) insertWaiting();
  });

  function openHelp() {
    helpReturn = document.activeElement;
    help.hidden = false;
    help.querySelector("[data-help-close]").focus();
  }
  function closeHelp() {
    help.hidden = true;
    if (helpReturn && helpReturn.focus) helpReturn.focus();
  }

  document.addEventListener("keydown", function (e) {
    // Ctrl/Cmd+Enter saves a fix (a textarea keeps Enter for new lines).
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && e.target.closest("[data-save-on-ctrl-enter]")) {
      e.preventDefault(); submitAction(e.target.closest("form")); return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!help.hidden) {
      if (e.key === "Escape" || e.key === "?") { e.preventDefault(); closeHelp(); }
      return;
    }
    var target = e.target;
    if (typing(target)) {
      if (e.key === "Escape") { target.blur(); if (current) current.focus(); }
      return;
    }
    if (e.shiftKey && /^[A-Z]$/.test(e.key)) {
      var bulkButton = document.querySelector('[data-bulk-key="' + e.key + '"]');
      if (bulkButton) { e.preventDefault(); bulk(bulkButton); return; }
    }
    var actionKey = current && /^[a-z]$/.test(e.key) && current.querySelector('[data-key="' + e.key + '"]');
    if (actionKey) { e.preventDefault(); act(actionKey.closest("[data-action]").getAttribute("data-action")); return; }
    var keys = {
      j: function () { move(1); }, k: function () { move(-1); },
      n: insertWaiting,
      x: function () {
        var box = current && current.querySelector("[data-select]");
        if (box) { box.checked = !box.checked; countSelected(); }
      },
      o: function () { var link = current && current.querySelector("[data-open]"); if (link) location.href = link.href; },
      b: function () { var link = current && current.querySelector("[data-reader]"); if (link) location.href = link.href; },
      "/": function () { var s = document.getElementById("search"); if (s) s.focus(); },
      "?": openHelp
    };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });

  function countSelected() {
    var n = document.querySelectorAll("[data-select]:checked").length;
    document.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = String(n); });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-select]")) countSelected();
    if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-help]")) openHelp();
    if (e.target.closest("[data-help-close]")) closeHelp();
    var item = e.target.closest(".queue .item");
    if (item && item !== current) focusItem(item);
  });

  if (help) help.addEventListener("keydown", function (e) {
    if (e.key === "Tab") { e.preventDefault(); help.querySelector("[data-help-close]").focus(); }
  });
  var focus = document.querySelector(".queue [data-focus] .item");  // the conversation's comment
  focusItem(focus || items()[0]);
  if (queue) setInterval(poll, 2000);  // "within 5 s of being stored"
  refreshCounts();
  setInterval(refreshCounts, 10000);
  document.addEventListener("visibilitychange", refreshCounts);
})();
