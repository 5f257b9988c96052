package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"tanfang/internal/areas"
)

// areaIndex finds villages in a caller's scope by code or by name path
// (县区 / 乡镇街道 / 村居). Offices write names without the committee
// suffix ("新坝村" for 新坝村委会) or the level word ("新坝" for 新坝镇), so
// names compare in a short form; a village name alone may exist in
// several towns, which is reported, never guessed.
type areaIndex struct {
	byCode  map[string]areas.Area
	byShort map[string][]areas.Area // villages by short name
	own     areas.Area              // the caller's area
	cache   map[[3]string]areaHit
}

type areaHit struct {
	code    string
	problem string
}

func loadAreas(ctx context.Context, st areas.Store, sc areas.Scope) (*areaIndex, error) {
	own, err := st.Get(ctx, sc.Code)
	if err != nil {
		return nil, fmt.Errorf("caller's area %s: %w", sc.Code, err)
	}
	anc, err := st.Ancestors(ctx, sc.Code)
	if err != nil {
		return nil, fmt.Errorf("caller's area %s: %w", sc.Code, err)
	}
	sub, err := st.Subtree(ctx, sc, "")
	if err != nil {
		return nil, fmt.Errorf("areas of %s: %w", sc.Code, err)
	}
	ix := &areaIndex{byCode: map[string]areas.Area{}, byShort: map[string][]areas.Area{}, own: own, cache: map[[3]string]areaHit{}}
	for _, a := range append(anc, sub...) {
		ix.byCode[a.Code] = a
		if a.Level == areas.Village {
			k := shortName(a.Name)
			ix.byShort[k] = append(ix.byShort[k], a)
		}
	}
	ix.byCode[own.Code] = own
	return ix, nil
}

var committeeSuffixes = []string{"村民委员会", "居民委员会", "村委会", "居委会", "委员会"}

// fullName drops the committee suffix: 新坝村委会 → 新坝村, 东园社区居委会 → 东园社区.
func fullName(s string) string {
	k := key(s)
	for _, suf := range committeeSuffixes {
		if t, ok := strings.CutSuffix(k, suf); ok && t != "" {
			if suf == "村民委员会" || suf == "村委会" {
				if !strings.HasSuffix(t, "村") {
					t += "村"
				}
			}
			return t
		}
	}
	return k
}

// shortName also drops the level word: 新坝村 → 新坝, 新坝镇 → 新坝, 海州区 → 海州.
func shortName(s string) string {
	k := fullName(s)
	for _, suf := range []string{"社区", "街道", "村", "居", "镇", "乡", "区", "县", "市"} {
		if t, ok := strings.CutSuffix(k, suf); ok && t != "" {
			return t
		}
	}
	return k
}

func (ix *areaIndex) parent(a areas.Area) areas.Area { return ix.byCode[a.ParentCode] }

// name is an area's path below the city, for messages and exports.
func (ix *areaIndex) path(code string) (county, town, village string) {
	a, ok := ix.byCode[code]
	for i := 0; ok && i < 6; i++ {
		switch a.Level {
		case areas.County:
			county = a.Name
		case areas.Town:
			town = a.Name
		case areas.Village:
			village = a.Name
		case areas.Grid:
			village = a.Name
		}
		a, ok = ix.byCode[a.ParentCode]
	}
	return county, town, village
}

// resolve finds the village a row names; problem says why it cannot.
func (ix *areaIndex) resolve(county, town, village string) areaHit {
	k := [3]string{county, town, village}
	if hit, ok := ix.cache[k]; ok {
		return hit
	}
	hit := ix.find(county, town, village)
	ix.cache[k] = hit
	return hit
}

func (ix *areaIndex) find(county, town, village string) areaHit {
	if village == "" {
		switch {
		case ix.own.Level == areas.Village || ix.own.Level == areas.Grid:
			return areaHit{code: ix.own.Code}
		case county == "" && town == "":
			// No area at all: fine for a file that exists; the registry
			// asks for one when the row would create a file.
			return areaHit{}
		}
		return areaHit{problem: "请填写所属村（居）名称或12位区划代码"}
	}
	var found []areas.Area
	for _, v := range ix.byShort[shortName(village)] {
		t := ix.parent(v)
		c := ix.parent(t)
		if town != "" && shortName(t.Name) != shortName(town) {
			continue
		}
		if county != "" && shortName(c.Name) != shortName(county) {
			continue
		}
		found = append(found, v)
	}
	// 新坝村 and 新坝社区 share the short name 新坝; the full name tells them apart.
	if len(found) > 1 {
		exact := slices.DeleteFunc(slices.Clone(found), func(a areas.Area) bool { return fullName(a.Name) != fullName(village) })
		if len(exact) > 0 {
			found = exact
		}
	}
	where := strings.TrimSpace(county + town)
	switch len(found) {
	case 1:
		return areaHit{code: found[0].Code}
	case 0:
		if where != "" {
			return areaHit{problem: fmt.Sprintf("在“%s”未找到村（居）“%s”（或不在您的管辖范围内），请核对名称或填写12位区划代码", where, village)}
		}
		return areaHit{problem: fmt.Sprintf("未找到村（居）“%s”（或不在您的管辖范围内），请核对名称或填写12位区划代码", village)}
	}
	var towns []string
	for _, v := range found {
		c, t, _ := ix.path(v.Code)
		towns = append(towns, c+t)
	}
	return areaHit{problem: fmt.Sprintf("村（居）名称“%s”在多个乡镇（街道）都有（%s），请同时填写乡镇（街道）名称，或填写12位区划代码", village, strings.Join(towns, "、"))}
}
