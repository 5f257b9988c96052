package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"tanfang/internal/areas"
	"tanfang/internal/audit"
	"tanfang/internal/policy/age"
	"tanfang/internal/store"
)

// Written is a county's (or the city's) written progress report for a
// period (R-OVS-1): in each section a paragraph generated from the report's
// figures and the editable text the area adds around it.
type Written struct {
	Area     areas.Area       `json:"area"`
	Period   string           `json:"period"`
	Label    string           `json:"label"`
	Title    string           `json:"title"`
	Sections []WrittenSection `json:"sections"`
	// Version counts saves of the text, 0 before the first; a save must
	// name the version it edited.
	Version   int        `json:"version"`
	UpdatedAt *time.Time `json:"updated_at"`
	// Closed tells whether the figures are those frozen at the close.
	Closed bool `json:"closed"`
}

// WrittenSection is one section: Generated is read-only, Text editable.
type WrittenSection struct {
	Key       string `json:"key"`
	Title     string `json:"title"`
	Generated string `json:"generated"`
	Text      string `json:"text"`
}

// WrittenKeys are the sections' keys, in order.
var WrittenKeys = []string{"intro", "registry", "visits", "problems", "difficulties", "plans"}

var writtenTitles = map[string]string{
	"intro": "", "registry": "一、摸排建档和动态更新情况", "visits": "二、探访关爱开展情况",
	"problems": "三、发现问题及处理情况", "difficulties": "四、存在的困难和问题", "plans": "五、下步工作打算",
}

// maxSectionText bounds one section's text, in characters.
const maxSectionText = 5000

// writtenArea checks the area: written reports are the counties' and the
// city's.
func (s *Service) writtenArea(ctx context.Context, sc areas.Scope, code string) (areas.Area, error) {
	a, err := s.area(ctx, sc, code)
	if err != nil {
		return a, err
	}
	if a.Level != areas.County && a.Level != areas.City {
		return a, &FieldError{"area_code", "书面进展报告由县（区）或市编写，请选择县（区）或市"}
	}
	return a, nil
}

// Written returns the written report of an area for a period, its figures
// from Report (frozen when the period is closed).
func (s *Service) Written(ctx context.Context, sc areas.Scope, areaCode, period string) (Written, error) {
	a, err := s.writtenArea(ctx, sc, areaCode)
	if err != nil {
		return Written{}, err
	}
	r, err := s.Report(ctx, sc, a.Code, period)
	if err != nil {
		return Written{}, err
	}
	texts, version, updated, err := s.texts(ctx, a.Code, r.Period)
	if err != nil {
		return Written{}, err
	}
	w := Written{Area: a, Period: r.Period, Label: r.Label, Version: version, UpdatedAt: updated, Closed: r.Closed != nil,
		Title: fmt.Sprintf("%s%s特殊困难老年人探访关爱服务工作进展情况报告", a.Name, r.Label)}
	gen := generated(r)
	for _, k := range WrittenKeys {
		w.Sections = append(w.Sections, WrittenSection{Key: k, Title: writtenTitles[k], Generated: gen[k], Text: texts[k]})
	}
	return w, nil
}

func (s *Service) texts(ctx context.Context, code, period string) (map[string]string, int, *time.Time, error) {
	var body, at string
	var version int
	err := s.DB.QueryRow(ctx, "SELECT sections, version, updated_at FROM report_texts WHERE area_code = ? AND period = ?", code, period).
		Scan(&body, &version, &at)
	if isNoRows(err) {
		return map[string]string{}, 0, nil, nil
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("written report text: %w", err)
	}
	texts := map[string]string{}
	if err := json.Unmarshal([]byte(body), &texts); err != nil {
		return nil, 0, nil, fmt.Errorf("written report text: %w", err)
	}
	t := store.MustTime(at)
	return texts, version, &t, nil
}

// SaveWritten stores the editable text of the sections given (others keep
// theirs). version is the version the text was edited from; a save over a
// newer one is a ConflictError. actor is completed with the action.
func (s *Service) SaveWritten(ctx context.Context, sc areas.Scope, actor audit.Entry, areaCode, period string, version int, texts map[string]string) (Written, error) {
	a, err := s.writtenArea(ctx, sc, areaCode)
	if err != nil {
		return Written{}, err
	}
	p, err := s.periodArg(period)
	if err != nil {
		return Written{}, err
	}
	for k, v := range texts {
		if _, ok := writtenTitles[k]; !ok {
			return Written{}, &FieldError{"sections." + k, "未知的报告段落：" + k}
		}
		if utf8.RuneCountInString(v) > maxSectionText {
			return Written{}, &FieldError{"sections." + k, fmt.Sprintf("“%s”最多%d字", sectionName(k), maxSectionText)}
		}
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var body string
		var cur int
		err := tx.QueryRow(ctx, "SELECT sections, version FROM report_texts WHERE area_code = ? AND period = ?", a.Code, p.String()).Scan(&body, &cur)
		merged := map[string]string{}
		switch {
		case isNoRows(err):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal([]byte(body), &merged); err != nil {
				return err
			}
		}
		if cur != version {
			return &ConflictError{fmt.Sprintf("报告已被他人修改（当前第%d版），请刷新后重新编辑", cur)}
		}
		var keys []string
		for k, v := range texts {
			merged[k] = strings.TrimSpace(v)
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out, _ := json.Marshal(merged)
		if cur == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO report_texts (area_code, period, sections, version, updated_at, updated_by) VALUES (?, ?, ?, 1, ?, ?)`,
				a.Code, p.String(), string(out), store.FormatTime(now), actor.ActorID)
		} else {
			_, err = tx.Exec(ctx, `UPDATE report_texts SET sections = ?, version = version + 1, updated_at = ?, updated_by = ?
				WHERE area_code = ? AND period = ? AND version = ?`, string(out), store.FormatTime(now), actor.ActorID, a.Code, p.String(), cur)
		}
		if err != nil {
			if store.IsUniqueViolation(err) {
				return &ConflictError{"报告已被他人修改，请刷新后重新编辑"}
			}
			return fmt.Errorf("save written report: %w", err)
		}
		actor.At, actor.Action, actor.TargetType, actor.TargetID, actor.AreaCode = now, "report.written", "report", a.Code+"/"+p.String(), a.Code
		actor.Detail = fmt.Sprintf("version=%d sections=%s", cur+1, strings.Join(keys, ","))
		if actor.Outcome == "" {
			actor.Outcome = audit.OK
		}
		return audit.Append(ctx, tx, actor)
	})
	if err != nil {
		return Written{}, err
	}
	return s.Written(ctx, sc, a.Code, p.String())
}

func sectionName(k string) string {
	if t := writtenTitles[k]; t != "" {
		return t
	}
	return "开头"
}

func pct(r float64) string { return fmt.Sprintf("%.1f%%", r*100) }

// generated writes each section's paragraph from the report's figures.
func generated(r Report) map[string]string {
	asOf := r.AsOf.In(age.Shanghai).Format("2006年1月2日")
	e, ch, p := r.Elders, r.Changes, r.Problems
	out := map[string]string{}
	out["registry"] = fmt.Sprintf("截至%s，%s在册特殊困难老年人档案%d份，纳入探访关爱范围%d人，其中A类%d人、B类%d人、C类%d人；"+
		"本周已安排探访%d人，已落实结对%d人，结对覆盖率%s；档案信息尚不完整%d份。%s，新建档案%d份，去世%d人、迁出%d人、转出%d人，转入%d人，类别发生变化%d人。",
		asOf, r.Area.Name, e.Files, e.InScope, e.ByClass["A"], e.ByClass["B"], e.ByClass["C"],
		r.Pairing.Planned, r.Pairing.Paired, pct(r.Pairing.Rate), e.Incomplete,
		r.Label, ch.New, ch.Deceased, ch.MovedOut, ch.TransferredOut, ch.TransferredIn, ch.ClassChanged)
	var b strings.Builder
	fmt.Fprintf(&b, "%s（%s至%s），按周计划应探访%d人次，按时完成%d人次，按时完成率%s。", r.Label, r.From, r.To,
		r.Compliance.InScope, r.Compliance.Met, pct(r.Compliance.Rate))
	for _, m := range r.Months {
		fmt.Fprintf(&b, "%s纳入探访%d人，已探访%d人，月探访率%s，共探访（含电话）%d人次（按天计）。",
			monthLabel(m.Month), m.InScope, m.Contacted, pct(m.Rate), m.ContactDays)
	}
	out["visits"] = b.String()
	var kinds []string
	for _, c := range p.FoundByKind {
		if c.N > 0 {
			kinds = append(kinds, fmt.Sprintf("%s%d个", c.Label, c.N))
		}
	}
	found := fmt.Sprintf("%d个", p.Found)
	if len(kinds) > 0 {
		found += "（" + strings.Join(kinds, "、") + "）"
	}
	out["problems"] = fmt.Sprintf("本期探访发现需跟踪解决的问题%s，办结%d个，经回访确认%d个，完成转介%d个；发生紧急情况%d起，处置完毕%d起。"+
		"截至报告生成时，尚有%d个问题未办结，其中逾期%d个。", found, p.Resolved, p.Verified, r.ReferralsDone(),
		p.EmergenciesRaised, p.EmergenciesClosed, p.Open, p.Overdue)
	var hints []string
	low := append([]ChildReport(nil), r.Children...)
	sort.SliceStable(low, func(i, j int) bool { return low[i].Monthly.Rate < low[j].Monthly.Rate })
	var names []string
	for _, c := range low {
		if c.Monthly.InScope > 0 && c.Monthly.Rate < 1 && len(names) < 5 {
			names = append(names, fmt.Sprintf("%s（%s）", c.Area.Name, pct(c.Monthly.Rate)))
		}
	}
	if len(names) > 0 {
		hints = append(hints, "月探访率未达100%的有"+strings.Join(names, "、"))
	}
	if n := r.Pairing.Planned - r.Pairing.Paired; n > 0 {
		hints = append(hints, fmt.Sprintf("尚有%d名老人未落实结对探访人员", n))
	}
	if e.Incomplete > 0 {
		hints = append(hints, fmt.Sprintf("%d份档案信息不完整", e.Incomplete))
	}
	if p.Overdue > 0 {
		hints = append(hints, fmt.Sprintf("%d个问题逾期未办结", p.Overdue))
	}
	if len(hints) == 0 {
		out["difficulties"] = "从数据看，本期各项指标均已达到要求。"
	} else {
		out["difficulties"] = "从数据看：" + strings.Join(hints, "；") + "。"
	}
	if r.Closed != nil {
		note := fmt.Sprintf("以上数据以%s结账时为准。", r.Closed.At.In(age.Shanghai).Format("2006年1月2日"))
		if n := len(r.Corrections); n > 0 {
			note += fmt.Sprintf("结账后发现更正%d项，以报表“%s”为准。", n, SheetCorrections)
		}
		out["difficulties"] += note
	}
	return out
}

// WriteDOCX writes the written report as a Word document to send upward.
func (w Written) WriteDOCX(out io.Writer, now time.Time) error {
	ps := []para{{paraTitle, w.Title}}
	for _, s := range w.Sections {
		if s.Title != "" {
			ps = append(ps, para{paraHeading, s.Title})
		}
		for _, t := range []string{s.Generated, s.Text} {
			for _, line := range strings.Split(strings.ReplaceAll(t, "\r\n", "\n"), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					ps = append(ps, para{paraBody, line})
				}
			}
		}
	}
	ps = append(ps, para{paraNote, w.Area.Name + "民政局"}, para{paraNote, now.In(age.Shanghai).Format("2006年1月2日")})
	return writeDOCX(out, w.Title, ps)
}
