/*
 * tallygw's dashboard: reads the admin API (docs/admin.md) every few
 * seconds and draws what an operator watches on election night.
 *
 * Over TCP the API wants the gateway's bearer token. The operator types
 * it once; it is kept in this tab's sessionStorage (gone when the tab
 * closes) and sent in the Authorization header of each request, never
 * in a URL. Through the control socket (an SSH tunnel to it) no token
 * is asked for.
 *
 * Everything shown is set as text (textContent), never as HTML: the
 * messages carry what anyone typed into a phone.
 */
"use strict";

(function () {
	var REFRESH_MS = 5000;
	var TOKEN_KEY = "tallygw.token";
	var API = "../";	/* the page is /ui/; the API is at / */
	var LEVELS = ["province", "regency", "district", "village"];
	var DIGITS = [2, 4, 6, 10];

	var state = {
		token: null,
		timer: null,
		busy: false,
		path: [],	/* coverage: [{code, name}] from the province */
		contest: "PPWP",
		alerts: {}	/* "name subject" of the open alerts */
	};

	function $(id) {
		return document.getElementById(id);
	}

	function el(tag, text, cls) {
		var e = document.createElement(tag);

		if (text !== undefined && text !== null)
			e.textContent = String(text);
		if (cls)
			e.className = cls;
		return e;
	}

	function num(v) {
		return v === null || v === undefined ? "-" : String(v);
	}

	function td(text, cls) {
		return el("td", text === null || text === undefined ? "-" :
		    text, cls);
	}

	/* An ISO time as the local HH:MM:SS, the day too if not today. */
	function when(iso) {
		var d, now = new Date();

		if (!iso)
			return "-";
		d = new Date(iso);
		if (isNaN(d.getTime()))
			return iso;
		if (d.toDateString() === now.toDateString())
			return d.toLocaleTimeString([], { hour12: false });
		return d.toLocaleString([], { hour12: false });
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	/* GET path of the API: its JSON, or a rejection with .status. */
	function api(path) {
		var headers = { "Accept": "application/json" };

		if (state.token)
			headers["Authorization"] = "Bearer " + state.token;
		return fetch(API + path, { headers: headers, cache: "no-store",
		    credentials: "omit", referrerPolicy: "no-referrer" }).then(
		    function (r) {
			if (!r.ok) {
				var e = new Error("HTTP " + r.status);

				e.status = r.status;
				throw e;
			}
			return r.json();
		});
	}

	/* --- the token ------------------------------------------------ */

	function showLogin(msg) {
		$("board").hidden = true;
		$("login").hidden = false;
		$("signout").hidden = true;
		$("login-msg").textContent = msg || "";
		$("token").focus();
	}

	function showBoard() {
		$("login").hidden = true;
		$("board").hidden = false;
		$("signout").hidden = !state.token;
	}

	function onLogin(ev) {
		ev.preventDefault();
		state.token = $("token").value.trim();
		$("token").value = "";
		try {
			sessionStorage.setItem(TOKEN_KEY, state.token);
		} catch (e) {
			/* private mode: kept in this page only */
		}
		refresh();
	}

	function onSignout() {
		state.token = null;
		try {
			sessionStorage.removeItem(TOKEN_KEY);
		} catch (e) {
			/* nothing kept */
		}
		showLogin("");
	}

	/* --- what is drawn -------------------------------------------- */

	function uptime(s) {
		var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24,
		    m = Math.floor(s / 60) % 60;

		return "up " + (d ? d + "d " : "") + h + "h " +
		    (m < 10 ? "0" : "") + m + "m";
	}

	function drawStatus(st) {
		var m = st.messages, r = st.replies, f = st.forwards;
		var tb = $("centrals").tBodies[0];

		$("gw-name").textContent = st.gateway;
		document.title = "tallygw " + st.gateway;
		$("uptime").textContent = uptime(st.uptime);
		$("stat-received").textContent = m.received;
		$("stat-reports").textContent = m.reports;
		$("stat-ok").textContent = m.ok;
		$("stat-flagged").textContent = m.flagged;
		$("stat-rejected").textContent = m.rejected;
		$("stat-replied").textContent = r.sent + r.delivered;
		$("stat-forwarded").textContent = f.acked;
		$("q-replies").textContent = r.queued + r.sending;
		$("q-replies-failed").textContent = r.failed;
		$("q-replies-failed").className = r.failed ? "bad" : "";
		$("q-forwards").textContent = f.pending + f.sending +
		    f.retry_wait;
		$("q-forwards-failed").textContent = f.failed;
		$("q-forwards-failed").className = f.failed ? "bad" : "";
		$("q-parts").textContent = st.parts_pending;
		$("modems-working").dataset.capped = st.modems.capped;
		clear(tb);
		st.centrals.forEach(function (c) {
			var tr = el("tr");

			tr.dataset.central = c.name;
			if (c.link !== "up")
				tr.className = "bad";
			tr.appendChild(td(c.name));
			tr.appendChild(td(c.link, c.link === "up" ? "ok" :
			    "bad"));
			tr.appendChild(td(c.acked, "num"));
			tr.appendChild(td(c.refused, "num"));
			tr.appendChild(td(c.last_error, "text"));
			tb.appendChild(tr);
		});
	}

	function working(m) {
		return m.state === "running" && (m.worker === "ready" ||
		    m.worker === "sending" || m.worker === "sweeping");
	}

	function drawModems(list) {
		var tb = $("modems").tBodies[0], sim = 0, n = 0;
		var capped = Number($("modems-working").dataset.capped);

		clear(tb);
		list.forEach(function (m) {
			var tr = el("tr"), alert = state.alerts["m:" + m.name];

			tr.dataset.modem = m.name;
			if (!m.enabled)
				tr.className = "off";
			else if (!working(m))
				tr.className = "bad";
			else if (alert)
				tr.className = "warn";
			else
				tr.className = "ok";
			/* A receive-only modem sends only if no other can. */
			tr.appendChild(td(m.role === "receive" ? m.name +
			    " (receive only)" : m.name));
			tr.appendChild(td(m.state + "/" + m.worker, "state"));
			tr.appendChild(td(m.signal + " dBm", "num"));
			tr.appendChild(td(m.operator, "more"));
			tr.appendChild(td(m.number, "more"));
			tr.appendChild(td(m.sim_used + "/" + m.sim_total,
			    "num"));
			tr.appendChild(td(m.balance < 0 ? "-" : "Rp" +
			    m.balance, "num"));
			tr.appendChild(td(m.sent_today, "num sent"));
			tr.appendChild(td(m.received_today, "num received"));
			tr.appendChild(td(m.cap ? m.cap : "-", "num"));
			tr.appendChild(td(m.queue, "num"));
			tr.appendChild(td(m.restarts, "num more"));
			tr.appendChild(td(alert ? alert : m.last_error,
			    "text"));
			tb.appendChild(tr);
			sim += m.sim_used;
			n += working(m) ? 1 : 0;
		});
		$("q-sim").textContent = sim;
		$("modems-working").textContent = n + " of " + list.length +
		    " working" + (capped ? ", " + capped + " at their cap" : "");
	}

	function drawAlerts(list) {
		var open = $("alerts").tBodies[0];
		var done = $("alerts-cleared").tBodies[0];
		var n = 0, c = 0;

		clear(open);
		clear(done);
		state.alerts = {};
		list.forEach(function (a) {
			var tr = el("tr");

			tr.dataset.alert = a.name;
			tr.dataset.subject = a.subject || "";
			tr.appendChild(td(a.name));
			tr.appendChild(td(a.subject || "-"));
			tr.appendChild(td(when(a.raised_at)));
			if (a.state === "raised") {
				tr.className = "bad";
				tr.appendChild(td(a.text, "text"));
				open.appendChild(tr);
				n++;
				if (a.subject)
					state.alerts["m:" + a.subject] =
					    a.name + ": " + a.text;
			} else {
				tr.appendChild(td(when(a.cleared_at)));
				tr.appendChild(td(a.text, "text"));
				done.appendChild(tr);
				c++;
			}
		});
		$("alert-count").textContent = n;
		$("alert-count").className = n ? "badge on" : "badge";
		$("no-alerts").hidden = n > 0;
		$("alerts").hidden = n === 0;
		$("cleared-count").textContent = c;
	}

	function svg(tag, attrs) {
		var e = document.createElementNS("http://www.w3.org/2000/svg",
		    tag);

		Object.keys(attrs).forEach(function (k) {
			e.setAttribute(k, attrs[k]);
		});
		return e;
	}

	/* Three lines over the hour, the largest count at the top. */
	function drawRate(rt) {
		var chart = $("chart"), W = 600, H = 220, L = 36, B = 22,
		    T = 8, R = 6;
		var series = ["received", "replied", "forwarded"];
		var max = 1, n = rt.minutes, start = new Date(rt.start);

		clear(chart);
		series.forEach(function (s) {
			var total = 0;

			rt[s].forEach(function (v) {
				max = Math.max(max, v);
				total += v;
			});
			$("rate-" + s).textContent = total;
			chart.dataset[s] = total;
		});
		chart.appendChild(svg("line", { "class": "axis", x1: L,
		    y1: H - B, x2: W - R, y2: H - B }));
		chart.appendChild(svg("line", { "class": "axis", x1: L, y1: T,
		    x2: L, y2: H - B }));
		[0, max].forEach(function (v) {
			var t = svg("text", { x: L - 4, y: v ? T + 10 : H - B,
			    "text-anchor": "end" });

			t.textContent = v;
			chart.appendChild(t);
		});
		[0, 15, 30, 45, n - 1].forEach(function (i) {
			var d = new Date(start.getTime() + i * 60000);
			var t = svg("text", { x: L + (W - L - R) * i / (n - 1),
			    y: H - 6, "text-anchor": i === 0 ? "start" :
			    i === n - 1 ? "end" : "middle" });

			t.textContent = d.toLocaleTimeString([], {
			    hour: "2-digit", minute: "2-digit",
			    hour12: false });
			chart.appendChild(t);
		});
		series.forEach(function (s) {
			var pts = rt[s].map(function (v, i) {
				return (L + (W - L - R) * i / (n - 1)).toFixed(1) +
				    "," + (H - B - (H - B - T) * v / max).toFixed(1);
			});

			chart.appendChild(svg("polyline", { "class": s,
			    points: pts.join(" ") }));
		});
	}

	/* --- coverage, drillable from province to village ----------- */

	function coverageQuery() {
		var depth = state.path.length, q;

		q = "coverage?level=" + LEVELS[depth] + "&contest=" +
		    encodeURIComponent(state.contest);
		if (depth > 0)
			q += "&in=" + state.path[depth - 1].code;
		return q;
	}

	function drawCrumbs() {
		var nav = $("crumbs"), b;

		clear(nav);
		b = el("button", "All provinces");
		b.type = "button";
		b.addEventListener("click", function () {
			state.path = [];
			refresh();
		});
		nav.appendChild(b);
		state.path.forEach(function (p, i) {
			nav.appendChild(el("span", "\u203a", "sep"));
			if (i === state.path.length - 1) {
				nav.appendChild(el("span", p.code + " " + p.name));
				return;
			}
			b = el("button", p.code + " " + p.name);
			b.type = "button";
			b.addEventListener("click", function () {
				state.path = state.path.slice(0, i + 1);
				refresh();
			});
			nav.appendChild(b);
		});
	}

	function coverageRow(tr, cell, total) {
		var share = el("progress");

		tr.appendChild(td(num(cell.expected), "num expected"));
		tr.appendChild(td(num(cell.reported), "num reported"));
		tr.appendChild(td(num(cell.flagged), "num flagged" +
		    (cell.flagged ? " warn" : "")));
		tr.appendChild(td(num(cell.missing), "num missing"));
		if (cell.expected) {
			share.max = cell.expected;
			share.value = cell.reported;
			share.title = Math.round(100 * cell.reported /
			    cell.expected) + "%";
		} else
			share.hidden = true;
		tr.appendChild(el("td")).appendChild(share);
	}

	function drawCoverage(cv) {
		var tb = $("coverage").tBodies[0], tf = $("coverage").tFoot;
		var depth = state.path.length, tr;

		drawCrumbs();
		clear(tb);
		clear(tf);
		$("coverage-note").textContent = cv.registry ? "" :
		    "No registry: only the regions that reported are known.";
		cv.regions.forEach(function (g) {
			var cell = g.contests[state.contest], b;

			if (!cell)
				return;
			tr = el("tr");
			tr.dataset.code = g.code;
			if (depth < LEVELS.length - 1) {
				b = el("button", g.code, "region");
				b.type = "button";
				b.addEventListener("click", function () {
					state.path.push({ code: g.code,
					    name: g.name || "" });
					refresh();
				});
				tr.appendChild(el("td")).appendChild(b);
			} else
				tr.appendChild(td(g.code));
			tr.appendChild(td(g.name || "-", "text"));
			coverageRow(tr, cell);
			tb.appendChild(tr);
		});
		if (cv.total.contests[state.contest]) {
			tr = el("tr");
			tr.dataset.code = "total";
			tr.appendChild(td("total"));
			tr.appendChild(td(""));
			coverageRow(tr, cv.total.contests[state.contest]);
			tf.appendChild(tr);
		}
		$("coverage").dataset.level = LEVELS[depth];
		$("coverage").dataset.in = depth ? state.path[depth - 1].code :
		    "";
	}

	/* --- recent messages ------------------------------------------ */

	function drawMessages(list) {
		var tb = $("messages").tBodies[0];

		clear(tb);
		list.forEach(function (m) {
			var tr = el("tr"), v = m.verdict || m.kind;

			tr.dataset.id = m.id;
			if (m.verdict === "REJECTED" || m.reply === "failed")
				tr.className = "bad";
			else if (m.verdict === "FLAGGED")
				tr.className = "warn";
			tr.appendChild(td(m.id, "num"));
			tr.appendChild(td(when(m.received_at)));
			tr.appendChild(td(m.sender));
			tr.appendChild(td(m.modem, "more"));
			tr.appendChild(td(m.kind, "more"));
			tr.appendChild(td(m.verdict ? m.verdict +
			    (m.flags.length ? " " + m.flags.join(",") : "") +
			    (m.reason ? " " + m.reason : "") : "-",
			    "verdict " + (v === "OK" ? "ok" : v === "FLAGGED" ?
			    "warn" : v === "REJECTED" ? "bad" : "")));
			tr.appendChild(td(m.tps));
			tr.appendChild(td(m.reply, "reply"));
			tr.appendChild(td(m.forwards.map(function (f) {
				return f.central + ":" + f.state;
			}).join(" ") || "-", "more"));
			tr.appendChild(td(m.text, "text more"));
			tb.appendChild(tr);
		});
	}

	/* --- the loop ------------------------------------------------- */

	function lost(e) {
		$("conn").textContent = "gateway not reachable (" +
		    (e.message || e) + "), trying again";
		$("conn").className = "conn lost";
	}

	function refresh() {
		if (state.timer)
			clearTimeout(state.timer);
		state.timer = null;
		if (state.busy)
			return;
		state.busy = true;
		/* status first: without a token, one request is refused */
		api("status").then(function (st) {
			return Promise.all([st, api("alerts"), api("modems"),
			    api("throughput"), api(coverageQuery()),
			    api("messages?limit=15")]);
		}).then(function (r) {
			showBoard();
			drawStatus(r[0]);
			drawAlerts(r[1].alerts);
			drawModems(r[2].modems);
			drawRate(r[3]);
			drawCoverage(r[4]);
			drawMessages(r[5].messages);
			$("updated").textContent = "updated " +
			    new Date().toLocaleTimeString([], { hour12: false });
			$("conn").textContent = "";
			$("conn").className = "conn";
			document.body.dataset.refreshed =
			    (Number(document.body.dataset.refreshed || 0) + 1);
		}).catch(function (e) {
			if (e.status === 401 || e.status === 403) {
				var had = state.token;

				state.token = null;
				try {
					sessionStorage.removeItem(TOKEN_KEY);
				} catch (x) {
					/* nothing kept */
				}
				showLogin(e.status === 403 ? "Refused: not " +
				    "allowed on this socket." : had ?
				    "The token was refused." : "");
				return;
			}
			lost(e);
		}).then(function () {
			state.busy = false;
			if (!$("login").hidden)
				return;
			state.timer = setTimeout(refresh, REFRESH_MS);
		});
	}

	document.addEventListener("DOMContentLoaded", function () {
		try {
			state.token = sessionStorage.getItem(TOKEN_KEY);
		} catch (e) {
			state.token = null;
		}
		$("login-form").addEventListener("submit", onLogin);
		$("signout").addEventListener("click", onSignout);
		$("contest").addEventListener("change", function () {
			state.contest = $("contest").value;
			refresh();
		});
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden)
				refresh();
		});
		refresh();
	});
}());
