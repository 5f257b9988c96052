// Visit records that survive a lost network (DESIGN "Nothing lost").
//
// Every submission of the visit form (#visit-form) is first written to
// IndexedDB ("tanfang" / "visit-queue"), keyed by its client_id (a UUID
// made here), and only then sent to POST /visits/new. A record leaves the
// queue when the server answers 200 or 201; the server answers the same
// record for the same client_id, so sending twice is harmless. The queue
// is sent again when the page loads, when the browser comes back online
// and every minute. #queue-count shows "待上传 N 条" (its data-count
// attribute holds N); a record the server refused stays in the queue with
// the reason until the visitor edits it back into the form or deletes it.
// Records belong to the account that saved them and are only sent under it.
//
// window.tanfangQueue exposes count(), list() and flush() for browser tests.
(function () {
  "use strict";

  var DB_NAME = "tanfang";
  var STORE = "visit-queue";
  var FLUSH_EVERY = 60000;
  var MAX_PHOTO = 2 * 1024 * 1024;

  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.content : "";
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; getRandomValues does not.
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- IndexedDB ----

  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
        result = fn(t.objectStore(STORE));
      });
    });
  }

  function all() {
    return tx("readonly", function (s) {
      var out = [];
      s.openCursor().onsuccess = function (e) {
        var c = e.target.result;
        if (c) { out.push(c.value); c.continue(); }
      };
      return out;
    });
  }

  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function del(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  function mine(items) {
    var user = meta("tf-user");
    return items.filter(function (it) { return it.user === user; });
  }

  // ---- Sending ----

  // send posts one record and says what became of it.
  function send(item) {
    var fd = new FormData();
    item.entries.forEach(function (kv) { fd.append(kv[0], kv[1]); });
    if (item.photo) fd.append("photo", item.photo, "photo.jpg");
    return fetch("/visits/new", {
      method: "POST", body: fd, credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRF-Token": meta("csrf-token") }
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 401 || res.status === 403) return { stop: "登录已过期，请重新登录后自动上传" };
      if (res.status === 200 || res.status === 201) return res.json().then(function (b) { return { ok: true, id: b.id, url: b.url }; });
      if (res.status >= 500) return { stop: "服务器暂时无法保存，稍后自动重试" };
      return res.json().then(function (b) {
        var e = (b && b.error) || {};
        return { refused: e.message || "提交被退回", field: e.field || "" };
      }, function () { return { refused: "提交被退回（" + res.status + "）" }; });
    }, function () {
      return { stop: "网络不通，联网后自动上传" };
    });
  }

  var flushing = null;
  var lastMessage = "";
  var stopShown = false;

  // flush sends this account's waiting records one by one; it stops at the
  // first one that cannot be sent for a reason every record shares.
  function flush() {
    if (flushing) return flushing;
    flushing = all().then(mine).then(function (items) {
      var sent = 0, last = null;
      var waiting = items.filter(function (it) { return !it.error; });
      function next(i) {
        if (i >= waiting.length) return { sent: sent, last: last };
        var it = waiting[i];
        return send(it).then(function (r) {
          if (r.ok) { sent++; last = r; return del(it.id).then(function () { return next(i + 1); }); }
          if (r.refused) {
            it.error = r.refused; it.field = r.field;
            return put(it).then(function () { return next(i + 1); });
          }
          lastMessage = r.stop;
          return { sent: sent, last: last, stopped: r.stop };
        });
      }
      return next(0);
    }).then(function (r) {
      // A reason to stop shows until a later attempt gets through.
      if (r.sent > 0) lastMessage = "已上传 " + r.sent + " 条";
      else if (!r.stopped && stopShown) lastMessage = "";
      stopShown = !!r.stopped;
      return render().then(function () { return r; });
    }).finally(function () { flushing = null; });
    return flushing;
  }

  function count() { return all().then(mine).then(function (x) { return x.length; }); }

  window.tanfangQueue = { count: count, list: function () { return all().then(mine); }, flush: flush };

  // ---- What the page shows ----

  function el(id) { return document.getElementById(id); }

  function render() {
    return all().then(function (items) {
      var own = mine(items);
      var n = own.length;
      var countEl = el("queue-count");
      if (countEl) {
        countEl.textContent = "待上传 " + n + " 条";
        countEl.setAttribute("data-count", String(n));
        el("queue-status").hidden = n === 0 && !lastMessage;
        el("queue-message").textContent = lastMessage;
        renderList(own);
      } else if (n > 0) {
        banner(n);
      }
      var others = items.length - n;
      if (others > 0 && el("queue-message")) {
        el("queue-message").textContent = (lastMessage ? lastMessage + "；" : "") + "另有 " + others + " 条属于其他账号，需该账号登录后上传";
      }
    });
  }

  // banner tells the other pages (tasks) that records are waiting.
  function banner(n) {
    var b = el("queue-banner");
    var main = document.querySelector("main");
    if (!main) return;
    if (!b) {
      b = document.createElement("p");
      b.id = "queue-banner";
      b.className = "alert warn";
      main.insertBefore(b, main.firstChild);
    }
    b.textContent = "";
    var a = document.createElement("a");
    a.href = "/visits/new";
    a.textContent = "待上传 " + n + " 条探访记录";
    b.appendChild(a);
  }

  function renderList(items) {
    var ul = el("queue-list");
    if (!ul) return;
    ul.textContent = "";
    var refused = items.filter(function (it) { return it.error; });
    ul.hidden = refused.length === 0;
    refused.forEach(function (it) {
      var li = document.createElement("li");
      li.textContent = (it.savedAt || "").replace("T", " ").slice(0, 16) + " 的记录被退回：" + it.error + " ";
      var edit = document.createElement("button");
      edit.type = "button"; edit.className = "link"; edit.textContent = "改正后重交";
      edit.addEventListener("click", function () { restore(it); });
      var drop = document.createElement("button");
      drop.type = "button"; drop.className = "link"; drop.textContent = "删除";
      drop.addEventListener("click", function () {
        if (window.confirm("确定删除这条未上传的记录吗？")) del(it.id).then(render);
      });
      li.appendChild(edit); li.appendChild(document.createTextNode(" ")); li.appendChild(drop);
      ul.appendChild(li);
    });
  }

  // ---- The form ----

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localInput(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function freshTimes(form) {
    var now = new Date();
    form.elements.started_at.value = localInput(new Date(now.getTime() - 30 * 60000));
    form.elements.ended_at.value = localInput(now);
  }

  // restore puts a refused record back into the form for correcting.
  function restore(it) {
    var form = el("visit-form");
    if (!form) return;
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.name === "csrf" || f.type === "file" || f.type === "submit" || f.type === "button") return;
      var values = it.entries.filter(function (kv) { return kv[0] === f.name; }).map(function (kv) { return kv[1]; });
      if (f.type === "radio" || f.type === "checkbox") f.checked = values.indexOf(f.value) >= 0;
      else f.value = values.length ? values[0] : "";
    });
    del(it.id).then(render);
    var field = it.field ? form.querySelector('[name="' + it.field.replace("findings.", "") + '"]') : null;
    lastMessage = "请改正：" + it.error;
    if (field && field.focus) field.focus();
  }

  // shrink re-encodes a large or unusual photo as JPEG of at most 1600 px.
  function shrink(file) {
    var ok = /^image\/(jpeg|png|webp)$/.test(file.type);
    if (ok && file.size <= MAX_PHOTO * 0.75) return Promise.resolve(file);
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file).then(function (img) {
      var scale = Math.min(1, 1600 / Math.max(img.width, img.height));
      var c = document.createElement("canvas");
      c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
      c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
      return new Promise(function (resolve) { c.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.8); });
    }, function () { return file; });
  }

  function setupForm(form) {
    var params = new URLSearchParams(location.search);
    var elder = form.elements.elder_id;
    if (params.get("elder_id") && !elder.value) {
      elder.value = params.get("elder_id");
      if (!elder.value) {
        // Not among the offered elders (a cached page, or staff of a big area).
        var o = document.createElement("option");
        o.value = params.get("elder_id"); o.textContent = "编号" + params.get("elder_id"); o.selected = true;
        elder.appendChild(o);
      }
    }
    if (form.getAttribute("data-fresh") === "1") {
      freshTimes(form);
      form.elements.client_id.value = uuid();
    }
    var link = el("emergency-link");
    function linkElder() { if (link) link.href = "/emergencies/new" + (elder.value ? "?elder_id=" + encodeURIComponent(elder.value) : ""); }
    elder.addEventListener("change", linkElder);
    linkElder();

    var locate = el("locate");
    if (locate) locate.addEventListener("click", function () {
      var status = el("locate-status");
      if (!navigator.geolocation) { status.textContent = "本机不支持定位"; return; }
      status.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (p) {
        form.elements.lat.value = p.coords.latitude.toFixed(6);
        form.elements.lng.value = p.coords.longitude.toFixed(6);
        form.elements.accuracy_m.value = Math.round(p.coords.accuracy);
        status.textContent = "已定位（精度约 " + Math.round(p.coords.accuracy) + " 米）";
      }, function () { status.textContent = "定位失败，可不填"; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = el("submit-visit");
      button.disabled = true;
      if (!form.elements.recorded_at.value) form.elements.recorded_at.value = new Date().toISOString();
      var entries = [];
      new FormData(form).forEach(function (v, k) {
        if (k !== "csrf" && k !== "photo") entries.push([k, String(v)]);
      });
      var file = form.elements.photo && form.elements.photo.files[0];
      (file ? shrink(file) : Promise.resolve(null)).then(function (photo) {
        return put({ id: form.elements.client_id.value, user: meta("tf-user"), savedAt: localInput(new Date()), entries: entries, photo: photo });
      }).then(function () {
        // The record is safe on the phone: the form is ready for the next one.
        var keep = { elder: elder.value, mode: (form.querySelector('input[name="mode"]:checked') || {}).value };
        form.reset();
        elder.value = keep.elder;
        Array.prototype.forEach.call(form.querySelectorAll('input[name="mode"]'), function (r) { r.checked = r.value === keep.mode; });
        form.elements.client_id.value = uuid();
        form.elements.recorded_at.value = "";
        form.elements.lat.value = form.elements.lng.value = form.elements.accuracy_m.value = "";
        freshTimes(form);
        lastMessage = navigator.onLine ? "已保存，正在上传…" : "已保存在手机上，联网后自动上传";
        return render();
      }).then(function () { return navigator.onLine ? flush() : null; }).then(function (r) {
        if (r && r.sent > 0 && r.last && r.last.url && !r.stopped && navigator.onLine) {
          lastMessage = "已上传 " + r.sent + " 条";
          var a = el("queue-message");
          if (a) {
            a.textContent = lastMessage + " ";
            var link2 = document.createElement("a");
            link2.href = r.last.url; link2.textContent = "查看刚上传的记录";
            a.appendChild(link2);
          }
        }
      }).catch(function (err) {
        lastMessage = "保存失败：" + err;
        render();
      }).finally(function () { button.disabled = false; });
    });
  }

  function onlineState() {
    var note = el("offline-note");
    if (note) note.hidden = navigator.onLine;
    if (navigator.onLine) flush();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () {});
    var form = el("visit-form");
    if (form) setupForm(form);
    var sync = el("sync-now");
    if (sync) sync.addEventListener("click", function () { flush(); });
    window.addEventListener("online", onlineState);
    window.addEventListener("offline", onlineState);
    if (!window.indexedDB || !meta("tf-user")) return;
    render();
    onlineState();
    setInterval(function () { if (navigator.onLine) flush(); }, FLUSH_EVERY);
  });
})();
