// Service worker of the visitor's pages, served at /sw.js so its scope is
// the whole site. The visitor's pages (/tasks, /visits/new) are fetched from
// the network when there is one and from the cache when there is not;
// static files come from the cache and are refreshed behind the scenes.
// Nothing else is cached: not the API, not other pages, never a POST. The
// visit form's own script (visits.js) queues submissions made offline.
"use strict";

var CACHE = "tanfang-v1";
var PAGES = ["/tasks", "/visits/new"];
var STATIC = [
  "/static/app.css", "/static/app.js", "/static/visits.js", "/static/vendor/htmx.min.js",
  "/static/manifest.webmanifest", "/static/icon-192.png", "/static/icon-512.png"
];

// isPage tells a page worth keeping: not an error, not the login page a
// lapsed session is redirected to.
function isPage(res) {
  return res.ok && !res.redirected && res.type === "basic";
}

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(STATIC).then(function () {
      return Promise.all(PAGES.map(function (p) {
        return fetch(p, { credentials: "same-origin" }).then(function (res) {
          return isPage(res) ? cache.put(p, res) : null;
        }, function () {});
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function offline() {
  var html = "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<title>无网络</title><link rel=\"stylesheet\" href=\"/static/app.css\"><main><p class=\"alert warn\">当前无网络，这个页面还没有离线副本。" +
    "<a href=\"/visits/new\">填写探访记录</a>可以离线使用。</p></main>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method !== "GET") {
    // A logged-out phone keeps no copy of anyone's pages.
    if (url.pathname === "/logout") {
      e.waitUntil(caches.open(CACHE).then(function (cache) {
        return Promise.all(PAGES.map(function (p) { return cache.delete(p); }));
      }));
    }
    return;
  }
  if (PAGES.indexOf(url.pathname) >= 0) {
    // Stored without the query: /visits/new?elder_id=7 offline is the
    // cached form, whose script picks the elder from the address.
    e.respondWith(fetch(req).then(function (res) {
      if (isPage(res)) {
        var copy = res.clone();
        e.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(url.pathname, copy); }));
      }
      return res;
    }, function () {
      return caches.match(url.pathname).then(function (hit) { return hit || offline(); });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    e.respondWith(caches.match(req).then(function (hit) {
      var refresh = fetch(req).then(function (res) {
        if (res.ok) {
          var copy = res.clone();
          e.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(req, copy); }));
        }
        return res;
      });
      if (hit) {
        e.waitUntil(refresh.catch(function () {}));
        return hit;
      }
      return refresh;
    }));
  }
});
