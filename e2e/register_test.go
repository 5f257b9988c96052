package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// madeUpID returns a valid made-up ID number (GB 11643 check character)
// of a woman born 1944-05-06 in 海州区, in the 9xx sequence block used for
// test people, and the same number with one birth digit mistyped.
func madeUpID() (good, typo string) {
	first17 := "32070619440506962"
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range first17 {
		sum += int(c-'0') * w[i]
	}
	good = first17 + string("10X98765432"[sum%11])
	return good, good[:12] + "6" + good[13:] // 1944-05-06 becomes 1944-05-66
}

// A village clerk registers an elder: the mistyped ID number comes back
// beside its field with what was typed kept; corrected, the file shows its
// class and the rule behind it (R-REC, DOMAIN §2, R-CLS-1).
func TestVillageRegistersElderAfterATypo(t *testing.T) {
	base := startServer(t)
	waitDemoReady(t, base)
	ctx := newBrowser(t)
	good, typo := madeUpID()
	if err := chromedp.Do(ctx,
		fillLogin(base, "village", demoPassword),
		chromedp.WaitVisible(chromedp.CSS("main")),
		chromedp.Navigate(base+"/elders/new"),
		chromedp.WaitVisible(chromedp.ID("elder-form")),
		chromedp.SendKeys(chromedp.ID("f-name"), "测试奶奶"),
		chromedp.SendKeys(chromedp.ID("f-id_number"), typo),
		chromedp.SetValue(chromedp.ID("f-living_situation"), "alone"),
		chromedp.Click(chromedp.ID("elder-submit")),
		chromedp.WaitVisible(chromedp.ID("err-id_number")),
	); err != nil {
		t.Fatalf("submit with a typo: %v", err)
	}
	if msg := textOf(t, ctx, "#err-id_number"); !strings.Contains(msg, "出生日期") {
		t.Fatalf("the ID number error does not say what is wrong: %q", msg)
	}
	name, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-name")))
	if err != nil || name != "测试奶奶" {
		t.Fatalf("the typed name was not kept: %q %v", name, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("f-id_number"), good),
		chromedp.Click(chromedp.ID("elder-submit")),
		chromedp.WaitVisible(chromedp.ID("class-reasons")),
	); err != nil {
		t.Fatalf("submit the corrected number: %v", err)
	}
	if got := textOf(t, ctx, "#elder-class"); !strings.Contains(got, "A类") {
		t.Fatalf("an 82-year-old living alone shows class %q, want A类", got)
	}
	if got := textOf(t, ctx, "#class-reasons"); !strings.Contains(got, "A1") || !strings.Contains(got, "独居") {
		t.Fatalf("the class reason does not name the rule and the facts: %q", got)
	}
	if page := textOf(t, ctx, "main"); strings.Contains(page, good) {
		t.Fatal("the file page shows the full ID number without a reveal")
	}
}
