package demo

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// count reads back what the build made, from the tables the pages read.
func (w *world) count() error {
	q := func(query string, dst *int, args ...any) error {
		if err := w.db.QueryRow(w.ctx, query, args...).Scan(dst); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		return nil
	}
	if err := q("SELECT COUNT(*) FROM elders", &w.sum.Elders); err != nil {
		return err
	}
	if err := q("SELECT COUNT(DISTINCT SUBSTR(area_code, 1, 6)) FROM elders", &w.sum.Counties); err != nil {
		return err
	}
	rows, err := w.db.Query(w.ctx, "SELECT class, COUNT(*) FROM elders GROUP BY class")
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			rows.Close()
			return err
		}
		w.sum.ByClass[c] = n
	}
	rows.Close()
	rows, err = w.db.Query(w.ctx, "SELECT status, COUNT(*) FROM followups GROUP BY status")
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return err
		}
		w.sum.Followups[s] = n
	}
	rows.Close()
	return rows.Err()
}

// Print writes the summary in a few lines.
func (s Summary) Print(out io.Writer) {
	fmt.Fprintf(out, "Demo city built in %.1fs:\n", s.Took.Seconds())
	fmt.Fprintf(out, "  elders      %d in %d villages of %d counties; class A %d, B %d, C %d, not in scope %d\n",
		s.Elders, s.Villages, s.Counties, s.ByClass["A"], s.ByClass["B"], s.ByClass["C"], s.ByClass["none"])
	fmt.Fprintf(out, "  visitors    %d; %d elders paired, %d left unpaired\n", s.Visitors, s.Paired, s.Unpaired)
	fmt.Fprintf(out, "  visits      %d in the last %d weeks, %d of them recorded late\n", s.Visits, s.Weeks, s.LateVisits)
	var fs []string
	for k, n := range s.Followups {
		fs = append(fs, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(fs)
	fmt.Fprintf(out, "  follow-ups  %s; %d escalations\n", strings.Join(fs, ", "), s.Escalated)
	fmt.Fprintf(out, "  also        %d emergencies (%d open), %d campaign, %d status changes, %d transfer, %d assessments\n",
		s.Emergencies, s.OpenEmerg, s.Campaigns, s.StatusChanges, s.Transfers, s.Assessments)
}
