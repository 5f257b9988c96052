// Package reports gives each area its dashboard and its monthly and
// quarterly reports (R-OBJ-3 按月更新、按季调度, R-OVS-1, R-OVS-2, R-AREA-2,
// DOMAIN §6), closes periods, and writes the county's written progress
// report.
//
// # Dashboards read snapshots
//
// A dashboard must answer for the whole city (100,000 elders, a year of
// visits) in well under a second on SQLite, so it never scans visits, nor
// even the plan's per-elder rollups: a single week of plan_weeks for the
// city takes a few hundred milliseconds to sum on a small machine, and a
// dashboard needs a week, a month, the file counts and a 12-week trend.
// Instead a job (Run, started by `tanfang serve`) rebuilds snapshot tables
// every few minutes: report_counts (active files by class, status and
// completeness), report_weeks and report_visitor_weeks (plan_weeks summed
// by area, class and primary visitor) and report_months (plan_months
// summed), each with one row per area at every level from the city down to
// the village. A dashboard then reads a few dozen rows by primary key.
//
// Rebuilding by a job was chosen over keeping the summaries current
// incrementally: the rollups it sums are themselves kept in the visit's
// transaction by plan.ApplyContact, and adding a second set of counters to
// that transaction (one per level, four rows per contact) would slow every
// visit and the single SQLite writer for figures nobody needs to the
// second. A rebuild of the city takes about a second and runs in short
// transactions; readers see the old snapshot or the new one, never a mix,
// so a county's figures always add up to the city's. The price is that
// dashboards lag by up to the job's interval; each shows when its snapshot
// was taken. A read finding no snapshot, one older than MaxAge (the job is
// not running) or one from an earlier week rebuilds it first. Open
// follow-ups and emergencies are few and urgent, so they are read live.
//
// Past weeks of the trend and the previous month are rebuilt until they
// settle (eight days after they end, when the 48-hour rule for on-time
// records is long over); after that their snapshot stays.
//
// # Reports read the rollups
//
// A report is about one area and one period, read rarely, and must count a
// record that arrived late in its own period, so it reads the plan's
// rollups directly: weekly compliance from plan.Compliance over the weeks
// overlapping the period, the monthly visit rate and the days with a
// contact from plan_months with plan.Compliance's conditions (a test holds
// the reports and the snapshots equal to plan.Compliance at every level,
// on both databases),
// registry changes from elder_versions and class_history, problems from
// followups and emergencies. Counts as of a moment (files, pairing, open
// follow-ups) come from the snapshot and say when.
//
// # Closing a period
//
// Close freezes an area's report for a period that has ended as JSON in
// report_closes (结账). Every later read shows the frozen report; when the
// data now gives another value for one of its period figures (a late visit
// recorded for the closed month, a follow-up reopened), the difference is
// recorded in report_corrections with what was reported, the value before
// and after, and when it was found, and is shown as a correction beside the
// frozen figure. Reading a closed report checks it; the job checks every
// period closed in the last 400 days once a day.
package reports
