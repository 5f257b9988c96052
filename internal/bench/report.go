package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// thousands formats a number with thousands separators and at most one
// decimal below 100.
func thousands(v float64) string {
	if v != 0 && math.Abs(v) < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func figure(v float64, unit string) string {
	if v == 0 && unit == "" {
		return "—"
	}
	return thousands(v) + " " + unit
}

func pad(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}

// WriteTable prints the result as a plain-text table: each figure, its
// target and verdict, the raw limit beside it and their ratio.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "tanfang bench: %s, %s elders, weeks: %d, clients: %d; %d CPUs, %s MB memory, %s; load average %.1f at start, %.1f at end\n",
		r.Machine.Database, thousands(float64(r.Elders)), r.Weeks, r.Clients, r.Machine.CPUs, thousands(r.Machine.MemoryMB), r.Machine.GoVersion,
		r.Machine.LoadStart, r.Machine.LoadEnd)
	fmt.Fprintf(w, "load: %s elders (%s in scope: A %s, B %s, C %s), %s visitors, %s visit records",
		thousands(float64(r.Load.Elders)), thousands(float64(r.Load.InScope)),
		thousands(float64(r.Load.ByClass["A"])), thousands(float64(r.Load.ByClass["B"])), thousands(float64(r.Load.ByClass["C"])),
		thousands(float64(r.Load.Visitors)), thousands(float64(r.Visits)))
	if r.DBSizeMB > 0 {
		fmt.Fprintf(w, ", database %s MB", thousands(r.DBSizeMB))
	}
	fmt.Fprintf(w, "; run %s s\n\n", thousands(r.Seconds))
	rows := [][]string{{"measure", "figure", "target", "", "raw limit (same run)", "raw", "ratio"}}
	for _, l := range r.Lines {
		ratio := ""
		if l.Ratio > 0 {
			ratio = strconv.FormatFloat(l.Ratio, 'f', 3, 64)
			if l.Ratio >= 10 {
				ratio = strconv.FormatFloat(l.Ratio, 'f', 1, 64)
			}
		}
		val := figure(l.Value, l.Unit)
		if l.Value == 0 && l.Note != "" && l.Verdict == "" {
			val = "—"
		}
		raw := ""
		if l.RawName != "" {
			raw = figure(l.Raw, l.RawUnit)
		}
		rows = append(rows, []string{l.Name, val, l.Target, l.Verdict, l.RawName, raw, ratio})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(pad(c, widths[i]))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	fmt.Fprintln(w)
	for _, l := range r.Lines {
		if l.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", l.Name, l.Note)
		}
	}
}
