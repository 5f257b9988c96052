package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"tanfang/internal/audit"
	"tanfang/internal/auth"
	"tanfang/internal/demo"
	"tanfang/internal/pii"
	"tanfang/internal/store"
)

// DemoPassword is the password of every demo account. Demo mode is for
// trying the product, never for real data.
const DemoPassword = "Demo#2026"

// demoAccounts cover each government role along one branch of the real
// tree: 连云港市 › 海州区 › 新坝镇 › 新坝村.
var demoAccounts = []auth.NewUser{
	{Username: "admin", DisplayName: "系统管理员", Role: auth.RoleAdmin, AreaCode: "320700000000"},
	{Username: "city", DisplayName: "市民政局", Role: auth.RoleCity, AreaCode: "320700000000"},
	{Username: "county", DisplayName: "海州区民政局", Role: auth.RoleCounty, AreaCode: "320706000000"},
	{Username: "town", DisplayName: "新坝镇", Role: auth.RoleTown, AreaCode: "320706102000"},
	{Username: "village", DisplayName: "新坝村", Role: auth.RoleVillage, AreaCode: demo.HomeVillage},
	{Username: "visitor", DisplayName: "探访员", Role: auth.RoleVisitor, AreaCode: demo.HomeVillage},
}

const demoWarning = "DEMO MODE — made-up data only, never enter real people here."

// seedDemo makes the demo accounts in a database without accounts, then
// fills a database without elders with the demo city.
// demoAccountsReady creates the demo accounts on a database without any.
func demoAccountsReady(ctx context.Context, svc *auth.Service) error {
	n, err := svc.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	for _, a := range demoAccounts {
		a.Password = DemoPassword
		if _, err := svc.CreateUser(ctx, a, audit.Entry{Actor: "demo"}); err != nil {
			return fmt.Errorf("demo account %s: %w", a.Username, err)
		}
	}
	return nil
}

// buildDemoCity fills an empty database with the made-up city.
func buildDemoCity(ctx context.Context, db *store.DB, keys *pii.Keys, opts demo.Options, out io.Writer) error {
	opts.VisitorUser = "visitor"
	opts.Progress = out
	sum, err := demo.Build(ctx, db, keys, time.Now(), opts)
	switch {
	case errors.Is(err, demo.ErrNotEmpty):
		fmt.Fprintln(out, "The database already has elders: no demo data added.")
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(out, "Demo build stopped before the end: delete the database and start again for a whole demo city.")
		return err
	case err != nil:
		return err
	default:
		sum.Print(out)
	}
	return nil
}

func printDemoAccounts(out io.Writer) {
	fmt.Fprintf(out, "Demo accounts (password %s):\n", DemoPassword)
	for _, a := range demoAccounts {
		fmt.Fprintf(out, "  %-8s %s\n", a.Username, a.DisplayName)
	}
	fmt.Fprintln(out, demoWarning)
}

// demoFlags are the size flags shared by serve --demo and demo.
func demoFlags(fs *flag.FlagSet) *demo.Options {
	var o demo.Options
	fs.IntVar(&o.Elders, "elders", demo.DefaultElders, "demo: number of made-up elders")
	fs.IntVar(&o.Weeks, "weeks", demo.DefaultWeeks, "demo: weeks of visits before the current one")
	fs.Int64Var(&o.Seed, "seed", 2026, "demo: seed of the made-up city")
	return &o
}

// cmdDemo fills an empty database with the demo city and its accounts.
func cmdDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dsn := dbFlag(fs)
	keyFile := keyFlag(fs)
	opts := demoFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := loadKeys(*dsn, *keyFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, demoWarning)
	if err := demoAccountsReady(ctx, &auth.Service{DB: db}); err != nil {
		return err
	}
	if err := buildDemoCity(ctx, db, keys, *opts, stdout); err != nil {
		return err
	}
	printDemoAccounts(stdout)
	return nil
}
