/* BluePeak Provider Connect: a small single-page app over /api. Every screen is drawn from JSON; the
   app shows a spinner while it waits and adds a random render delay of its own, as heavy SPAs do.
   Accordion panels are rendered only when opened. Layout "v2" (sandbox fault) draws other markup. */
(function () {
  "use strict";
  var CONFIG = JSON.parse(document.getElementById("bp-config").textContent);
  var D = CONFIG.display;
  var V2 = CONFIG.layout === "v2";
  var app = document.getElementById("app");
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // --- helpers -------------------------------------------------------------------------------------
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  // The app's own drawing time is the portal's, like its network latency: what its drawing delays kept the
  // user waiting since its last request (delays that overlap, as sections opened together, count once) goes
  // with the next request (X-Drawn-Ms), so the sandbox's request log holds it beside the latency it added.
  var drawnMs = 0, drawingUntil = 0;
  function jitter() {
    var ms = 20 + Math.floor(Math.random() * 100), now = performance.now(), end = now + ms;
    drawnMs += Math.max(0, end - Math.max(now, drawingUntil));
    drawingUntil = Math.max(drawingUntil, end);
    return sleep(ms);
  }
  function word(table, code) { var w = (D[table] || {})[code]; return w === undefined ? code : w; }
  function lab(text) { return V2 ? text.toUpperCase() : text; }  // v2: labels in capitals (cosmetic)
  function day(iso) {
    if (!iso) return D.text.none;
    var p = iso.split("-");
    return MONTHS[Number(p[1]) - 1] + " " + Number(p[2]) + ", " + p[0];
  }
  function money(amount) {
    if (amount === null || amount === undefined) return D.text.none;
    var n = Number(amount);
    return (n < 0 ? "-$" : "$") + Math.abs(n).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  function spinner() { return '<div class="spinner" role="progressbar" aria-label="Loading"></div>'; }
  function dl(pairs, cls) {
    return '<dl class="' + (cls || "") + '">' + pairs.map(function (p) {
      return "<dt>" + esc(lab(p[0])) + "</dt><dd>" + esc(p[1]) + "</dd>";
    }).join("") + "</dl>";
  }
  function table(headers, rows, cls) {
    var head = "<tr>" + headers.map(function (h) { return "<th>" + esc(h) + "</th>"; }).join("") + "</tr>";
    var body = rows.map(function (r) {
      return "<tr>" + r.map(function (c) { return "<td>" + (c && c.html !== undefined ? c.html : esc(c)) + "</td>"; }).join("") + "</tr>";
    }).join("");
    return '<table class="' + (cls || "") + '">' + (V2 ? "<thead>" + head + "</thead><tbody>" + body + "</tbody>" : head + body) + "</table>";
  }
  function qs(params) {
    return Object.keys(params).map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  // --- API: every error has a screen of its own ---------------------------------------------------------
  function api(method, url, body) {
    var options = {method: method, credentials: "same-origin",
                   headers: {"Accept": "application/json", "X-Drawn-Ms": String(Math.round(drawnMs))}};
    drawnMs = 0;
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = null; }
        return {status: response.status, data: data};
      });
    }).catch(function () { return {status: 0, data: null}; });
  }
  function errorCode(result) { return result.data && result.data.error ? result.data.error.code : null; }

  // Failures no screen handles itself: session gone, maintenance, rate limit, server errors, terms.
  function handled(result) {
    var code = errorCode(result);
    if (result.status === 401) { showLogin(D.message[code] || null); return true; }
    if (result.status === 403 && code === "TERMS_REQUIRED") { showTerms(); return true; }
    if (code === "MAINTENANCE") { fullPage("Scheduled maintenance", D.message.MAINTENANCE + " Back by " + result.data.error.until + " CT."); return true; }
    if (result.status === 429) { fullPage("Please slow down", D.message.TOO_MANY); return true; }
    if (result.status === 0 || result.status >= 500) { fullPage("Something went wrong", D.message.SERVER); return true; }
    return false;
  }

  // --- chrome --------------------------------------------------------------------------------------
  var user = null;
  function frame(title, inner) {
    var nav = user ? '<nav><a href="/app/home" data-link>Home</a><a href="/app/eligibility" data-link>Eligibility</a>' +
      '<a href="/app/authorizations" data-link>Authorizations</a><a href="/app/claims" data-link>Claim status</a></nav>' +
      '<span class="user">Signed in as ' + esc(user) + "</span>" : "";
    app.innerHTML = '<header class="' + (V2 ? "bp2-top" : "bp-top") + '"><span class="brand">BluePeak Health</span>' + nav +
      '</header><main class="' + (V2 ? "bp2-main" : "bp-main") + '"><h1>' + esc(title) + "</h1>" + inner + "</main>";
  }
  function fullPage(title, text) { frame(title, '<div class="card"><p>' + esc(text) + "</p></div>"); }
  function go(path) { history.pushState({}, "", path); route(); }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-link]");
    if (link) { event.preventDefault(); go(link.getAttribute("href")); }
  });
  window.addEventListener("popstate", function () { route(); });

  // --- login ---------------------------------------------------------------------------------------
  function showLogin(message) {
    user = null;
    if (location.pathname !== "/app/login") history.replaceState({}, "", "/app/login");
    frame("Sign in to Provider Connect", (message ? '<div class="alert" role="alert">' + esc(message) + "</div>" : "") +
      '<form class="card search" id="login-form"><label>Username<input id="username" autocomplete="username"></label>' +
      '<label>Password<input id="password" type="password" autocomplete="current-password"></label>' +
      '<button class="primary" id="sign-in" type="submit">Sign in</button></form>');
    document.getElementById("login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {username: document.getElementById("username").value, password: document.getElementById("password").value};
      app.insertAdjacentHTML("beforeend", spinner());
      api("POST", "/api/auth/login", body).then(function (result) {
        if (result.status === 200) return jitter().then(function () { showMfa(null); });
        if (result.status === 401 || result.status === 423) return jitter().then(function () { showLogin(D.message[errorCode(result)]); });
        handled(result);
      });
    });
  }
  function showMfa(message) {
    frame("Enter your verification code", (message ? '<div class="alert" role="alert">' + esc(message) + "</div>" : "") +
      '<form class="card search" id="mfa-form"><label>6-digit code from your authenticator app' +
      '<input id="code" inputmode="numeric" autocomplete="one-time-code"></label>' +
      '<button class="primary" id="verify" type="submit">Verify</button></form>');
    document.getElementById("mfa-form").addEventListener("submit", function (event) {
      event.preventDefault();
      app.insertAdjacentHTML("beforeend", spinner());
      api("POST", "/api/auth/mfa", {code: document.getElementById("code").value}).then(function (result) {
        if (result.status === 200) return jitter().then(function () { afterLogin(result.data.next); });
        if (result.status === 401 && errorCode(result) !== "SESSION_EXPIRED" && errorCode(result) !== "WRONG_STEP") {
          return jitter().then(function () { showMfa(D.message[errorCode(result)]); });
        }
        handled(result);
      });
    });
  }
  function showCaptcha() {
    frame("Confirm you're not a robot", '<form class="card" id="captcha-form"><label><input type="checkbox" id="not-robot"> ' +
      "I'm not a robot</label><p><button class=\"primary\" id=\"continue\" type=\"submit\">Continue</button></p></form>");
    document.getElementById("captcha-form").addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/api/auth/captcha", {notRobot: document.getElementById("not-robot").checked}).then(function (result) {
        if (result.status === 200) return afterLogin("home");
        if (!handled(result)) showCaptcha();
      });
    });
  }
  function afterLogin(next) {
    if (next === "captcha") { history.replaceState({}, "", "/app/login"); return showCaptcha(); }
    history.replaceState({}, "", "/app/home");
    route();
  }
  function showTerms() {
    var old = document.getElementById("terms-modal");
    if (old) return;
    app.insertAdjacentHTML("beforeend", '<div class="modal-backdrop"><div class="modal" role="dialog" aria-modal="true" id="terms-modal">' +
      "<h2>Terms of use updated</h2><p>Version <span id=\"terms-version\">" + esc(CONFIG.termsVersion) + "</span>. " +
      "Please review and accept the updated Provider Connect terms of use to continue.</p>" +
      '<button class="primary" id="accept-terms">I agree</button></div></div>');
    document.getElementById("accept-terms").addEventListener("click", function () {
      api("POST", "/api/terms/accept", {version: CONFIG.termsVersion}).then(function (result) {
        if (result.status !== 200) { handled(result); return; }
        var modal = document.querySelector(".modal-backdrop");
        if (modal) modal.remove();
      });
    });
  }

  // --- routing -------------------------------------------------------------------------------------
  function route() {
    app.insertAdjacentHTML("beforeend", spinner());
    api("GET", "/api/session").then(function (result) {
      return jitter().then(function () {
        if (result.status !== 200) { if (!handled(result)) showLogin(null); return; }
        var s = result.data;
        if (s.stage === "mfa") return showMfa(null);
        if (s.stage === "captcha") return showCaptcha();
        user = s.user;
        var path = location.pathname;
        if (path === "/app/eligibility") eligibilityScreen();
        else if (path === "/app/authorizations") authScreen();
        else if (path === "/app/claims") claimScreen();
        else { if (path !== "/app/home") history.replaceState({}, "", "/app/home"); fullPage("Welcome back", "Choose a task above."); }
        if (!s.termsAccepted) showTerms();
      });
    });
  }

  // --- member search with a candidate list (shared by the three tasks) --------------------------------
  function candidates(list, onPick) {
    var rows = list.map(function (m, i) {
      return [m.memberId, m.firstName, m.lastName, day(m.dateOfBirth), word("relationship", m.relationship),
              {html: '<button class="select" data-member-id="' + esc(m.memberId) + '" id="pick-' + i + '">Select</button>'}];
    });
    var out = document.getElementById("results");
    out.innerHTML = '<section class="card" id="candidates"><h2>Choose a member</h2>' +
      table(["Member ID", "First name", "Last name", "Date of birth", "Relationship", "Action"], rows) + "</section>";
    out.querySelectorAll("button.select").forEach(function (button) {
      button.addEventListener("click", function () { onPick(button.getAttribute("data-member-id")); });
    });
  }
  function load(url, draw) {
    var out = document.getElementById("results");
    out.innerHTML = spinner();
    api("GET", url).then(function (result) {
      return jitter().then(function () {
        if (result.status === 200) return draw(result.data);
        if (handled(result)) return;
        out.innerHTML = '<div class="alert" role="alert">' + esc(word("message", errorCode(result))) + "</div>";
      });
    });
  }
  function field(id, label, type, value) {
    return "<label>" + esc(label) + '<input id="' + id + '" type="' + type + '" value="' + esc(value || "") + '"></label>';
  }
  function accordion(id, title, summary, drawPanel) {
    return {html: '<div class="acc"><h3><button type="button" aria-expanded="false" aria-controls="panel-' + esc(id) + '" id="toggle-' +
      esc(id) + '">' + esc(title) + "</button></h3>" + (summary ? '<div class="summary">' + summary + "</div>" : "") +
      '<div role="region" id="panel-' + esc(id) + '" aria-labelledby="toggle-' + esc(id) + '" hidden></div></div>', id: id, draw: drawPanel};
  }
  function wireAccordions(items) {
    items.forEach(function (item) {
      var button = document.getElementById("toggle-" + item.id);
      var panel = document.getElementById("panel-" + item.id);
      button.addEventListener("click", function () {
        if (button.getAttribute("aria-expanded") === "true") { button.setAttribute("aria-expanded", "false"); panel.hidden = true; return; }
        button.setAttribute("aria-expanded", "true");
        panel.hidden = false;
        panel.innerHTML = spinner();  // rendered only when opened
        jitter().then(function () { panel.innerHTML = item.draw(); });
      });
    });
  }

  // --- eligibility ---------------------------------------------------------------------------------
  function eligibilityScreen() {
    frame("Eligibility & benefits", '<form class="card search" id="search-form">' + field("member-id", "Member ID", "text") +
      field("dob", "Date of birth", "date") + field("last-name", "Last name (optional)", "text") +
      field("dos", "Date of service", "date") + '<button class="primary" id="find-member" type="submit">Find member</button></form>' +
      '<div id="results"></div>');
    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var q = {memberId: document.getElementById("member-id").value, dateOfBirth: document.getElementById("dob").value,
               lastName: document.getElementById("last-name").value};
      var dos = document.getElementById("dos").value;
      load("/api/members/search?" + qs(q), function (data) {
        candidates(data.candidates, function (memberId) {
          load("/api/members/" + encodeURIComponent(memberId) + "/eligibility?" + qs({dateOfBirth: q.dateOfBirth, dateOfService: dos, lastName: q.lastName}), drawEligibility);
        });
      });
    });
  }
  function networksOf(entries) {
    var seen = [];
    entries.forEach(function (e) { if (seen.indexOf(e.network) < 0) seen.push(e.network); });
    seen.sort();  // IN before OUT, T1 before T2
    return V2 ? seen.reverse() : seen;  // v2: the out-of-network column first (cosmetic for a reader by header)
  }
  function benefitValue(entry) {
    if (entry.type === "COINSURANCE") return entry.basis === "PLAN" ? D.text.planSharePrefix + " " + entry.value + "%" : entry.value + "%";
    if (entry.type === "VISIT_LIMIT" || entry.type === "VISITS_REMAINING") return entry.value + " visits";
    return money(entry.value);
  }
  function drawEligibility(e) {
    var m = e.member, c = e.coverage;
    var html = '<section class="card" id="member-card"><h2>Member</h2>' + dl([
      ["Member ID", m.memberId], ["First name", m.firstName], ["Last name", m.lastName], ["Date of birth", day(m.dateOfBirth)],
      ["Relationship", word("relationship", m.relationship)], ["Subscriber ID", m.subscriberId], ["Date of service", day(e.dateOfService)]]) +
      '</section><section class="card" id="coverage-card"><h2>Coverage</h2>' + dl([
      ["Payer", c.payerName], ["Payer ID", c.payerId], ["Plan", c.planName], ["Plan type", word("planType", c.planType)],
      ["Group number", c.groupNumber], ["Group name", c.groupName], ["Coverage status", word("coverage", c.status)],
      ["Effective date", day(c.effectiveDate)], ["End date", day(c.terminationDate)]]) + "</section>";
    if (c.status !== "ACTIVE") {
      html += '<p class="card notice">' + esc(D.text.inactive) + "</p>";
      document.getElementById("results").innerHTML = html;
      return;
    }
    var nets = networksOf(e.accumulators.concat([].concat.apply([], e.services.map(function (s) { return s.benefits; }))));
    var accRows = [];
    var keys = {};
    e.accumulators.forEach(function (a) { keys[a.type + "|" + a.level + "|" + a.period] = true; });
    Object.keys(keys).forEach(function (k) {
      var p = k.split("|");
      var row = V2 ? [word("level", p[1]), word("accumulator", p[0]), word("period", p[2])] : [word("accumulator", p[0]), word("level", p[1]), word("period", p[2])];
      nets.forEach(function (n) {
        var hit = e.accumulators.filter(function (a) { return a.type === p[0] && a.level === p[1] && a.period === p[2] && a.network === n; })[0];
        row.push(hit ? money(hit.amount) : D.text.none);
      });
      if (V2) row.push("");
      accRows.push(row);
    });
    var netHeads = nets.map(function (n) { return lab(word("network", n)); });
    var accHeads = (V2 ? ["Level", "Accumulator", "Period"] : ["Accumulator", "Level", "Period"]).map(lab).concat(netHeads).concat(V2 ? ["Notes"] : []);
    html += '<section class="card" id="accumulators"><h2>Deductible &amp; out-of-pocket</h2>' + table(accHeads, accRows) + "</section>";
    var items = e.services.map(function (s) {
      var badge = s.priorAuthRequired ? ' <span class="badge">' + esc(D.text.required) + "</span>" : "";
      return accordion(s.code, V2 ? word("service", s.code).toUpperCase() : word("service", s.code), badge ? "Prior authorization" + badge : "", function () {
        var notCovered = {};
        s.benefits.forEach(function (b) { if (b.type === "NOT_COVERED") notCovered[b.network] = true; });
        var types = ["COPAY", "COINSURANCE", "VISIT_LIMIT", "VISITS_REMAINING"].filter(function (t) {
          return s.benefits.some(function (b) { return b.type === t; });
        });
        if (!types.length) types = ["COPAY"];
        var rows = types.map(function (t) {
          var row = [word("benefit", t)];
          nets.forEach(function (n) {
            if (notCovered[n]) { row.push(D.text.notCovered); return; }
            var hit = s.benefits.filter(function (b) { return b.type === t && b.network === n; })[0];
            row.push(hit ? benefitValue(hit) : D.text.none);
          });
          if (V2) row.push(t === "COPAY" ? "Per visit" : "");
          return row;
        });
        return dl([["Prior authorization", s.priorAuthRequired ? D.text.required : D.text.notRequired]]) +
          table([lab("Benefit")].concat(netHeads).concat(V2 ? ["Notes"] : []), rows);
      });
    });
    html += '<section class="card" id="benefits"><h2>Benefits by service</h2>' + items.map(function (i) { return i.html; }).join("") + "</section>";
    html += '<section class="card" id="prior-auth"><h2>Prior authorization required for</h2>' + (e.priorAuthServices.length ?
      "<ul>" + e.priorAuthServices.map(function (code) { return "<li>" + esc(word("service", code)) + "</li>"; }).join("") + "</ul>" :
      "<p>" + esc(D.text.paNone) + "</p>") + "</section>";
    document.getElementById("results").innerHTML = html;
    wireAccordions(items);
  }

  // --- authorizations ------------------------------------------------------------------------------
  function authScreen() {
    frame("Authorizations", '<form class="card search" id="search-form">' + field("member-id", "Member ID", "text") +
      field("dob", "Date of birth", "date") + '<button class="primary" id="find-member" type="submit">Find member</button></form><div id="results"></div>');
    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var q = {memberId: document.getElementById("member-id").value, dateOfBirth: document.getElementById("dob").value};
      load("/api/members/search?" + qs(q), function (data) {
        candidates(data.candidates, function (memberId) {
          load("/api/members/" + encodeURIComponent(memberId) + "/authorizations?" + qs({dateOfBirth: q.dateOfBirth}), drawAuths);
        });
      });
    });
  }
  function drawAuths(data) {
    var m = data.member;
    var html = '<section class="card" id="auth-member"><h2>Member</h2>' + dl([["Member ID", m.memberId], ["First name", m.firstName],
      ["Last name", m.lastName], ["Date of birth", day(m.dateOfBirth)]]) + "</section>";
    if (!data.authorizations.length) {
      document.getElementById("results").innerHTML = html + '<p class="card empty">' + esc(D.message.NO_AUTHS) + "</p>";
      return;
    }
    var items = data.authorizations.map(function (a) {
      var summary = esc(word("service", a.service)) + " &middot; " + esc(word("authStatus", a.status));
      return accordion(a.authNumber, a.authNumber, summary, function () {
        var order = V2 ? ["Procedure", "Approved", "Used", "Remaining", "Unit", "Notes"] : ["Procedure", "Unit", "Approved", "Used", "Remaining"];
        var rows = a.lines.map(function (l) {
          var cells = {"Procedure": l.procedureCode, "Unit": word("unit", l.unit), "Approved": String(l.approved),
                       "Used": String(l.used), "Remaining": String(l.remaining), "Notes": l.remaining === 0 && l.approved ? "Used up" : ""};
          return order.map(function (k) { return cells[k]; });
        });
        return dl([["Authorization number", a.authNumber], ["Status", word("authStatus", a.status)],
          ["Request type", word("requestType", a.requestType)], ["Service", word("service", a.service)],
          ["Member ID", a.memberId], ["Effective date", day(a.effectiveDate)], ["Expiration date", day(a.expirationDate)],
          ["Servicing provider", a.provider.name], ["Provider NPI", a.provider.npi || D.text.none],
          ["Decision reason", a.decisionReason ? word("reason", a.decisionReason) : D.text.none],
          ["Last updated", day(a.lastUpdated)]]) + table(order.map(lab), rows);
      });
    });
    html += '<section class="card" id="auth-list"><h2>' + data.authorizations.length + " authorization(s)</h2>" +
      items.map(function (i) { return i.html; }).join("") + "</section>";
    document.getElementById("results").innerHTML = html;
    wireAccordions(items);
  }

  // --- claims --------------------------------------------------------------------------------------
  function claimScreen() {
    frame("Claim status", '<form class="card search" id="number-form">' + field("claim-number", "Claim number", "text") +
      '<button class="primary" id="find-claim" type="submit">Find claim</button></form>' +
      '<form class="card search" id="search-form">' + field("member-id", "Member ID", "text") + field("dob", "Date of birth", "date") +
      field("from", "Service from", "date") + field("to", "Service to", "date") +
      '<button class="primary" id="find-member" type="submit">Find member</button></form><div id="results"></div>');
    document.getElementById("number-form").addEventListener("submit", function (event) {
      event.preventDefault();
      load("/api/claims/" + encodeURIComponent(document.getElementById("claim-number").value), drawClaims);
    });
    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var q = {memberId: document.getElementById("member-id").value, dateOfBirth: document.getElementById("dob").value};
      var range = {dateOfBirth: q.dateOfBirth, serviceFrom: document.getElementById("from").value, serviceTo: document.getElementById("to").value};
      load("/api/members/search?" + qs(q), function (data) {
        candidates(data.candidates, function (memberId) {
          load("/api/members/" + encodeURIComponent(memberId) + "/claims?" + qs(range), drawClaims);
        });
      });
    });
  }
  function adjustments(line) {
    if (!line.adjustments.length) return D.text.none;
    return {html: "<ul>" + line.adjustments.map(function (a) { return "<li>" + esc(a.group + "-" + a.reason + " " + money(a.amount)) + "</li>"; }).join("") + "</ul>"};
  }
  function drawClaims(data) {
    var k = data.criteria;
    var criteria = k.claimNumber ? [["Claim number", k.claimNumber]] :
      [["Member ID", k.member.memberId], ["First name", k.member.firstName], ["Last name", k.member.lastName],
       ["Service from", day(k.serviceFrom)], ["Service to", day(k.serviceTo)]];
    var html = '<section class="card" id="claim-criteria"><h2>Search</h2>' + dl(criteria) + "</section>";
    if (!data.claims.length) {
      document.getElementById("results").innerHTML = html + '<p class="card empty">' + esc(D.message.NO_CLAIMS) + "</p>";
      return;
    }
    var items = data.claims.map(function (c) {
      var summary = day(c.serviceFrom) + " &ndash; " + day(c.serviceTo) + " &middot; " + esc(word("claimStatus", c.status));
      return accordion(c.claimNumber, c.claimNumber, summary, function () {
        var order = V2 ? ["Line", "Date", "Procedure", "Units", "Billed", "Allowed", "Paid", "Adjustments", "Remarks"] :
          ["Line", "Procedure", "Date", "Units", "Billed", "Allowed", "Paid", "Adjustments"];
        var rows = c.lines.map(function (l) {
          var cells = {"Line": String(l.line), "Procedure": l.procedureCode, "Date": day(l.serviceDate), "Units": String(l.units),
                       "Billed": money(l.billed), "Allowed": money(l.allowed), "Paid": money(l.paid), "Adjustments": adjustments(l),
                       "Remarks": l.adjustments.length ? "See codes" : ""};
          return order.map(function (key) { return cells[key]; });
        });
        return dl([["Claim number", c.claimNumber], ["Patient account", c.patientAccount], ["Member ID", c.memberId],
          ["Service from", day(c.serviceFrom)], ["Service to", day(c.serviceTo)], ["Status", word("claimStatus", c.status)],
          ["Status code", c.statusCode], ["Received", day(c.receivedDate)], ["Processed", day(c.processedDate)],
          ["Paid on", day(c.paidDate)], ["Payment number", c.paymentNumber || D.text.none], ["Billed", money(c.totals.billed)],
          ["Allowed", money(c.totals.allowed)], ["Paid", money(c.totals.paid)], ["Member owes", money(c.totals.memberOwes)]]) +
          table(order.map(lab), rows);
      });
    });
    html += '<section class="card" id="claim-list"><h2>' + data.count + " claim(s)</h2>" + items.map(function (i) { return i.html; }).join("") + "</section>";
    document.getElementById("results").innerHTML = html;
    wireAccordions(items);
  }

  route();
})();
