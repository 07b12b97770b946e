/* The agency's booking widget for any website: one tag,
 *   <script src="https://BOOKING-SITE/widget.js" data-agency="SLUG" data-property="ID" async></script>
 * (data-property optional: without it the guest picks one of the agency's homes). It draws a
 * small booking box (dates, guests, price, "Book") in a shadow root, so the host page's styles
 * neither reach it nor are touched; prices come from the agency's public API through the booking
 * site (CORS: the host page's origin must be in the agency's public_origins); "Book" opens the
 * property's page on the booking site with the stay chosen. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var site = new URL(script.src).origin;
  var agency = script.getAttribute("data-agency") || "";
  var fixed = script.getAttribute("data-property") || "";
  var de = /^de\b/i.test(script.getAttribute("data-lang") || navigator.language || "");
  var T = de
    ? { title: "Direkt buchen", from: "Anreise", to: "Abreise", guests: "Gäste", home: "Unterkunft", book: "Buchen", pick: "Wählen Sie Ihre Daten.", total: "Gesamt", none: "Für diese Daten nicht buchbar.", err: "Preis nicht verfügbar." }
    : { title: "Book direct", from: "Check-in", to: "Check-out", guests: "Guests", home: "Home", book: "Book", pick: "Choose your dates.", total: "Total", none: "Not bookable for these dates.", err: "Price not available." };
  if (!/^[a-z0-9-]{1,80}$/.test(agency)) return;
  var api = site + "/api/v1/public/" + agency;
  var host = document.createElement("div");
  host.setAttribute("data-pms-widget", agency);
  script.parentNode.insertBefore(host, script);
  var root = host.attachShadow({ mode: "open" });
  var uid = "pmsw" + Math.random().toString(36).slice(2, 8);
  root.innerHTML =
    "<style>:host{all:initial;display:block;font:15px/1.4 system-ui,sans-serif;color:#1b1b1f}" +
    "form{display:grid;gap:8px;max-width:320px;padding:14px;border:1px solid #bbb;border-radius:8px;background:#fff}" +
    "h2{font-size:17px;margin:0}label{display:grid;gap:2px;font-size:13px}" +
    "input,select{font:inherit;padding:6px;border:1px solid #6b6b76;border-radius:4px;color:#1b1b1f;background:#fff}" +
    "a{display:block;text-align:center;padding:9px;border-radius:4px;background:#2b2a8c;color:#fff;text-decoration:none;font-weight:600}" +
    "a[aria-disabled=true]{background:#6b6b76;pointer-events:none}output{font-weight:700}</style>" +
    '<form aria-labelledby="' + uid + '"><h2 id="' + uid + '">' + T.title + "</h2>" +
    (fixed ? "" : '<label>' + T.home + '<select name="property"></select></label>') +
    '<label>' + T.from + '<input type="date" name="check_in" required></label>' +
    '<label>' + T.to + '<input type="date" name="check_out" required></label>' +
    '<label>' + T.guests + '<input type="number" name="adults" min="1" max="50" value="2"></label>' +
    '<output aria-live="polite">' + T.pick + "</output>" +
    '<a href="#" aria-disabled="true">' + T.book + "</a></form>";
  var form = root.querySelector("form");
  var out = root.querySelector("output");
  var book = root.querySelector("a");
  var today = new Date().toISOString().slice(0, 10);
  form.check_in.min = today;
  form.check_out.min = today;
  var seq = 0;

  function property() {
    return fixed || (form.property && form.property.value) || "";
  }

  function money(minor, currency) {
    var digits = new Intl.NumberFormat("en", { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits;
    return new Intl.NumberFormat(de ? "de-DE" : "en-US", { style: "currency", currency: currency }).format(minor / Math.pow(10, digits));
  }

  function update() {
    var id = property();
    var ci = form.check_in.value;
    var co = form.check_out.value;
    var adults = Math.max(1, parseInt(form.adults.value, 10) || 1);
    book.setAttribute("aria-disabled", "true");
    book.href = "#";
    if (!id || !ci || !co || co <= ci) {
      out.textContent = T.pick;
      return;
    }
    var mine = ++seq;
    fetch(api + "/quotes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ property_id: id, check_in: ci, check_out: co, adults: adults }),
    })
      .then(function (r) {
        return r.ok ? r.json() : Promise.reject(r.status);
      })
      .then(function (q) {
        if (mine !== seq) return;
        if (!q.bookable) {
          out.textContent = (q.reasons && q.reasons[0] && q.reasons[0].message) || T.none;
          return;
        }
        out.textContent = T.total + ": " + money(q.total.amount_minor, q.total.currency);
        book.href = site + "/" + agency + "/properties/" + id + "?check_in=" + ci + "&check_out=" + co + "&adults=" + adults;
        book.removeAttribute("aria-disabled");
      })
      .catch(function () {
        if (mine === seq) out.textContent = T.err;
      });
  }

  form.addEventListener("change", update);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
  });
  if (!fixed) {
    fetch(api + "/properties")
      .then(function (r) {
        return r.ok ? r.json() : [];
      })
      .then(function (list) {
        list.forEach(function (p) {
          var o = document.createElement("option");
          o.value = p.id;
          o.textContent = p.name;
          form.property.appendChild(o);
        });
        update();
      });
  }
})();
