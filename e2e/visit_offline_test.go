package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// setOffline cuts or restores the page's network, service worker included.
func setOffline(ctx context.Context, offline bool) error {
	conds := []*network.Conditions{}
	if offline {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	sw := offline
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &sw, MatchedNetworkConditions: conds,
	}); err != nil {
		return err
	}
	_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
	})
	return err
}

// visitCount asks the API how many visits an elder has.
func visitCount(t *testing.T, base string, elderID string) int {
	t.Helper()
	body := strings.NewReader(`{"username":"visitor","password":"` + demoPassword + `"}`)
	resp, err := http.Post(base+"/api/v1/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", base+"/api/v1/visits?elder_id="+elderID+"&page_size=100", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Items []json.RawMessage `json:"items"`
		Total int               `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("visits of elder %s: %v", elderID, err)
	}
	return max(out.Total, len(out.Items))
}

// fillVisit picks the first elder on the form, a completed phone call of
// twenty minutes ending now (Shanghai time), and the first answer of every
// rating; it returns the elder's id.
const fillVisit = `(() => {
  const sel = document.getElementById('elder-id');
  const opt = Array.from(sel.options).find(o => o.value !== '');
  sel.value = opt.value;
  sel.dispatchEvent(new Event('change', {bubbles: true}));
  const pick = (name, value) => { const r = document.querySelector('input[name="' + name + '"][value="' + value + '"]'); if (r) r.checked = true; };
  pick('mode', 'phone'); pick('outcome', 'done');
  const shanghai = d => new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 16);
  const now = new Date();
  document.getElementById('started-at').value = shanghai(new Date(now.getTime() - 30 * 60e3));
  document.getElementById('ended-at').value = shanghai(new Date(now.getTime() - 10 * 60e3));
  const groups = new Set(Array.from(document.querySelectorAll('#findings input[type=radio]')).map(r => r.name));
  groups.forEach(n => { if (!document.querySelector('input[name="' + n + '"]:checked')) document.querySelector('input[name="' + n + '"]').checked = true; });
  return opt.value;
})()`

const queueCount = `Number((document.getElementById('queue-count') || {dataset: {count: '-1'}}).dataset.count)`

// A visitor fills the visit form with the network cut, sees it waiting on
// the phone, gets the network back and finds the visit on the server once
// (R-VST-6, DESIGN "Nothing lost").
func TestVisitRecordedOfflineArrivesOnce(t *testing.T) {
	base := startServer(t)
	waitDemoReady(t, base)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx,
		fillLogin(base, "visitor", demoPassword),
		chromedp.WaitVisible(chromedp.CSS("main")),
		chromedp.Navigate(base+"/visits/new"),
		chromedp.WaitVisible(chromedp.ID("visit-form")),
		chromedp.Sleep(1500*time.Millisecond), // the service worker installs
	); err != nil {
		t.Fatalf("open the visit form: %v", err)
	}
	elderID, err := chromedp.Run(ctx, chromedp.Evaluate[string](fillVisit))
	if err != nil {
		t.Fatalf("fill the form: %v", err)
	}
	before := visitCount(t, base, elderID)
	if err := setOffline(ctx, true); err != nil {
		t.Fatalf("cut the network: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("submit-visit"))); err != nil {
		t.Fatalf("submit offline: %v", err)
	}
	waitFor := func(what string, want int, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](queueCount))
			if err == nil && n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: queue count %d (%v), want %d", what, n, err, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("offline submission waits on the phone", 1, 15*time.Second)
	if got := visitCount(t, base, elderID); got != before {
		t.Fatalf("the server has %d visits while the phone was offline, want %d", got, before)
	}
	if err := setOffline(ctx, false); err != nil {
		t.Fatalf("restore the network: %v", err)
	}
	waitFor("the queue empties once online", 0, 30*time.Second)
	time.Sleep(time.Second)
	if got := visitCount(t, base, elderID); got != before+1 {
		t.Fatalf("after sync the server has %d visits for elder %s, want %d", got, elderID, before+1)
	}
}
