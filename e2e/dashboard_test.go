package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitDemoReady waits until /healthz says the demo city is built (serve
// --demo builds it while already answering).
func waitDemoReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var h struct{ Demo string }
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		switch {
		case err == nil && (h.Demo == "ready" || h.Demo == ""):
			return
		case err == nil && h.Demo == "failed":
			t.Fatal("the demo city failed to build")
		case time.Now().After(deadline):
			t.Fatalf("the demo city is not built after 3 minutes (%q, %v)", h.Demo, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// chartsDrawn counts the dashboard's chart boxes and those in which
// ECharts drew a canvas with a size.
const chartsDrawn = `(() => {
  const boxes = Array.from(document.querySelectorAll('.chart'));
  const drawn = boxes.filter(b => { const c = b.querySelector('canvas'); return c && c.width > 0 && c.height > 0; });
  return [boxes.length, drawn.length];
})()`

// A county account lands on its dashboard, sees the figures of the demo
// city with every chart drawn beside its table, and drills down to a town
// (R-OVS-2, R-AREA-2); the page logs no console error (checked at cleanup).
func TestDashboardDrawsCharts(t *testing.T) {
	base := startServer(t)
	waitDemoReady(t, base)
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx,
		fillLogin(base, "county", demoPassword),
		chromedp.WaitVisible(chromedp.ID("kpi-files")),
		chromedp.WaitVisible(chromedp.CSS("#chart-trend canvas")),
	); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	if got := currentPath(t, ctx); got != "/dashboard" {
		t.Errorf("after login the browser is at %s, want /dashboard", got)
	}
	if got := textOf(t, ctx, "#area-name"); got != "海州区" {
		t.Errorf("#area-name = %q, want 海州区", got)
	}
	if files := textOf(t, ctx, "#kpi-files"); files == "" || files == "0" {
		t.Errorf("the demo county shows %q files", files)
	}
	counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](chartsDrawn))
	if err != nil {
		t.Fatalf("count charts: %v", err)
	}
	if len(counts) != 2 || counts[0] < 5 || counts[1] != counts[0] {
		t.Errorf("charts drawn: %v (boxes, with a canvas), want every one of at least 5", counts)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#table-trend tbody tr').length`))
	if err != nil || rows != 12 {
		t.Errorf("the trend's table has %d rows (%v), want 12", rows, err)
	}

	// Drill down: the town's row links to the town's dashboard.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#table-children a[href="/dashboard?area_code=320706102000"]`)),
		chromedp.WaitVisible(chromedp.CSS("#chart-children canvas")),
	); err != nil {
		t.Fatalf("drill down to 新坝镇: %v", err)
	}
	if got := textOf(t, ctx, "#area-name"); got != "新坝镇" {
		t.Errorf("after the drill-down #area-name = %q, want 新坝镇", got)
	}
	if crumbs := textOf(t, ctx, ".crumbs"); !strings.Contains(crumbs, "海州区") {
		t.Errorf("the path back up reads %q", crumbs)
	}
	// And on to the village, where the figures are its visitors' (R-AREA-2).
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#table-children a[href="/dashboard?area_code=320706102206"]`)),
		chromedp.WaitVisible(chromedp.ID("area-name")),
	); err != nil {
		t.Fatalf("drill down to 新坝村委会: %v", err)
	}
	if got := textOf(t, ctx, "#area-name"); got != "新坝村委会" {
		t.Errorf("after the second drill-down #area-name = %q, want 新坝村委会", got)
	}
}
