package e2e

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// viewport is a screen the pages must work on.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

var viewports = []viewport{
	{name: "phone", width: 390, height: 844, scale: 2, mobile: true},
	{name: "desktop", width: 1280, height: 800, scale: 1},
}

func (v viewport) emulate() chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.scale)}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(v.width, v.height, opts...)
}

// saveScreenshot keeps a full-page PNG in the test's temp dir and, when
// E2E_SCREENSHOTS names a folder, there too, so a person can look at it.
func saveScreenshot(t *testing.T, ctx context.Context, name string, v viewport) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if want := int(float64(v.width) * v.scale); cfg.Width != want {
		t.Errorf("screenshot %s is %d px wide, want %d: the page is wider than the screen", name, cfg.Width, want)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("E2E_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("E2E_SCREENSHOTS: %v", err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
		t.Logf("screenshot %s (%dx%d)", p, cfg.Width, cfg.Height)
	}
}

// overflowing lists the visible elements that stick out of the viewport
// sideways, which on a phone means content a person cannot see without
// scrolling the whole page left and right.
const overflowing = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > w) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + w);
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left < -1 || r.right > w + 1) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '') + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  return out;
})()`

// The login page and a county's area page fit a phone and a desktop screen
// (R-USR-2: visitors work mostly on a phone).
func TestPagesFitPhoneAndDesktop(t *testing.T) {
	base := startServer(t)
	ctx := newBrowser(t)

	for _, v := range viewports {
		if err := chromedp.Do(ctx, v.emulate(), chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("login-submit"))); err != nil {
			t.Fatalf("%s: open login: %v", v.name, err)
		}
		checkFits(t, ctx, "login", v)
		saveScreenshot(t, ctx, "login-"+v.name, v)
	}

	if err := chromedp.Do(ctx,
		fillLogin(base, "county", demoPassword),
		chromedp.WaitVisible(chromedp.ID("kpi-files")),
		chromedp.Navigate(base+"/areas/320706000000"),
		chromedp.WaitVisible(chromedp.ID("area-name")),
	); err != nil {
		t.Fatalf("log in as county: %v", err)
	}
	for _, v := range viewports {
		// Reload so the page lays out anew under the viewport's meta rules.
		if err := chromedp.Do(ctx, v.emulate(), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("children"))); err != nil {
			t.Fatalf("%s: show area page: %v", v.name, err)
		}
		checkFits(t, ctx, "area", v)
		saveScreenshot(t, ctx, "area-"+v.name, v)
	}
}

func checkFits(t *testing.T, ctx context.Context, page string, v viewport) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowing))
	if err != nil {
		t.Fatalf("%s on %s: measure layout: %v", page, v.name, err)
	}
	for _, b := range bad {
		t.Errorf("%s on %s (%dx%d): %s", page, v.name, v.width, v.height, b)
	}
}
