package main

import (
	"context"
	"fmt"
	"io"

	"tanfang/internal/audit"
	"tanfang/internal/auth"
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
	{Username: "village", DisplayName: "新坝村", Role: auth.RoleVillage, AreaCode: "320706102206"},
	{Username: "visitor", DisplayName: "探访员", Role: auth.RoleVisitor, AreaCode: "320706102206"},
}

func seedDemo(ctx context.Context, db *store.DB, svc *auth.Service, out io.Writer) error {
	n, err := svc.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		for _, a := range demoAccounts {
			a.Password = DemoPassword
			if _, err := svc.CreateUser(ctx, a, audit.Entry{Actor: "demo"}); err != nil {
				return fmt.Errorf("demo account %s: %w", a.Username, err)
			}
		}
	}
	fmt.Fprintln(out, "DEMO MODE — made-up data only, never enter real people here.")
	fmt.Fprintf(out, "Demo accounts (password %s):\n", DemoPassword)
	for _, a := range demoAccounts {
		fmt.Fprintf(out, "  %-8s %s\n", a.Username, a.DisplayName)
	}
	return nil
}
