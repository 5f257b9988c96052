package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"tanfang/internal/store/storetest"
)

// The OpenAPI document is kept true: every API route is in it, and it lists
// no route the server does not have.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if st := e.do("GET", "/api/openapi.json", "", nil, &doc); st != 200 {
		t.Fatalf("openapi.json: %d", st)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for _, r := range e.API.APIPatterns() {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
		delete(documented, r)
	}
	for r := range documented {
		t.Errorf("openapi.json documents %s, which the server does not have", r)
	}
}
