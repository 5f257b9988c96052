package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/exporter"
	"tanfang/internal/importer"
	"tanfang/internal/policy/age"
	"tanfang/internal/registry"
	"tanfang/internal/store"
	"tanfang/internal/visits"
)

// Excel in and out (issue 7; R-OBJ-3, R-OBJ-4, R-REC, R-OVS-3): roster
// imports with a dry run, department lists reconciled, the roster export,
// and the printable file (一户一档). The JSON API first, then the pages.

func (s *Server) importsRoutes() {
	s.apiRoute("GET /api/v1/imports/template.xlsx", s.apiImportTemplate)
	s.apiRoute("GET /api/v1/imports", s.apiImportList)
	s.apiRoute("POST /api/v1/imports/elders", s.apiImportElders)
	s.apiRoute("POST /api/v1/imports/lists", s.apiImportReconcile)
	s.apiRoute("POST /api/v1/imports/{id}/commit", s.apiImportCommit)
	s.apiRoute("POST /api/v1/imports/{id}/apply", s.apiImportApply)
	s.apiRoute("GET /api/v1/imports/{id}/problems.xlsx", s.apiImportProblems)
	s.apiRoute("GET /api/v1/exports/elders.xlsx", s.apiExportElders)

	s.mux.HandleFunc("GET /imports", s.page(s.importsPage))
	s.mux.HandleFunc("GET /imports/template.xlsx", s.page(s.importTemplateDownload))
	s.mux.HandleFunc("POST /imports/elders", s.page(s.importEldersSubmit))
	s.mux.HandleFunc("POST /imports/lists", s.page(s.importListSubmit))
	s.mux.HandleFunc("POST /imports/{id}/commit", s.page(s.importCommitSubmit))
	s.mux.HandleFunc("POST /imports/{id}/apply", s.page(s.importApplySubmit))
	s.mux.HandleFunc("GET /imports/{id}/problems.xlsx", s.page(s.importProblemsDownload))
	s.mux.HandleFunc("GET /exports/elders.xlsx", s.page(s.exportEldersDownload))
	s.mux.HandleFunc("GET /elders/{id}/print", s.page(s.elderPrintPage))

	s.addNav(navItem{Order: 85, Label: "导入导出", Href: func(*caller) string { return "/imports" },
		Roles: []string{auth.RoleVillage, auth.RoleTown, auth.RoleCounty, auth.RoleCity, auth.RoleAdmin}})
	s.elderSections = append(s.elderSections, s.printSection)
}

func (s *Server) importer() *importer.Importer {
	return &importer.Importer{DB: s.DB, Keys: s.Keys, Registry: s.Registry, Areas: s.Areas, Now: s.Now}
}

// importError maps the importer's typed errors to API errors.
func importError(err error) error {
	var fe *importer.FileError
	var nf *importer.NotFixableError
	switch {
	case errors.As(err, &fe):
		return badField("file", fe.Message)
	case errors.As(err, &nf):
		return badField("elder_ids", nf.Error())
	case errors.Is(err, importer.ErrGone):
		return &statusError{http.StatusConflict, errConflict, "该文件已处理或已超过保留期（24小时），请重新上传"}
	case errors.Is(err, registry.ErrForbidden):
		return errForbiddenRole
	case errors.Is(err, store.ErrConflict):
		return &statusError{http.StatusConflict, errConflict, "档案在核对之后被修改，请重新上传名单核对"}
	}
	return err
}

// upload reads the multipart field "file", at most importer.MaxFileSize.
func upload(w http.ResponseWriter, r *http.Request) (string, []byte, error) {
	if r.MultipartForm == nil {
		r.Body = http.MaxBytesReader(w, r.Body, importer.MaxFileSize+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return "", nil, badField("file", "请以multipart/form-data上传文件（字段名file），文件不超过64MB")
		}
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		return "", nil, badField("file", "请选择要上传的文件（.xlsx或.csv）")
	}
	defer f.Close()
	if fh.Size > importer.MaxFileSize {
		return "", nil, badField("file", "文件超过64MB，请拆分后分批导入")
	}
	data, err := io.ReadAll(io.LimitReader(f, importer.MaxFileSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("read upload: %w", err)
	}
	return fh.Filename, data, nil
}

func (c caller) request(name string, data []byte, dry bool) importer.Request {
	return importer.Request{Actor: c.actor(), Scope: c.Scope, FileName: name, Data: data, DryRun: dry}
}

func writeXLSX(w http.ResponseWriter, ascii, name string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", exporter.ContentType)
	w.Header().Set("Content-Disposition", exporter.Disposition(ascii, name))
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Server) apiImportTemplate(w http.ResponseWriter, r *http.Request, c caller) error {
	return writeXLSX(w, "elders-template.xlsx", "老人信息导入模板.xlsx", importer.WriteTemplate)
}

func (s *Server) apiImportList(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	list, err := s.importer().Recent(r.Context(), c.Scope, 50)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// apiImportElders checks (dry_run=true) or commits a roster file; a commit
// refused because rows have problems answers 422 with the same report.
func (s *Server) apiImportElders(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	dry := r.URL.Query().Get("dry_run")
	if dry != "" && dry != "true" && dry != "false" && dry != "1" && dry != "0" {
		return badField("dry_run", "dry_run应为true或false")
	}
	name, data, err := upload(w, r)
	if err != nil {
		return err
	}
	rep, err := s.importer().Elders(r.Context(), c.request(name, data, dry == "true" || dry == "1"))
	if err != nil {
		return importError(err)
	}
	writeReport(w, rep)
	return nil
}

func writeReport(w http.ResponseWriter, rep *importer.Report) {
	status := http.StatusOK
	if rep.Status == importer.StatusRejected {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, rep)
}

func (s *Server) apiImportCommit(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := s.importer().Confirm(r.Context(), c.actor(), c.Scope, id)
	if err != nil {
		return importError(err)
	}
	writeReport(w, rep)
	return nil
}

// apiImportReconcile reconciles a department list (multipart: kind, file).
func (s *Server) apiImportReconcile(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	name, data, err := upload(w, r)
	if err != nil {
		return err
	}
	kind := r.FormValue("kind")
	if importer.ListKinds[kind] == "" {
		return badField("kind", "名单类型应为health（卫健计划生育特殊家庭）或disability（残联残疾人）")
	}
	rep, err := s.importer().Reconcile(r.Context(), kind, c.request(name, data, false))
	if err != nil {
		return importError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) apiImportApply(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		ElderIDs []int64 `json:"elder_ids"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	rep, err := s.importer().Apply(r.Context(), c.actor(), c.Scope, id, in.ElderIDs)
	if err != nil {
		return importError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) apiImportProblems(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.writeProblems(w, r, c, id)
}

// writeProblems sends the problems of one of the caller's imports as xlsx.
func (s *Server) writeProblems(w http.ResponseWriter, r *http.Request, c caller, id int64) error {
	sum, ps, err := s.importer().Problems(r.Context(), c.actor(), id)
	if err != nil {
		return err
	}
	meta := exporter.Meta{Title: "问题清单", Caller: callerLabel(c), Scope: s.scopeName(r, c), At: s.Now(),
		Filters: []exporter.Filter{{Label: "导入", Value: fmt.Sprintf("第%d号（%s，SHA-256 %s）", sum.ID, sum.FileName, sum.FileSHA256)}},
		Note:    "“内容”列为上传文件中的原值（含未脱敏的号码），仅供上传人修改文件使用"}
	name := fmt.Sprintf("问题清单-第%d号导入.xlsx", sum.ID)
	return writeXLSX(w, fmt.Sprintf("import-%d-problems.xlsx", sum.ID), name, func(out io.Writer) error {
		return importer.WriteProblems(out, meta, ps)
	})
}

func callerLabel(c caller) string {
	return fmt.Sprintf("%s（%s）", c.User.Username, auth.RoleNames[c.User.Role])
}

// scopeName is the caller's area with its ancestors, e.g. 连云港市海州区新坝镇.
func (s *Server) scopeName(r *http.Request, c caller) string {
	var b strings.Builder
	if anc, err := s.Areas.Ancestors(r.Context(), c.Area.Code); err == nil {
		for _, a := range anc {
			b.WriteString(a.Name)
		}
	}
	b.WriteString(c.Area.Name)
	return b.String()
}

func (s *Server) apiExportElders(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.apiRegistry(func(w http.ResponseWriter, r *http.Request, c caller) error {
		return s.exportElders(w, r, c)
	})(w, r, c)
}

// exportElders writes the roster of the caller's scope under the list
// filters; unmasked=1 is for the roles importer.UnmaskRoles names.
func (s *Server) exportElders(w http.ResponseWriter, r *http.Request, c caller) error {
	if !canEditFiles(c.User.Role) {
		return errForbiddenRole
	}
	q := r.URL.Query()
	f, err := listFilter(q)
	if err != nil {
		return err
	}
	unmasked := q.Get("unmasked") == "1" || q.Get("unmasked") == "true"
	note := "身份证号码、联系电话已脱敏，出生年月只到月：本表不能直接再导入；需要修改后导入时，请由有权限的账号导出完整号码"
	if unmasked {
		note = "列名与导入模板一致，修改后可再次导入；档案编号、年龄、类别、状态、缺项由系统生成，导入时忽略"
	}
	meta := exporter.Meta{Title: "老人名册", Caller: callerLabel(c), Scope: s.scopeName(r, c), At: s.Now(), Filters: s.filterNotes(r, f), Note: note}
	var buf bytes.Buffer
	if _, err := s.importer().ExportElders(r.Context(), c.actor(), c.Scope, f, unmasked, meta, &buf); err != nil {
		return err
	}
	name := "老人名册.xlsx"
	if unmasked {
		name = "老人名册（未脱敏）.xlsx"
	}
	return writeXLSX(w, "elders.xlsx", name, func(out io.Writer) error {
		_, err := buf.WriteTo(out)
		return err
	})
}

// filterNotes says in words which filters an export applied.
func (s *Server) filterNotes(r *http.Request, f registry.Filter) []exporter.Filter {
	var out []exporter.Filter
	if f.AreaCode != "" {
		name := f.AreaCode
		if a, err := s.Areas.Get(r.Context(), f.AreaCode); err == nil {
			name = a.Name + "（" + a.Code + "）"
		}
		out = append(out, exporter.Filter{Label: "区划", Value: name})
	}
	if f.Status != "" {
		out = append(out, exporter.Filter{Label: "状态", Value: registry.Label(registry.Statuses, f.Status)})
	}
	if f.Class != "" {
		out = append(out, exporter.Filter{Label: "类别", Value: f.Class})
	}
	if f.Incomplete != nil {
		v := "档案完整"
		if *f.Incomplete {
			v = "档案不完整"
		}
		out = append(out, exporter.Filter{Label: "完整性", Value: v})
	}
	if f.Name != "" {
		out = append(out, exporter.Filter{Label: "姓名包含", Value: f.Name})
	}
	if f.IDNumber != "" {
		out = append(out, exporter.Filter{Label: "身份证号码", Value: "（按号码查找）"})
	}
	if f.Phone != "" {
		out = append(out, exporter.Filter{Label: "联系电话", Value: "（按号码查找）"})
	}
	return out
}

// Pages.

type importsPageData struct {
	Recent      []importer.Summary
	ListKinds   map[string]string
	CanUnmask   bool
	Me          int64
	Report      *importer.Report
	List        *importer.ListReport
	Shown       []importer.Outcome // the first rows of a large report
	Hidden      int
	ProblemsOf  map[int][]importer.Problem
	KindLabels  map[string]string
	StatusLabel map[string]string
}

// maxShown caps the rows a report page lists; the rest is in the download.
const maxShown = 500

func (s *Server) importsData(r *http.Request, c *caller) (importsPageData, error) {
	list, err := s.importer().Recent(r.Context(), c.Scope, 20)
	d := importsPageData{Recent: list, ListKinds: importer.ListKinds, CanUnmask: importer.UnmaskRoles[c.User.Role], Me: c.User.ID,
		KindLabels: map[string]string{importer.KindElders: "老人档案", importer.KindHealth: "卫健名单", importer.KindDisability: "残联名单"},
		StatusLabel: map[string]string{importer.StatusChecked: "已试导入，待确认", importer.StatusCommitted: "已导入",
			importer.StatusRejected: "未导入（有问题）", importer.StatusReconciled: "已核对", importer.StatusApplied: "已更正"}}
	return d, err
}

func (s *Server) importsPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	d, err := s.importsData(r, c)
	if err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "import_index", pageData{Title: "导入导出", Caller: c, CSRF: csrf, Data: d})
}

// importFailed shows an import page's error: the user's own mistakes in
// Chinese, anything else as a server error.
func (s *Server) importFailed(w http.ResponseWriter, r *http.Request, c *caller, csrf string, err error) {
	err = importError(err)
	var fe *fieldError
	var se *statusError
	msg := ""
	status := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, &fe):
		msg = fe.Message
	case errors.As(err, &se):
		msg, status = se.Message, se.Status
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, c, csrf)
		return
	default:
		s.serverError(w, err)
		return
	}
	d, derr := s.importsData(r, c)
	if derr != nil {
		s.serverError(w, derr)
		return
	}
	s.render(w, status, "import_index", pageData{Title: "导入导出", Caller: c, CSRF: csrf, Error: msg, Data: d})
}

func (s *Server) showReport(w http.ResponseWriter, r *http.Request, c *caller, csrf string, rep *importer.Report) {
	d, err := s.importsData(r, c)
	if err != nil {
		s.serverError(w, err)
		return
	}
	d.Report = rep
	d.ProblemsOf = map[int][]importer.Problem{}
	for _, p := range rep.Problems {
		d.ProblemsOf[p.Row] = append(d.ProblemsOf[p.Row], p)
	}
	// Rejected rows first: they are what the user has to fix.
	shown := append([]importer.Outcome(nil), rep.Outcomes...)
	sort.SliceStable(shown, func(i, j int) bool {
		return shown[i].Outcome == importer.Rejected && shown[j].Outcome != importer.Rejected
	})
	if len(shown) > maxShown {
		d.Hidden = len(shown) - maxShown
		shown = shown[:maxShown]
	}
	d.Shown = shown
	status := http.StatusOK
	flash, msg := "", ""
	switch rep.Status {
	case importer.StatusCommitted:
		flash = fmt.Sprintf("导入完成：新建%d份、更新%d份、不变%d份档案", rep.Created, rep.Updated, rep.Unchanged)
	case importer.StatusRejected:
		status, msg = http.StatusUnprocessableEntity, fmt.Sprintf("有%d行存在问题，整个文件未导入；请下载问题清单修改后重新上传", rep.Rejected)
	}
	s.render(w, status, "import_check", pageData{Title: "导入检查结果", Caller: c, CSRF: csrf, Flash: flash, Error: msg, Data: d})
}

func (s *Server) importEldersSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	name, data, err := upload(w, r)
	if err == nil {
		var rep *importer.Report
		if rep, err = s.importer().Elders(r.Context(), c.request(name, data, true)); err == nil {
			s.showReport(w, r, c, csrf, rep)
			return
		}
	}
	s.importFailed(w, r, c, csrf, err)
}

func (s *Server) importCommitSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	id, err := pathID(r)
	if err == nil {
		var rep *importer.Report
		if rep, err = s.importer().Confirm(r.Context(), c.actor(), c.Scope, id); err == nil {
			s.showReport(w, r, c, csrf, rep)
			return
		}
	}
	s.importFailed(w, r, c, csrf, err)
}

func (s *Server) showList(w http.ResponseWriter, r *http.Request, c *caller, csrf, flash string, rep *importer.ListReport) {
	d, err := s.importsData(r, c)
	if err != nil {
		s.serverError(w, err)
		return
	}
	d.List = rep
	s.render(w, http.StatusOK, "import_list", pageData{Title: "名单核对结果", Caller: c, CSRF: csrf, Flash: flash, Data: d})
}

func (s *Server) importListSubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	name, data, err := upload(w, r)
	if err == nil {
		kind := r.FormValue("kind")
		if importer.ListKinds[kind] == "" {
			err = badField("kind", "请选择名单类型")
		} else {
			var rep *importer.ListReport
			if rep, err = s.importer().Reconcile(r.Context(), kind, c.request(name, data, false)); err == nil {
				s.showList(w, r, c, csrf, "", rep)
				return
			}
		}
	}
	s.importFailed(w, r, c, csrf, err)
}

func (s *Server) importApplySubmit(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if !canEditFiles(c.User.Role) {
		s.forbiddenPage(w, c, csrf)
		return
	}
	id, err := pathID(r)
	if err == nil {
		var ids []int64
		for _, v := range r.PostForm["elder_id"] {
			if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
				ids = append(ids, n)
			}
		}
		var rep *importer.ListReport
		if rep, err = s.importer().Apply(r.Context(), c.actor(), c.Scope, id, ids); err == nil {
			s.showList(w, r, c, csrf, fmt.Sprintf("已按名单更正%d份档案，每份档案的修改均已记入档案历史和审计日志", rep.Applied), rep)
			return
		}
	}
	s.importFailed(w, r, c, csrf, err)
}

func (s *Server) importTemplateDownload(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	if err := writeXLSX(w, "elders-template.xlsx", "老人信息导入模板.xlsx", importer.WriteTemplate); err != nil {
		s.serverError(w, err)
	}
}

func (s *Server) importProblemsDownload(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	id, err := pathID(r)
	if err == nil {
		err = s.writeProblems(w, r, *c, id)
	}
	if err != nil {
		s.notFoundOr(w, c, csrf, err)
	}
}

func (s *Server) exportEldersDownload(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	err := s.exportElders(w, r, *c)
	var fe *fieldError
	var ve *registry.ValidationError
	switch {
	case err == nil:
	case errors.Is(err, errForbiddenRole), errors.Is(err, registry.ErrForbidden):
		s.forbiddenPage(w, c, csrf)
	case errors.As(err, &fe):
		s.render(w, http.StatusUnprocessableEntity, "message", pageData{Title: "无法导出", Caller: c, CSRF: csrf, Data: fe.Message})
	case errors.As(err, &ve):
		s.render(w, http.StatusUnprocessableEntity, "message", pageData{Title: "无法导出", Caller: c, CSRF: csrf, Data: ve.Fields[0].Message})
	default:
		s.serverError(w, err)
	}
}

// printSection links the elder's page to the printable file.
func (s *Server) printSection(r *http.Request, c *caller, e registry.Elder) (elderSection, bool) {
	return elderSection{Title: "一户一档", HTML: template.HTML(`<p><a class="button secondary" id="print-link" href="/elders/` +
		strconv.FormatInt(e.ID, 10) + `/print">打印一户一档（A4）</a></p>`)}, true
}

// auditPrint records that a file was printed, beside the read Get audits.
func (s *Server) auditPrint(r *http.Request, c *caller, e registry.Elder) error {
	entry := c.auditEntry(s.Now(), "elder.print", "elder", strconv.FormatInt(e.ID, 10))
	entry.AreaCode = e.AreaCode
	return audit.Log(r.Context(), s.DB, entry)
}

// The printable file (一户一档, R-OBJ-3, R-REC): annex 3's first part as a
// table, then the visit records (R-VST-6), on A4. Numbers are masked on
// paper as on screen (DOMAIN §7); printing is audited.

// maxPrintedVisits caps the visit records one print holds (two years of
// weekly visits, newest first).
const maxPrintedVisits = 200

type box struct {
	Label string
	On    bool
}

func boxes(cs []registry.Choice, codes ...string) []box {
	out := make([]box, 0, len(cs))
	for _, c := range cs {
		out = append(out, box{c.Label, slices.Contains(codes, c.Code)})
	}
	return out
}

type printVisit struct {
	V        visits.Visit
	Visitor  string
	Mode     string
	Outcome  string
	Findings [][2]string
	Needs    string
	Hardship string
}

type printData struct {
	E                     registry.Elder
	Gender                string
	City, County, Town    string
	Village               string
	Body, Living, Economy []box
	Help                  []box
	Classes               []box
	Relation              string
	Household             []registry.Elder
	Paired                []string // current primary and backup visitors (R-TEAM-1)
	Visits                []printVisit
	MoreVisits            bool
	PrintedAt, PrintedBy  string
}

func (s *Server) elderPrintPage(w http.ResponseWriter, r *http.Request, c *caller, csrf string) {
	e, ok := s.loadElder(w, r, c, csrf)
	if !ok {
		return
	}
	ctx := r.Context()
	d := printData{E: e, Gender: map[string]string{"male": "男", "female": "女"}[e.Gender],
		Body: boxes(registry.BodyConditions, e.BodyConditions...), Living: boxes(registry.LivingSituations, e.LivingSituation),
		Economy: boxes(registry.EconomicStatuses, e.EconomicStatus...), Help: boxes(registry.HelpChannels, e.HelpChannels...),
		Classes:   boxes([]registry.Choice{{Code: "A", Label: "A类"}, {Code: "B", Label: "B类"}, {Code: "C", Label: "C类"}}, e.Class),
		Relation:  registry.Label(registry.Relations, e.FirstContact.Relation),
		PrintedAt: s.Now().In(age.Shanghai).Format("2006-01-02 15:04"), PrintedBy: callerLabel(*c)}
	if anc, err := s.Areas.Ancestors(ctx, e.AreaCode); err == nil {
		for _, a := range anc {
			switch a.Level {
			case areas.City:
				d.City = a.Name
			case areas.County:
				d.County = a.Name
			case areas.Town:
				d.Town = a.Name
			case areas.Village:
				d.Village = a.Name
			}
		}
	}
	if a, err := s.Areas.Get(ctx, e.AreaCode); err == nil {
		if a.Level == areas.Grid {
			d.Village += a.Name
		} else {
			d.Village = a.Name
		}
	}
	var err error
	if d.Household, err = s.Registry.Household(ctx, c.Scope, e.ID); err != nil {
		s.serverError(w, err)
		return
	}
	ps, err := s.Plan.Pairings(ctx, c.Scope, e.ID)
	if err != nil {
		s.serverError(w, err)
		return
	}
	for _, p := range ps {
		if p.EndedAt == nil {
			role := "结对"
			if p.Role == "backup" {
				role = "备岗"
			}
			d.Paired = append(d.Paired, p.VisitorName+"（"+role+"）")
		}
	}
	vs, err := s.Visits.List(ctx, c.Scope, e.ID, maxPrintedVisits+1)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if len(vs) > maxPrintedVisits {
		vs, d.MoreVisits = vs[:maxPrintedVisits], true
	}
	names := map[int64]string{}
	for _, v := range vs {
		pv := printVisit{V: v, Mode: visits.Label(visits.Modes, v.Mode), Outcome: visits.Label(visits.Outcomes, v.Outcome),
			Needs: visitLabelList("service", v.ServiceNeeds), Hardship: visitLabelList("hardship", v.Hardships)}
		if v.VisitorID != nil {
			name, ok := names[*v.VisitorID]
			if !ok {
				if p, err := s.Plan.Visitor(ctx, c.Scope, *v.VisitorID); err == nil {
					name = strings.Trim(p.Name+" "+p.Unit+" "+p.Title, " ")
				}
				names[*v.VisitorID] = name
			}
			pv.Visitor = name
		}
		f := v.Findings
		for _, it := range []struct {
			label string
			scale []visits.Choice
			v     string
		}{
			{"表达能力", visits.Conditions, f.Expression}, {"行动能力", visits.Conditions, f.Mobility}, {"精神状态", visits.Conditions, f.Mental},
			{"疾病情况", visits.Trends, f.Illness}, {"房屋安全", visits.Safeties, f.House}, {"燃气安全", visits.Safeties, f.Gas},
			{"用水取暖安全", visits.Safeties, f.WaterHeating}, {"用电安全", visits.Safeties, f.Electricity},
			{"家庭卫生状况", visits.Conditions, f.Hygiene}, {"赡养（扶养）人履责", visits.Conditions, f.Supporter},
		} {
			if it.v != "" {
				text := visits.Label(it.scale, it.v)
				if it.label == "疾病情况" && f.IllnessKind != "" {
					text += "（" + f.IllnessKind + "）"
				}
				pv.Findings = append(pv.Findings, [2]string{it.label, text})
			}
		}
		d.Visits = append(d.Visits, pv)
	}
	if err := s.auditPrint(r, c, e); err != nil {
		s.serverError(w, err)
		return
	}
	s.render(w, http.StatusOK, "elder_print", pageData{Title: "一户一档：" + e.Name, Caller: c, CSRF: csrf, Data: d})
}
