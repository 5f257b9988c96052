// Package assess scores the elderly ability assessment of GB/T 42195-2022
// (老年人能力评估规范): 26 items in 4 indicators, the level bands, the C.4
// adjustment grounds and the 连民养老〔2023〕16号 失能/半失能 labels.
package assess

// Indicator is one of the four first-level indicators (一级指标).
type Indicator struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Max  int    `json:"max"`
}

// Option is one scored answer of an item.
type Option struct {
	Score int    `json:"score"`
	Text  string `json:"text"`
}

// Item is one of the 26 scored items of Appendix B. Options run from the
// highest score down, the order the standard prints them in.
type Item struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Note      string   `json:"note,omitempty"`
	Indicator string   `json:"indicator"`
	Max       int      `json:"max"`
	Options   []Option `json:"options"`
}

// Indicators returns the four first-level indicators in the standard's order.
func Indicators() []Indicator {
	return []Indicator{
		{"B.1", "自理能力", 32},
		{"B.2", "基础运动能力", 15},
		{"B.3", "精神状态", 28},
		{"B.4", "感知觉与社会参与", 15},
	}
}

// Items returns the 26 items in the standard's order. Each call builds a
// fresh catalogue, so a caller that edits wording (DOMAIN §1.2 asks for the
// B.4.4 wording to stay editable) cannot change what Score checks against.
func Items() []Item {
	return []Item{
		item("B.1.1", "进食", "", "B.1",
			"独立使用餐具进食，无呛咳",
			"在他人指导或提示下完成，或使用辅助器具独立进食，无呛咳",
			"进食中需少量接触式协助，或偶尔呛咳（每月1次及以上）",
			"进食中需大量接触式协助，或经常呛咳（每周1次及以上）",
			"完全依赖他人协助进食，或吞咽困难，或留置营养管"),
		sa("B.1.2", "修饰", "洗脸、刷牙、梳头、刮脸、剪指甲", "B.1"),
		sa("B.1.3", "洗澡", "", "B.1"),
		sa("B.1.4", "穿/脱上衣", "", "B.1"),
		sa("B.1.5", "穿/脱裤子和鞋袜", "", "B.1"),
		item("B.1.6", "小便控制", "", "B.1",
			"可自行控制排尿，排尿次数、排尿控制均正常",
			"白天可自行控制排尿，夜间控制较差，或能自行使用尿垫、尿布",
			"白天大部分时间可控制排尿，偶有尿失禁（每天少于1次，每周多于1次），或需他人少量协助使用尿垫",
			"白天大部分时间不能控制排尿（每天1次及以上），夜间出现尿失禁，或需他人大量协助使用尿垫",
			"小便失禁，完全不能控制排尿，或留置导尿管"),
		item("B.1.7", "大便控制", "", "B.1",
			"可正常自行控制大便排出",
			"偶有便秘或大便失禁（每周少于1次），或能自行使用辅助用具",
			"经常便秘或大便失禁（每天少于1次，每周多于1次），或需他人少量协助",
			"大部分时间便秘或大便失禁（每天1次及以上），但尚非完全失控，或需他人大量协助",
			"严重便秘或完全大便失禁，需依赖他人协助排便或清洁"),
		sa("B.1.8", "如厕", "脱裤子、如厕、清洁、穿好裤子", "B.1"),

		sa("B.2.1", "床上体位转移", "", "B.2"),
		sa("B.2.2", "床椅转移", "", "B.2"),
		item("B.2.3", "平地行走", "", "B.2",
			"可独立平地行走约50米，无跌倒风险",
			"可平地行走约50米，但有跌倒风险，需他人监护或使用拐杖、助行器等辅助工具",
			"行走时需要他人少量扶持协助",
			"行走时需要他人大量扶持协助",
			"完全不能行走"),
		item("B.2.4", "上下楼梯", "连续上下10–15个台阶", "B.2",
			"可独立上下楼梯，不需要协助",
			"在他人指导或提示下完成",
			"需要他人协助，但以自身完成为主",
			"主要依靠他人协助或完全依赖他人协助"),

		item("B.3.1", "时间定向", "", "B.3",
			"时间观念（年、月、日、时）清楚，日期相差不超过一天",
			"时间观念有所下降，年、月、日不能全部分清（相差两天及以上）",
			"时间观念较差，年、月、日不清楚，只知上半年或下半年，或季节",
			"时间观念很差，只知上午或下午、白天或夜间",
			"无时间观念"),
		item("B.3.2", "空间定向", "", "B.3",
			"能在日常生活范围内单独外出",
			"不能单独外出，但能准确说出日常居住地的地址",
			"不能单独外出，但知道较多日常居住地的地址信息",
			"不能单独外出，只知道较少日常居住地的地址信息",
			"不能单独外出，无空间观念"),
		item("B.3.3", "人物定向", "", "B.3",
			"认识长期共同生活的人，能称呼并知道关系",
			"认识大部分共同生活的人，能称呼或知道关系",
			"认识部分日常同住的亲人或照护者，能称呼或知道关系",
			"只认识自己或极少数日常同住的亲人或照护者",
			"不认识任何人，包括自己"),
		item("B.3.4", "记忆", "", "B.3",
			"记忆能力与年龄相称，能完整回忆",
			"轻度记忆紊乱（3个词语5分钟后不能全部回忆）",
			"中度记忆紊乱（不记得上一顿饭吃了什么）",
			"重度记忆紊乱（不记得自己的老朋友）",
			"记忆完全紊乱，或完全不能回忆既往事物"),
		item("B.3.5", "理解能力", "", "B.3",
			"能正常理解他人的话",
			"能理解他人的话，但需要更多时间",
			"理解有困难，需频繁重复或简化口头表达",
			"理解有严重困难，需要他人大量帮助",
			"完全不能理解他人的话"),
		item("B.3.6", "表达能力", "", "B.3",
			"能正常表达自己的需要",
			"能表达自己的需要，但需要更多时间",
			"表达有困难，需频繁重复或简化口头表达",
			"表达有严重困难，需要他人大量帮助",
			"完全不能表达需要"),
		item("B.3.7", "攻击行为", "", "B.3",
			"近一个月内未出现攻击行为",
			"近一个月内出现过身体攻击或语言攻击"),
		item("B.3.8", "抑郁症状", "", "B.3",
			"近一个月内未出现抑郁症状",
			"近一个月内出现过情绪低落等负性情绪"),
		item("B.3.9", "意识水平", "", "B.3",
			"神志清醒",
			"嗜睡或意识模糊",
			"昏睡或昏迷"),

		item("B.4.1", "视力", "矫正后", "B.4",
			"视力正常",
			"能看清大字体和物体，但看不清书报上的标准字体或报纸大标题",
			"只能看到光、颜色和形状，或完全失明"),
		item("B.4.2", "听力", "可佩戴助听器", "B.4",
			"听力正常",
			"听不清轻声说话或2米以外的说话声，需安静环境或大声说话",
			"只能听到大声、缓慢说话的一部分，或完全失聪"),
		item("B.4.3", "执行日常事务", "洗衣、小额购物、服药管理等", "B.4",
			"能完全独立计划、安排和完成日常事务",
			"需要他人监护或指导",
			"需要他人少量协助",
			"需要他人大量协助",
			"完全依赖他人"),
		item("B.4.4", "使用交通工具外出", "", "B.4",
			"能自己骑车或独自搭乘公共交通工具外出",
			"能独自搭乘出租车，但不会搭乘其他公共交通工具",
			"有人协助或陪伴时可搭乘公共交通工具外出",
			"只能在他人协助下搭乘出租车或私家车外出，或完全不能出门"),
		item("B.4.5", "社会交往能力", "", "B.4",
			"参与社会，有一定的适应能力，待人接物恰当",
			"能适应单纯环境，主动接触他人",
			"脱离社会，只能被动接触，容易上当受骗",
			"勉强可与他人接触，谈吐内容不清楚，表情不恰当",
			"不能与人交往"),
	}
}

// item builds an item whose options are given from the highest score down;
// the maximum follows from their number.
func item(code, name, note, indicator string, texts ...string) Item {
	top := len(texts) - 1
	opts := make([]Option, len(texts))
	for i, t := range texts {
		opts[i] = Option{Score: top - i, Text: t}
	}
	return Item{Code: code, Name: name, Note: note, Indicator: indicator, Max: top, Options: opts}
}

// sa builds an item scored on the standard assistance scale (DOMAIN §1.2 SA).
func sa(code, name, note, indicator string) Item {
	return item(code, name, note, indicator,
		"独立完成，不需要协助",
		"在他人指导或提示下完成",
		"需要他人协助，但以自身完成为主",
		"主要依靠他人协助，自身能给予配合",
		"完全依赖他人协助，且不能给予配合")
}
