/* Dashboard progressive enhancement: keyboard (j k a r f s x o / ?), actions without
 * reload, live queue counts, "being handled by" claims. Without it every form still works. */
(function () {
  "use strict";
  var body = document.body;
  var items = function () { return Array.prototype.slice.call(document.querySelectorAll(".queue .item")); };
  var current = null;
  var help = document.getElementById("help");
  var helpReturn = null;

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
        el.textContent = counts[key] ? String(counts[key]) : "";
      });
    });
  }

  function refreshCounts() {
    if (document.hidden || !body.dataset.countsUrl) return;
    fetch(body.dataset.countsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; }).then(updateCounts).catch(function () {});
  }

  /* Action forms: post in the background, drop the item from the queue, focus the next. */
  function submitAction(form) {
    var item = form.closest(".item");
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    return fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, message: r.statusText }; });
    }).then(function (data) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (!data.ok) { alertBox(item, data.message || "Error"); return; }
      updateCounts(data.counts);
      if (item && item.closest("[data-queue]")) {
        var list = items();
        var next = list[list.indexOf(item) + 1] || list[list.indexOf(item) - 1];
        item.remove();
        if (next) focusItem(next); else current = null;
      } else {
        location.reload();
      }
    }).catch(function () {
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
    if (name === "reject") {
      var reason = form.querySelector("[data-reason-select]");
      if (reason) { reason.focus(); return; }
    }
    submitAction(form);
  }

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
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!help.hidden) {
      if (e.key === "Escape" || e.key === "?") { e.preventDefault(); closeHelp(); }
      return;
    }
    var target = e.target;
    if (typing(target)) {
      if (e.key === "Escape") { target.blur(); if (current) current.focus(); }
      // Enter in a reason select submits the reject form (the select has no default action).
      if (e.key === "Enter" && target.matches("[data-reason-select]")) { e.preventDefault(); submitAction(target.form); }
      return;
    }
    var keys = {
      j: function () { move(1); }, k: function () { move(-1); },
      a: function () { act("approve"); }, r: function () { act("reject"); },
      f: function () { act("fix"); }, s: function () { act("spam"); },
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
  focusItem(items()[0]);
  refreshCounts();
  setInterval(refreshCounts, 10000);
  document.addEventListener("visibilitychange", refreshCounts);
})();
