/*!
 * Reader widget: Ctrl/Cmd+Enter error reports and a live comments block.
 * One tag: <script src="https://SERVICE/static/js/widget.js" data-site="KEY" async></script>
 * (widget.js is English; widget.ru.js, widget.kk.js... each hold one language.)
 * Options (data-*): article (selector of the article text), comments (selector of
 * the comments target, default [data-moderation-comments]), url (canonical article URL), api,
 * sso (the site's sign-in token; pages that sign in later call ModerationWidget.setSSO(token|null)).
 * No dependencies, no eval, no inline handlers; page text enters the DOM only as text.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-site][src*='widget']");
  if (!script || window.__moderationWidget) return;
  window.__moderationWidget = true;

  var opt = script.dataset;
  var SITE = opt.site;
  var API = (opt.api || new URL(script.src, location.href).origin).replace(/\/$/, "") + "/api/v1";
  var PAGE_URL = opt.url || location.href.split("#")[0];
  var OUTBOX = "moderation:outbox";
  var MINE = "moderation:mine";
  var READER = "moderation:reader"; // the signed anonymous id the server issued (docs/identity.md)
  var REPORTED = "moderation:reported"; // [[client_id, url]] of the reader's reports: "fixed" once
  var OWN = "moderation:own"; // [[comment id, client_id]] of the reader's published comments
  var VOTES = "moderation:votes"; // {comment id: 1 | -1}
  var SSO = opt.sso || null, onSSO = [];
  window.ModerationWidget = {
    setSSO: function (token) { SSO = token || null; onSSO.forEach(function (f) { f(); }); }
  };
  // The name the token vouches for, for display only (the server verifies the token).
  function ssoName() {
    try { return JSON.parse(decodeURIComponent(escape(atob(SSO.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))))).user.username; } catch (e) { /* not a JWT: no name */ }
  }
  var POLL_MS = 4000;
  var HOLD_MS = 30000; // a published comment of the reader stays shown this long at most (see render)
  /* The API contract's limits and enums (moderation/schemas/limits.py): tools/build_widget.py
     fills this table, so the widget refuses exactly what the server refuses. */
  var LIMITS = {};
  var CTX = LIMITS.context;

  /* English is the source; the other languages live in the Babel domain "widget"
     (moderation/translations/<lang>/LC_MESSAGES/widget.po, msgctxt = the key below).
     tools/build_widget.py swaps this table for one with every catalog's strings. */
  var STRINGS = {
    en: {
      title: "Report an error", context: "Selected text", suggestion: "Should read",
      comment: "Comment (optional)", kind: "Kind of error", typo: "Typo", fact: "Factual error",
      other: "Other", send: "Send", cancel: "Cancel", button: "Report error",
      thanks: "Thank you! The editors will look at it.", dup: "Already reported, the editors know.",
      cut: "Your selection was shortened to {n} characters:",
      offline: "Saved: it will be sent automatically.", failed: "Could not send: ",
      name: "Name", email: "E-mail (optional, never shown)",
      body: "Your comment", post: "Post comment", reply: "Reply", more: "Show more",
      awaiting: "awaiting moderation", unsent: "not sent yet", rejected: "not published", verified: "verified",
      signin: "Sign in to comment", empty: "No comments yet.", sent: "Thank you! Your comment awaits moderation.",
      justnow: "just now", min: " min ago", hour: " h ago", flag: "Report", flagged: "Reported",
      write: "Write a comment", spam: "Spam", abuse: "Abuse", offtopic: "Off-topic",
      cancelReply: "Cancel reply", replyTo: "Reply to ",
      fixMail: "E-mail, to hear when it is fixed (optional)", replies: "E-mail me about replies",
      moreReplies: "More replies", like: "Like", dislike: "Dislike", sort: "Order", oldest: "Oldest",
      newest: "Newest", best: "Best", featured: "Featured", corrections: "Corrections",
      fixedNote: "Thank you — the error you reported was fixed.", edit: "Edit", del: "Delete", save: "Save"
    }
  };
  // One language per bundle (widget.js English, widget.<lang>.js): the build leaves STRINGS one key.
  // The newsroom's tag names the bundle, so its file is the language (data-lang is not read).
  var LANG = Object.keys(STRINGS)[0];
  var T = STRINGS[LANG];

  /* ---------- small DOM helpers (text only, page text never goes through an HTML parser) ---------- */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (attrs[k] != null) node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function uuid() {
    // randomUUID needs a secure context; else 128 bits from the CSPRNG, as digits and dashes (a valid
    // client_id: 8-64 letters, digits, - and _).
    return crypto.randomUUID ? crypto.randomUUID() : crypto.getRandomValues(new Uint32Array(4)).join("-");
  }
  function load(key) { try { return JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return []; } }
  function save(key, v) { try { localStorage.setItem(key, JSON.stringify(v)); } catch (e) { /* private mode */ } }

  var CSS =
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,sans-serif}" +
    ".bg{position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:2147483647}" +
    ".dlg{background:#fff;color:#111;max-width:520px;width:calc(100% - 24px);max-height:96%;overflow:auto;border-radius:8px;padding:20px;box-shadow:0 10px 40px rgba(0,0,0,.3);font-size:15px;line-height:1.45}" +
    "h2{margin:0 0 12px;font-size:19px}label{display:block;margin:10px 0 4px;font-weight:600}" +
    "input,textarea,select{width:100%;padding:8px;border:1px solid #888;border-radius:4px;font-size:15px;color:#111;background:#fff}" +
    "textarea{min-height:70px;resize:vertical}.ctx{background:#f4f4f4;padding:10px;border-radius:4px;word-wrap:break-word}" +
    "mark{background:#ffe066;color:#000;text-decoration:underline wavy #c00;text-underline-offset:3px;font-weight:600}" +
    ".row{display:flex;gap:8px;justify-content:flex-end;margin-top:14px}" +
    "button{font-size:15px;padding:8px 16px;border-radius:4px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}" +
    "button.sec{background:#fff;color:#0b57d0}button:disabled{opacity:.6;cursor:default}" +
    ":focus-visible{outline:3px solid #f5a623;outline-offset:1px}" +
    ".live{margin-top:10px;min-height:1.2em}.fab{position:absolute;z-index:2147483646;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    ".c{padding:10px 0;border-bottom:1px solid #e5e5e5}.c .m{font-size:13px;color:#555}" +
    ".c .b{margin:4px 0;overflow-wrap:anywhere}.c .r{margin-left:22px;border-left:2px solid #e5e5e5;padding-left:12px}" +
    ".c button,.more{background:none;border:0;color:#0b57d0;padding:2px 0;margin-right:12px;font-size:13px}" +
    ".pend{opacity:.75}.pend .m i{color:#a15c00}.hp{display:none}" +
    "form{margin-top:14px}.dlg form{margin:0}.note{font-size:14px;color:#333}" +
    ".ck{display:flex;gap:8px;margin-top:10px}.ck *{width:auto;margin:0}[aria-pressed=true]{font-weight:700}" +
    "div>select{width:auto}";

  function shadowHost(container) {
    var host = el("div", { "data-moderation-widget": "" });
    container.appendChild(host);
    var root = host.attachShadow({ mode: "open" });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", { text: CSS }));
    }
    return root;
  }

  /* ---------- delivery: outbox in localStorage, retried with backoff, exactly once ---------- */
  var retryTimer = null;
  function post(path, body, method) {
    // The reader's credentials, added at send time: the outbox never keeps them.
    // With a token the server takes the SSO reader and ignores the anonymous id.
    body.sso = SSO || undefined;
    body.reader = load(READER)[0];
    return fetch(API + path, {
      method: method || "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      credentials: "omit", keepalive: true
    });
  }
  function deliver(item) {
    // Kept before sending: a closed tab or lost network never loses it.
    drop(item.body.client_id);
    save(OUTBOX, load(OUTBOX).concat(item));
    if (item.path === "/reports") save(REPORTED, load(REPORTED).concat([[item.body.client_id, PAGE_URL]]).slice(-20));
    return attempt(item);
  }
  function kept(id) { return load(OUTBOX).some(function (x) { return x.body.client_id === id; }); }
  function drop(id) {
    save(OUTBOX, load(OUTBOX).filter(function (x) { return x.body.client_id !== id; }));
  }
  function attempt(item) {
    return post(item.path, item.body).then(function (res) {
      if (res.status === 202) {
        drop(item.body.client_id);
        // The first submission is answered with the reader's signed id: kept for the next ones.
        res.json().then(function (j) { if (j.reader) save(READER, [j.reader]); }, Boolean);
        return { ok: true };
      }
      if (res.status === 429 || res.status >= 500) {
        var wait = parseInt(res.headers.get("Retry-After"), 10);
        schedule(item, isNaN(wait) ? null : wait * 1000);
        return { keep: true };
      }
      drop(item.body.client_id); // 4xx: retrying cannot help
      return res.json().catch(function () { return {}; }).then(function (j) {
        return { message: j.message || res.status };
      });
    }, function () {
      schedule(item, null);
      return { keep: true };
    });
  }
  function schedule(item, ms) {
    item.tries = (item.tries || 0) + 1;
    var box = load(OUTBOX);
    box.forEach(function (x) { if (x.body.client_id === item.body.client_id) x.tries = item.tries; });
    save(OUTBOX, box);
    var delay = ms || Math.min(60000, 1000 * Math.pow(2, item.tries)) * (0.75 + Math.random() / 2);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, delay);
  }
  function flush() {
    load(OUTBOX).forEach(function (item) { attempt(item); });
  }
  window.addEventListener("online", flush);

  /* ---------- the article text and the selection's context (W3C TextQuoteSelector) ---------- */
  // data-article is a selector list: a selection inside any element it matches is reportable (its
  // context taken from that element). Else (or if it matches nothing) the first default that exists.
  var articleSels = [opt.article || "[data-article]", "article", "main", "body"];
  function articleRoot(node) {
    for (var i = 0; i < articleSels.length; i++) {
      var found = document.querySelectorAll(articleSels[i]);
      // Document order: an element comes before those inside it, so the outermost match is taken.
      for (var j = 0; j < found.length; j++) if (found[j].contains(node)) return found[j];
      if (found.length) return null;
    }
  }
  function textNodes(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        return /^(SCRIPT|STYLE|NOSCRIPT)$/.test(n.parentNode.nodeName) ? 2 : 1; // NodeFilter.FILTER_REJECT : FILTER_ACCEPT
      }
    });
    var out = [], n;
    while ((n = walker.nextNode())) out.push(n);
    return out;
  }
  function offsetOf(nodes, container, offset) {
    // Characters of the article text before the boundary (which may sit in an element).
    var at = document.createRange(), pos = 0;
    at.setStart(container, offset);
    for (var i = 0; i < nodes.length && nodes[i] !== container && at.comparePoint(nodes[i], 0) < 1; i++) pos += nodes[i].data.length;
    return nodes[i] === container ? pos + offset : pos;
  }
  function squash(s) { return s.replace(/\s+/g, " "); }
  function capture(sel) {
    if (!sel || sel.isCollapsed || !sel.rangeCount) return null;
    var range = sel.getRangeAt(0); // ranges are always forward, whatever the drag direction
    var root = articleRoot(range.commonAncestorContainer);
    if (!root) return null;
    var nodes = textNodes(root);
    var text = nodes.map(function (n) { return n.data; }).join("");
    var start = offsetOf(nodes, range.startContainer, range.startOffset);
    var end = offsetOf(nodes, range.endContainer, range.endOffset);
    var ws = /\s/;
    while (start < end && ws.test(text[start])) start++;
    // Longer than the API takes: cut at LIMITS.exact characters (a white-space run counts as one),
    // so the context follows what is reported and the dialog says it was shortened.
    for (var i = start, n = 0; i < end && n < LIMITS.exact; i++) if (/\S/.test(text[i] + text[i - 1])) n++;
    var cut = /\S/.test(text.slice(i, end));
    if (cut) end = i;
    while (end > start && ws.test(text[end - 1])) end--;
    if (end <= start) return null;
    return {
      exact: squash(text.slice(start, end)), cut: cut,
      prefix: squash(text.slice(Math.max(0, start - CTX * 3), start)).slice(-CTX),
      suffix: squash(text.slice(end, end + CTX * 3)).slice(0, CTX),
      position: squash(text.slice(0, start)).length
    };
  }

  /* ---------- the dialog ---------- */
  var dialogRoot = null, lastFocus = null;
  function openDialog(quote) {
    if (dialogRoot) return;
    lastFocus = document.activeElement;
    dialogRoot = shadowHost(document.body);
    var suggestion = el("input", { id: "mw-s", type: "text", maxlength: LIMITS.suggestion });
    suggestion.value = quote.exact;
    var note = el("textarea", { id: "mw-c", maxlength: LIMITS.comment });
    var kind = el("select", { id: "mw-k" }, LIMITS.kinds.map(function (k) {
      return el("option", { value: k, text: T[k] });
    }));
    var fixMail = el("input", { id: "mw-e", type: "email", maxlength: LIMITS.email, autocomplete: "email" });
    var live = el("div", { class: "live", role: "status", "aria-live": "polite" });
    var send = el("button", { type: "submit", text: T.send });
    var cancel = el("button", { type: "button", class: "sec", text: T.cancel });
    // The role sits on a wrapping <div>: a <form> may not take role="dialog" (axe aria-allowed-role).
    var form = el("form", {}, [
      el("h2", { id: "mw-t", text: T.title }),
      el("div", { class: "note", text: T.context }),
      quote.cut && el("p", { class: "note", role: "alert", text: T.cut.replace("{n}", LIMITS.exact) }),
      el("p", { class: "ctx" }, [
        document.createTextNode((quote.prefix.length < CTX ? "" : "…") + quote.prefix),
        el("mark", { text: quote.exact }),
        document.createTextNode(quote.suffix + (quote.suffix.length < CTX ? "" : "…"))
      ]),
      el("label", { for: "mw-s", text: T.suggestion }), suggestion,
      el("label", { for: "mw-c", text: T.comment }), note,
      el("label", { for: "mw-k", text: T.kind }), kind,
      el("label", { for: "mw-e", text: T.fixMail }), fixMail,
      live,
      el("div", { class: "row" }, [cancel, send])
    ]);
    var box = el("div", { class: "dlg", role: "dialog", "aria-modal": "true", "aria-labelledby": "mw-t" }, [form]);
    var bg = el("div", { class: "bg" }, [box]);
    dialogRoot.appendChild(bg);
    cancel.addEventListener("click", closeDialog);
    bg.addEventListener("mousedown", function (e) { if (e.target === bg) closeDialog(); });
    form.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); closeDialog(); }
      if (e.key === "Tab") trapTab(e, form);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      send.disabled = true;
      var body = {
        site: SITE, url: PAGE_URL, exact: quote.exact, prefix: quote.prefix, suffix: quote.suffix,
        position: quote.position, suggestion: suggestion.value, comment: note.value, kind: kind.value,
        client_id: uuid(), notify_email: fixMail.value.trim() || undefined
      };
      deliver({ path: "/reports", body: body }).then(function (r) {
        live.textContent = r.ok ? T.thanks : r.keep ? T.offline : T.failed + r.message;
        if (!r.ok && !r.keep) { send.disabled = false; return; }
        (r.ok ? followUp(body.client_id, live, 5) : Promise.resolve()).then(function () {
          setTimeout(closeDialog, 1800);
        });
      });
    });
    suggestion.focus();
    suggestion.select();
  }
  // Once the worker has stored it, the server says whether other readers reported the spot first.
  function followUp(id, live, tries) {
    return new Promise(function (done) { setTimeout(done, 700); }).then(function () {
      return fetch(status(id), { credentials: "omit" });
    }).then(function (res) { return res.ok ? res.json() : { status: "queued" }; }).then(function (s) {
      if (s.already_reported) live.textContent = T.dup;
      else if (s.status === "queued" && tries > 1) return followUp(id, live, tries - 1);
    }).catch(function () {});
  }
  // client_ids are unique per site: the status lookup names the site.
  function status(id) { return API + "/submissions/" + id + "?site=" + encodeURIComponent(SITE); }
  function trapTab(e, scope) {
    var f = scope.querySelectorAll("input,select,textarea,button:not([disabled])");
    var first = f[0], last = f[f.length - 1], active = scope.getRootNode().activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  }
  function closeDialog() {
    if (!dialogRoot) return;
    dialogRoot.host.remove();
    dialogRoot = null;
    if (lastFocus && lastFocus.focus) lastFocus.focus();
  }

  function editable(node) {
    return node && (node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.nodeName));
  }
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || editable(e.target) || dialogRoot) return;
    var quote = capture(window.getSelection());
    if (!quote) return;
    e.preventDefault();
    openDialog(quote);
  });

  /* ---------- touch: a floating button next to the selection ---------- */
  var fab = null, fabTimer = null;
  function hideFab() { if (fab) { fab.host.remove(); fab = null; } }
  if (window.matchMedia && matchMedia("(pointer: coarse)").matches) {
    document.addEventListener("selectionchange", function () {
      clearTimeout(fabTimer);
      fabTimer = setTimeout(function () {
        var sel = window.getSelection();
        var quote = capture(sel);
        hideFab();
        if (!quote || dialogRoot) return;
        var rect = sel.getRangeAt(0).getBoundingClientRect();
        fab = shadowHost(document.body);
        var btn = el("button", { type: "button", class: "fab", text: T.button });
        btn.style.top = (window.scrollY + rect.bottom + 8) + "px";
        btn.style.left = Math.max(8, window.scrollX + rect.left) + "px";
        btn.addEventListener("click", function () { hideFab(); openDialog(quote); });
        fab.appendChild(btn);
      }, 350);
    });
  }

  /* ---------- comments ---------- */
  var target = document.querySelector(opt.comments || "[data-moderation-comments]");
  if (target) initComments(target);
  function json(url) {
    return fetch(url, { credentials: "omit" }).then(function (r) { return r.status === 404 ? { status: "rejected" } : r.json(); });
  }
  function get(path, query) {
    return json(API + path + "?site=" + encodeURIComponent(SITE) + (query || ""));
  }

  /* comment counts for article lists: every [data-moderation-count=URL], one request (per 100 URLs) */
  var counted = document.querySelectorAll("[data-moderation-count]"), urls = [];
  counted.forEach(function (n) {
    if (urls.indexOf(n.u = n.dataset.moderationCount) < 0) urls.push(n.u); // absolute URLs, as the links' href
  });
  for (var i = 0; i < urls.length; i += LIMITS.counts) {
    get("/counts", "&url=" + urls.slice(i, i + LIMITS.counts).map(encodeURIComponent).join("&url=")).then(function (j) {
      counted.forEach(function (n) { if (j.counts[n.u] != null) n.textContent = j.counts[n.u]; });
    }).catch(Boolean);
  }

  /* under the article: the "your error was fixed" note (once) and the published corrections */
  var under = null, fixedShown;
  function below(node) {
    if (!under) {
      under = shadowHost(document.body);
      // above the comments block where the page has one, else after the article
      var a = document.querySelector("[data-article],article,main");
      if (target) target.before(under.host);
      else if (a) a.after(under.host);
    }
    return under.appendChild(node);
  }
  load(REPORTED).forEach(function (r) {
    if (r[1] === PAGE_URL) get("/submissions/" + r[0]).then(function (s) {
      if (s.status === "fixed") fixedShown = fixedShown || below(el("p", { class: "note", text: T.fixedNote }));
      if (/fixed|rejected/.test(s.status)) save(REPORTED, load(REPORTED).filter(function (x) { return x[0] !== r[0]; }));
    }).catch(Boolean);
  });
  get("/corrections", "&url=" + encodeURIComponent(PAGE_URL)).then(function (j) {
    var list = j.corrections.map(function (c) {
      return { "@type": "CorrectionComment", text: [c.note, c.text].filter(Boolean).join(" — "), datePublished: c.corrected_at };
    });
    if (!list[0]) return;
    below(el("section", {}, [el("h2", { text: T.corrections }), el("ul", {}, list.map(function (c) {
      return el("li", { text: ago(c.datePublished) + ": " + c.text });
    }))]));
    // (h2: the block follows the article, whose headline is the h1.) schema.org structured data for search engines, in the page itself (not the shadow root)
    document.head.appendChild(el("script", { type: "application/ld+json", text: JSON.stringify({
      "@context": "https://schema.org", "@type": "Article", url: PAGE_URL, correction: list }) }));
  }).catch(Boolean);

  function ago(iso) {
    var s = (Date.now() - Date.parse(iso)) / 1000;
    if (s < 60) return T.justnow;
    if (s < 3600) return Math.floor(s / 60) + T.min;
    if (s < 86400) return Math.floor(s / 3600) + T.hour;
    return new Date(iso).toLocaleDateString(LANG);
  }

  function initComments(container) {
    container.textContent = ""; // the server-rendered fallback is replaced by the live list
    var root = shadowHost(container);
    var list = el("div", { role: "feed", "aria-busy": "false" });
    var more = el("button", { type: "button", class: "more", text: T.more, hidden: "" });
    var mineBox = el("div");
    var empty = el("p", { class: "note", text: T.empty });
    var state = { etag: null, next: null, extra: [], flagged: {}, replies: {}, site: {} };
    var voted = Object.assign({}, load(VOTES));
    var sort = el("select", { "aria-label": T.sort }, LIMITS.sorts.map(function (k) {
      return el("option", { value: k, text: T[k] });
    }));
    sort.addEventListener("change", function () {
      state.sort = sort.value;
      state.etag = null;
      state.extra = [];
      refresh();
    });
    function listUrl(q) {
      return API + "/comments?site=" + encodeURIComponent(SITE) + "&url=" + encodeURIComponent(PAGE_URL) + q +
        (state.sort ? "&sort=" + state.sort : "");
    }
    var form = commentForm();
    // Sites that take comments from signed-in readers only show their sign-in link instead of the form.
    var signin = el("a", { hidden: "" , text: T.signin });
    function gate() {
      var closed = state.site.sso_required && !SSO;
      form.node.hidden = closed;
      signin.hidden = !closed;
      if (state.site.sso_login_url) signin.href = state.site.sso_login_url;
    }
    onSSO.push(gate);
    root.appendChild(el("div", {}, [sort, empty, list, mineBox, more, form.node, signin]));

    function renderComment(c, pending) {
      var reply = el("button", { type: "button", text: T.reply });
      reply.addEventListener("click", function () { form.replyTo(c); });
      var meta = el("div", { class: "m" }, [el("b", { text: c.author }), document.createTextNode(" · " + ago(c.created_at))]);
      if (c.verified) meta.appendChild(el("span", { text: " ✓ " + T.verified }));
      if (c.featured) meta.appendChild(el("b", { text: " · ★ " + T.featured }));
      // Still in the outbox (rate limit, offline): not sent yet, so not "awaiting moderation" either.
      if (pending) meta.appendChild(el("i", { text: " · " + (c.rejected ? T.rejected : kept(c.client_id) ? T.unsent : T.awaiting) }));
      var body = el("div", { class: "b" });
      if (pending) body.textContent = c.body; // the reader's own text, not yet sanitized by us
      else body.innerHTML = c.body_html; // sanitized by the server (bleach safelist)
      var node = el("article", { class: "c" + (pending ? " pend" : ""), id: "comment-" + (c.id || c.client_id) }, [meta, body]);
      if (!pending && !c.deleted) {
        var flag = el("button", { type: "button", "aria-expanded": "false", text: state.flagged[c.id] ? T.flagged : T.flag });
        var reasons = el("span", { hidden: "" }, LIMITS.reasons.map(function (why) {
          var b = el("button", { type: "button", "data-reason": why, text: T[why] });
          b.addEventListener("click", function () {
            state.flagged[c.id] = true;
            reasons.hidden = true;
            flag.textContent = T.flagged;
            deliver({ path: "/comments/" + c.id + "/flags", body: { site: SITE, reason: why, client_id: uuid() } });
          });
          return b;
        }));
        flag.addEventListener("click", function () {
          if (state.flagged[c.id]) return;
          reasons.hidden = !reasons.hidden;
          flag.setAttribute("aria-expanded", !reasons.hidden);
        });
        node.appendChild(el("div", {}, votes(c, node).concat([reply, flag, reasons], ownTools(c, node, body))));
      }
      if (c.replies && c.replies.length) {
        // A thread shows its first replies; "More replies" pages through the rest (kept across polls).
        var last = c.replies[c.replies.length - 1].id;
        var shown = c.replies.concat((state.replies[c.id] || []).filter(function (r) { return r.id > last; }));
        var box = el("div", { class: "r" }, shown.map(function (r) { return renderComment(r); }));
        node.appendChild(box);
        if (shown.length < c.replies_total) {
          var moreReplies = el("button", { type: "button", class: "more", text: T.moreReplies });
          moreReplies.addEventListener("click", function () {
            json(listUrl("&thread=" + c.id + "&after=" + shown[shown.length - 1].id)).then(function (data) {
                state.replies[c.id] = (state.replies[c.id] || []).concat(data.comments);
                shown = shown.concat(data.comments);
                data.comments.forEach(function (r) { box.appendChild(renderComment(r)); });
                moreReplies.hidden = !data.next;
              });
          });
          node.appendChild(moreReplies);
        }
      }
      return node;
    }

    /* likes (and dislikes where the site has them): once per reader, counted at once (the next
       list that changes has the server's counts) */
    function votes(c, node) {
      return (state.site.dislikes ? [1, -1] : [1]).map(function (x) {
        var key = x > 0 ? "likes" : "dislikes";
        var b = el("button", { type: "button", "aria-pressed": voted[c.id] === x, text: T[x > 0 ? "like" : "dislike"] + " " + (c[key] || 0) });
        b.addEventListener("click", function () {
          if (voted[c.id] === x) return;
          if (voted[c.id]) c[x > 0 ? "dislikes" : "likes"]--;
          c[key] = (c[key] || 0) + 1;
          voted[c.id] = x;
          save(VOTES, voted);
          deliver({ path: "/comments/" + c.id + "/votes", body: { site: SITE, value: x, client_id: uuid() } });
          var fresh = renderComment(c);
          node.replaceWith(fresh);
          fresh.querySelector("[aria-pressed=true]").focus();
        });
        return b;
      });
    }

    /* the reader's own published comments: edit (within the site's edit_minutes), delete */
    function ownTools(c, node, body) {
      var mine = load(OWN).find(function (o) { return o[0] === c.id; });
      if (!mine) return [];
      var edit = el("button", { type: "button", text: T.edit });
      var del = el("button", { type: "button", text: T.del });
      edit.hidden = Date.now() > Date.parse(c.created_at) + state.site.edit_minutes * 6e4;
      del.addEventListener("click", function () { own("DELETE"); });
      edit.addEventListener("click", function () {
        var text = el("textarea", { "aria-label": T.body, maxlength: LIMITS.body });
        var ok = el("button", { type: "button", text: T.save });
        var cancel = el("button", { type: "button", text: T.cancel });
        text.value = body.textContent;
        edit.hidden = true;
        ok.addEventListener("click", function () { own("PATCH", text.value); });
        cancel.addEventListener("click", function () { node.replaceWith(renderComment(c)); });
        body.replaceWith(el("div", {}, [text, ok, cancel]));
        text.focus();
      });
      function own(method, text) {
        post("/comments/" + c.id, { site: SITE, body: text }, method).then(function (r) {
          return r.json().then(function (a) { if (!r.ok) throw a; return a; });
        }).then(function (a) {
          if (a.status !== "pending") return node.replaceWith(renderComment(a));
          // back to moderation: its reader sees it "awaiting moderation" until it is published again
          node.remove();
          save(MINE, load(MINE).concat([Object.assign(a, { client_id: mine[1], url: PAGE_URL, body: text })]));
          renderMine();
        }, function (e) {
          node.append(T.failed + e.message);
        });
      }
      return [edit, del];
    }

    function render(data) {
      list.textContent = "";
      var all = data.comments.concat(state.extra);
      all.forEach(function (c) { list.appendChild(renderComment(c)); });
      more.hidden = !state.next;
      // A published comment of the reader's stays shown until the list (maybe a shared cache's
      // copy, seconds old) has it, or for HOLD_MS if it is on a later page.
      save(MINE, load(MINE).filter(function (m) {
        if (m.rejected) return Date.now() < m.rejected + 864e5; // "not published", for a day
        return !m.shown || (Date.now() < m.shown[1] && !list.querySelector("#comment-" + m.shown[0]));
      }));
      renderMine();
    }

    function refresh() {
      var headers = state.etag ? { "If-None-Match": state.etag } : {};
      return fetch(listUrl(""), { headers: headers, credentials: "omit" }).then(function (res) {
        if (res.status === 304 || !res.ok) return;
        state.etag = res.headers.get("ETag");
        return res.json().then(function (data) {
          if (!state.extra.length) state.next = data.next;
          state.site = data.site || {};
          if (!state.sort) sort.value = state.site.default_sort || LIMITS.sorts[0];
          gate();
          render(data);
        });
      }).catch(function () { /* offline: keep what is shown */ });
    }

    more.addEventListener("click", function () {
      json(listUrl("&after=" + state.next)).then(function (data) {
        state.extra = state.extra.concat(data.comments);
        state.next = data.next;
        data.comments.forEach(function (c) { list.appendChild(renderComment(c)); });
        more.hidden = !state.next;
      });
    });

    /* the reader's own comments awaiting moderation: shown to them only */
    function renderMine() {
      mineBox.textContent = "";
      list.querySelectorAll(".pend").forEach(function (n) { n.remove(); });
      load(MINE).filter(function (m) { return m.url === PAGE_URL; }).forEach(function (m) {
        // a reply goes under its parent, as it will be once published
        var parent = m.parent && list.querySelector("#comment-" + m.parent);
        var node = renderComment(m, true);
        if (!parent) return mineBox.appendChild(node);
        var box = parent.querySelector(".r") || parent.appendChild(el("div", { class: "r" }));
        box.appendChild(node);
      });
      // "No comments yet" only while there is none, not even the reader's own pending one
      empty.hidden = !!(list.firstChild || mineBox.firstChild);
      list.hidden = !list.firstChild; // an empty feed is an ARIA error (a feed holds articles)
    }
    function checkMine() {
      var mine = load(MINE).filter(function (m) { return m.url === PAGE_URL && !m.shown && !m.rejected; });
      return Promise.all(mine.map(function (m) {
        return fetch(status(m.client_id), { credentials: "omit" }).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (s) {
          if (s && /published|rejected/.test(s.status)) {
            save(MINE, load(MINE).map(function (x) {
              if (x.client_id === m.client_id) {
                if (s.comment_id) {
                  x.shown = [s.comment_id, Date.now() + HOLD_MS];
                  save(OWN, load(OWN).filter(function (o) { return o[0] !== s.comment_id; })
                    .concat([[s.comment_id, x.client_id]]).slice(-50));
                }
                else x.rejected = Date.now(); // never a silent vanish: "not published", for a day
              }
              return x;
            }));
            return true;
          }
        }).catch(function () {});
      })).then(function (changed) {
        renderMine(); // also when one left the outbox: "not sent yet" becomes "awaiting moderation"
        if (changed.some(Boolean)) { state.etag = null; return refresh(); }
      });
    }

    function commentForm() {
      var name = el("input", { id: "mc-n", required: "", maxlength: LIMITS.author, autocomplete: "name" });
      var mail = el("input", { id: "mc-e", type: "email", maxlength: LIMITS.email, autocomplete: "email" });
      var body = el("textarea", { id: "mc-b", required: "", maxlength: LIMITS.body });
      var follow = el("input", { id: "mc-r", type: "checkbox" });
      var hp = el("input", { id: "mc-w", name: "website", tabindex: "-1", autocomplete: "off" });
      var live = el("div", { class: "live", role: "status", "aria-live": "polite" });
      var replyNote = el("div", { class: "note", hidden: "" });
      var cancelReply = el("button", { type: "button", class: "more", text: T.cancelReply, hidden: "" });
      var submit = el("button", { type: "submit", text: T.post });
      var parent = null, shownAt = Date.now();
      var node = el("form", { novalidate: "" }, [
        el("h3", { text: T.write }), replyNote, cancelReply,
        el("label", { for: "mc-n", text: T.name }), name,
        el("label", { for: "mc-e", text: T.email }), mail,
        el("div", { class: "ck" }, [follow, el("label", { for: "mc-r", text: T.replies })]),
        el("label", { for: "mc-b", text: T.body }), body,
        el("div", { class: "hp", "aria-hidden": "true" }, [el("label", { for: "mc-w", text: "Website" }), hp]),
        el("div", { class: "row" }, [submit]), live
      ]);
      cancelReply.addEventListener("click", function () { setParent(null); });
      // Signed in: the name is the account's, fixed (the server takes it from the token anyway).
      function named() {
        var n = SSO && ssoName();
        if (n || name.readOnly) name.value = n || "";
        name.readOnly = !!n;
      }
      onSSO.push(named);
      named();
      function setParent(c) {
        parent = c ? c.id : null;
        replyNote.hidden = cancelReply.hidden = !c;
        replyNote.textContent = c ? T.replyTo + c.author : "";
      }
      node.addEventListener("submit", function (e) {
        e.preventDefault();
        if (!name.value.trim() || !body.value.trim()) { live.textContent = T.failed + T.name + ", " + T.body; return; }
        submit.disabled = true;
        var payload = {
          site: SITE, url: PAGE_URL, title: document.title, author: name.value, email: mail.value,
          body: body.value, parent: parent, client_id: uuid(), hp: hp.value, elapsed_ms: Date.now() - shownAt,
          notify_email: (follow.checked && mail.value.trim()) || undefined
        };
        deliver({ path: "/comments", body: payload }).then(function (r) {
          submit.disabled = false;
          if (r.ok || r.keep) {
            var mine = load(MINE);
            mine.push({ client_id: payload.client_id, url: PAGE_URL, author: payload.author, body: payload.body,
              parent: payload.parent, created_at: new Date().toISOString() });
            save(MINE, mine);
            body.value = "";
            setParent(null);
            renderMine();
          }
          live.textContent = r.ok ? T.sent : r.keep ? T.offline : T.failed + r.message;
        });
      });
      return {
        node: node,
        replyTo: function (c) { setParent(c); body.focus(); }
      };
    }

    /* live: conditional polling (ETag/304), paused while the tab is hidden */
    var timer = null;
    function tick() {
      clearTimeout(timer);
      if (document.hidden) return;
      Promise.all([refresh(), checkMine()]).then(function () { timer = setTimeout(tick, POLL_MS); });
    }
    document.addEventListener("visibilitychange", tick);
    tick();
  }

  flush(); // anything kept from an earlier visit
})();
