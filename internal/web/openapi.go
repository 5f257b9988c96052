package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// The OpenAPI document is kept in fragments, one per part of the product
// (openapi/NN_part.json), each holding its own paths and component schemas;
// they are merged once at start. 00_base.json holds the shared parts.
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

func buildOpenAPI() ([]byte, error) {
	names, err := fs.Glob(openAPIFiles, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc := map[string]any{}
	for _, n := range names {
		raw, err := openAPIFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if err := mergeInto(doc, part, n); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(doc, "", " ")
}

// mergeInto merges objects key by key; two fragments defining the same
// leaf (the same path and method, the same schema) is an error.
func mergeInto(dst, src map[string]any, file string) error {
	for k, v := range src {
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		om, ok1 := old.(map[string]any)
		nm, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: %q is defined twice in the OpenAPI fragments", file, k)
		}
		if err := mergeInto(om, nm, file); err != nil {
			return err
		}
	}
	return nil
}
