package synth

import (
	"fmt"

	"tanfang/internal/plan"
)

// Visitor is one made-up visitor.
type Visitor struct {
	Name   string
	Female bool
	Phone  string // unique within the generator: 170 0000 0000 upwards, in order
	Kind   string // a plan.Kinds code
	Unit   string
	Title  string
}

// units names a visitor's unit and title by kind.
var units = map[string][2]string{
	"village_cadre":  {"村（居）民委员会", "村委委员"},
	"work_team":      {"驻村工作队", "队员"},
	"grid_worker":    {"网格工作站", "专职网格员"},
	"volunteer":      {"志愿者协会", "志愿者"},
	"social_worker":  {"社会工作服务中心", "社工"},
	"family_doctor":  {"乡镇卫生院", "家庭医生"},
	"silver_adviser": {"养老服务指导中心", "银发顾问"},
	"service_staff":  {"邮政支局", "投递员"},
	"peer":           {"老年协会", "老伙伴"},
	"party_cadre":    {"乡镇党委", "党员干部"},
	"other":          {"", ""},
}

// VisitorKinds are the kinds Visitor draws from when asked for any kind,
// weighted as villages staff the work: mostly cadres, grid workers and
// volunteers.
var VisitorKinds = []string{
	"village_cadre", "village_cadre", "village_cadre", "grid_worker", "grid_worker", "volunteer", "volunteer",
	"peer", "social_worker", "family_doctor", "work_team", "party_cadre", "silver_adviser", "service_staff",
}

// Visitor makes up a visitor of kind (a plan.Kinds code; "" draws one from
// VisitorKinds). Phones are unique for the first 50,000 visitors.
func (g *Generator) Visitor(kind string) Visitor {
	if kind == "" {
		kind = VisitorKinds[g.rng.IntN(len(VisitorKinds))]
	}
	v := Visitor{Kind: kind, Female: g.chance(0.55)}
	chars := childMale
	if v.Female {
		chars = childFemale
	}
	if kind == "peer" {
		chars = elderMale
		if v.Female {
			chars = elderFemale
		}
	}
	v.Name = g.name(g.surname(), chars)
	v.Phone = fmt.Sprintf("%s%05d", PhonePrefix, g.visitors%50000)
	g.visitors++
	u := units[kind]
	v.Unit, v.Title = u[0], u[1]
	return v
}

// Input is the plan input that registers the visitor in areaCode.
func (v Visitor) Input(areaCode string) plan.VisitorInput {
	return plan.VisitorInput{Name: v.Name, Phone: v.Phone, AreaCode: areaCode, Kind: v.Kind, Unit: v.Unit, Title: v.Title}
}
