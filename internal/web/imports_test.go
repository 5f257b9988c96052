package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"tanfang/internal/audit"
	"tanfang/internal/store"
	"tanfang/internal/store/storetest"
)

// rosterFile writes rows under a header into a real xlsx file; float64
// values become number cells, as Excel stores them.
func rosterFile(t *testing.T, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// send posts a multipart form with a file in the field "file".
func (e *env) send(cl *http.Client, path, token string, fields map[string]string, data []byte) (int, []byte) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "台账.xlsx")
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.Srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := cl.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// fetch GETs a path with a bearer token and returns status, type and body.
func (e *env) fetch(path, token string) (int, string, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.Srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

type importReport struct {
	ImportID  int64  `json:"import_id"`
	Status    string `json:"status"`
	Rows      int    `json:"rows"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Rejected  int    `json:"rejected"`
	Problems  []struct {
		Row                    int
		Column, Value, Message string
	} `json:"problems"`
	Outcomes []struct {
		Row     int    `json:"row"`
		Outcome string `json:"outcome"`
	} `json:"outcomes"`
}

func decode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("bad JSON %q: %v", raw, err)
	}
}

func (e *env) elderCount(t *testing.T) int {
	var n int
	if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM elders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportsAndExports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		t.Run("roster_api", func(t *testing.T) { testRosterAPI(t, e) })
		t.Run("export", func(t *testing.T) { testExportAPI(t, e) })
		t.Run("lists", func(t *testing.T) { testListsAPI(t, e) })
		t.Run("pages", func(t *testing.T) { testImportPages(t, e) })
	})
}

// Issue 7 contract: dry run, all-or-nothing commit (422 with the same
// body), confirm a kept dry run once, problems as xlsx, roles.
func testRosterAPI(t *testing.T, e *env) {
	town := e.login("xinba")
	header := []any{"姓名", "身份证号码", "村（居）", "经济状况"}
	good := []any{"周样本", madeUpID("1942-02-02", false, 301), "新坝村", "低保"}
	bad := []any{"吴样本", 3.20706199001011e17, "新坝村", "低保"}
	damaged := rosterFile(t, header, good, bad)

	st, raw := e.send(http.DefaultClient, "/api/v1/imports/elders?dry_run=true", town, nil, damaged)
	var rep importReport
	decode(t, raw, &rep)
	if st != 200 || rep.Status != "checked" || rep.Rows != 2 || rep.Created != 1 || rep.Rejected != 1 || len(rep.Problems) != 1 {
		t.Fatalf("dry run: %d %s", st, raw)
	}
	if p := rep.Problems[0]; p.Row != 3 || p.Column != "身份证号码" || p.Message != "身份证号码被Excel存成了数字（3.20706E+17），后几位已丢失，请把该列设为文本后重新填写" {
		t.Fatalf("problem %+v", p)
	}
	st, raw = e.send(http.DefaultClient, "/api/v1/imports/elders", town, nil, damaged)
	var refused importReport
	decode(t, raw, &refused)
	if st != 422 || refused.Status != "rejected" || refused.Created != 1 || refused.Rejected != 1 || e.elderCount(t) != 0 {
		t.Fatalf("commit with a rejected row: %d %s", st, raw)
	}
	st, ctype, xl := e.fetch(fmt.Sprintf("/api/v1/imports/%d/problems.xlsx", refused.ImportID), town)
	if st != 200 || !strings.Contains(ctype, "spreadsheetml") {
		t.Fatalf("problems.xlsx: %d %s", st, ctype)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xl))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("问题清单")
	if len(rows) != 2 || rows[1][0] != "3" || !strings.Contains(rows[1][3], "3.20706E+17") {
		t.Fatalf("problems sheet %q", rows)
	}

	clean := rosterFile(t, header, good)
	st, raw = e.send(http.DefaultClient, "/api/v1/imports/elders?dry_run=true", town, nil, clean)
	decode(t, raw, &rep)
	if st != 200 || rep.Created != 1 || e.elderCount(t) != 0 {
		t.Fatalf("clean dry run: %d %s", st, raw)
	}
	other := e.login("haizhou")
	if st := e.do("POST", fmt.Sprintf("/api/v1/imports/%d/commit", rep.ImportID), other, nil, nil); st != 404 {
		t.Fatalf("another user confirmed: %d", st)
	}
	var done importReport
	if st := e.do("POST", fmt.Sprintf("/api/v1/imports/%d/commit", rep.ImportID), town, nil, &done); st != 200 || done.Status != "committed" || done.Created != 1 || e.elderCount(t) != 1 {
		t.Fatalf("confirm: %d %+v", st, done)
	}
	var eb errBody
	if st := e.do("POST", fmt.Sprintf("/api/v1/imports/%d/commit", rep.ImportID), town, nil, &eb); st != 409 || eb.Error.Code != "conflict" {
		t.Fatalf("confirmed twice: %d %+v", st, eb)
	}
	st, raw = e.send(http.DefaultClient, "/api/v1/imports/elders", e.login("visitor1"), nil, clean)
	if st != 403 {
		t.Fatalf("visitor import: %d %s", st, raw)
	}
	st, raw = e.send(http.DefaultClient, "/api/v1/imports/elders", town, nil, []byte("not a table\x00\x01"))
	decode(t, raw, &eb)
	if st != 422 || eb.Error.Field != "file" {
		t.Fatalf("garbage: %d %s", st, raw)
	}
	if st, ctype, _ := e.fetch("/api/v1/imports/template.xlsx", town); st != 200 || !strings.Contains(ctype, "spreadsheetml") {
		t.Fatalf("template: %d %s", st, ctype)
	}
	var list struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	if st := e.do("GET", "/api/v1/imports", town, nil, &list); st != 200 || len(list.Items) < 3 || list.Items[0].Status != "committed" {
		t.Fatalf("imports list: %d %+v", st, list)
	}
}

// R-OVS-3: unmasked exports are refused for a village account (audited as
// denied) and given to a county account (audited); masked by default.
func testExportAPI(t *testing.T, e *env) {
	village, county := e.login("xinbacun"), e.login("haizhou")
	full := madeUpID("1942-02-02", false, 301)
	st, _, body := e.fetch("/api/v1/exports/elders.xlsx", village)
	if st != 200 || bytes.Contains(body, []byte(full)) {
		t.Fatalf("masked export: %d", st)
	}
	if st, _, _ := e.fetch("/api/v1/exports/elders.xlsx?unmasked=1", village); st != 403 {
		t.Fatalf("village unmasked export: %d", st)
	}
	st, _, body = e.fetch("/api/v1/exports/elders.xlsx?unmasked=1&area_code=320706102000", county)
	if st != 200 {
		t.Fatalf("county unmasked export: %d", st)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("老人名册")
	if len(rows) != 2 || !strings.Contains(strings.Join(rows[1], "|"), full) {
		t.Fatalf("unmasked rows %q", rows)
	}
	notes, _ := f.GetRows("导出说明")
	if !strings.Contains(fmt.Sprint(notes), "未脱敏") || !strings.Contains(fmt.Sprint(notes), "新坝镇") {
		t.Fatalf("notes %q", notes)
	}
	entries, err := audit.List(context.Background(), e.DB, audit.Query{TargetType: "area", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range entries {
		if a.Action == "export.elders" {
			got = append(got, a.Actor+" "+a.Outcome+" "+a.Detail)
		}
	}
	if len(got) != 3 || got[0] != "haizhou ok rows=1 unmasked=1 filters=area_code" || got[1] != "xinbacun denied unmasked=1 role=village" {
		t.Fatalf("audit %q", got)
	}
}

// R-OBJ-4 through the API: reconcile, then apply in one step.
func testListsAPI(t *testing.T, e *env) {
	town := e.login("xinba")
	list := rosterFile(t, []any{"姓名", "身份证号码"}, []any{"周样本", madeUpID("1942-02-02", false, 301)}, []any{"郑样本", madeUpID("1943-03-03", true, 302)})
	st, raw := e.send(http.DefaultClient, "/api/v1/imports/lists", town, map[string]string{"kind": "health"}, list)
	var rep struct {
		ImportID    int64 `json:"import_id"`
		Disagreeing []struct {
			ElderID int64 `json:"elder_id"`
			Fixable bool  `json:"fixable"`
		} `json:"disagreeing"`
		Missing []struct{ Name string } `json:"missing"`
		Applied int                     `json:"applied"`
	}
	decode(t, raw, &rep)
	if st != 200 || len(rep.Disagreeing) != 1 || !rep.Disagreeing[0].Fixable || len(rep.Missing) != 1 || rep.Missing[0].Name != "郑样本" {
		t.Fatalf("reconcile: %d %s", st, raw)
	}
	if st, _ := e.send(http.DefaultClient, "/api/v1/imports/lists", town, map[string]string{"kind": "police"}, list); st != 422 {
		t.Fatalf("unknown kind: %d", st)
	}
	if st := e.do("POST", fmt.Sprintf("/api/v1/imports/%d/apply", rep.ImportID), town, map[string]any{"elder_ids": []int64{rep.Disagreeing[0].ElderID}}, &rep); st != 200 || rep.Applied != 1 {
		t.Fatalf("apply: %d %+v", st, rep)
	}
	var el struct {
		FPS bool `json:"family_planning_special"`
	}
	if st := e.do("GET", fmt.Sprintf("/api/v1/elders/%d", rep.Disagreeing[0].ElderID), town, nil, &el); st != 200 || !el.FPS {
		t.Fatalf("after apply: %d %+v", st, el)
	}
}

// The page flow: upload, see the dry run in Chinese, confirm; the
// printable file.
func testImportPages(t *testing.T, e *env) {
	b := e.browser("xinba")
	page := b.get("/imports")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	data := rosterFile(t, []any{"连云港市老年人台账"}, []any{"姓名", "身份证号码", "村（居）", "居住状况"},
		[]any{"孙样本", madeUpID("1944-04-04", true, 303), "新坝村", "独居"},
		[]any{"李样本", madeUpID("1944-04-05", true, 304), "新坝村", "住养老院"})
	st, body := e.send(b.cl, "/imports/elders", "", map[string]string{"csrf": csrf}, data)
	if st != 200 || !strings.Contains(string(body), "居住状况“住养老院”不是可选项") || !strings.Contains(string(body), "下载问题清单") || strings.Contains(string(body), "confirm-form") {
		t.Fatalf("dry-run page: %d %s", st, body)
	}
	data = rosterFile(t, []any{"姓名", "身份证号码", "村（居）", "居住状况"}, []any{"孙样本", madeUpID("1944-04-04", true, 303), "新坝村", "独居"})
	st, body = e.send(b.cl, "/imports/elders", "", map[string]string{"csrf": csrf}, data)
	m := regexp.MustCompile(`action="/imports/(\d+)/commit" id="confirm-form"`).FindStringSubmatch(string(body))
	if st != 200 || m == nil {
		t.Fatalf("clean dry-run page: %d %s", st, body)
	}
	resp, html := b.post("/imports/"+m[1]+"/commit", map[string][]string{"csrf": {csrf}})
	if resp.StatusCode != 200 || !strings.Contains(html, "导入完成：新建1份") {
		t.Fatalf("confirm page: %d %s", resp.StatusCode, html)
	}
	id := regexp.MustCompile(`href="/elders/(\d+)">档案`).FindStringSubmatch(html)
	if id == nil {
		t.Fatalf("no file link in %s", html)
	}
	if !strings.Contains(b.get("/elders/"+id[1]), "/elders/"+id[1]+"/print") {
		t.Fatal("the elder's page has no print link")
	}
	printed := b.get("/elders/" + id[1] + "/print")
	for _, want := range []string{"江苏省特殊困难老年人探访关爱服务记录表", "孙样本", "☑独居", "@page { size: A4", "暂无探访记录", "尚未结对", "身份证号码、电话已脱敏"} {
		if !strings.Contains(printed, want) {
			t.Errorf("print page lacks %q", want)
		}
	}
	if strings.Contains(printed, madeUpID("1944-04-04", true, 303)) {
		t.Error("print page holds a full ID number")
	}
	entries, _ := audit.List(context.Background(), e.DB, audit.Query{TargetType: "elder", TargetID: id[1]})
	if len(entries) == 0 || entries[0].Action != "elder.print" {
		t.Errorf("printing not audited: %+v", entries)
	}
	if resp, _ := b.post("/imports/elders", map[string][]string{"csrf": {"wrong"}}); resp.StatusCode != 403 {
		t.Errorf("upload without CSRF token: %d", resp.StatusCode)
	}
}
