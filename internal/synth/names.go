package synth

// Surnames weighted roughly by how common they are in northern Jiangsu, so
// a village list looks like a village list. Weights are relative.
var surnames = []struct {
	s string
	w int
}{
	{"王", 90}, {"李", 80}, {"张", 80}, {"刘", 60}, {"陈", 50}, {"杨", 35}, {"赵", 25}, {"黄", 20},
	{"周", 25}, {"吴", 25}, {"徐", 30}, {"孙", 30}, {"朱", 25}, {"马", 15}, {"胡", 15}, {"郭", 10},
	{"林", 8}, {"何", 8}, {"高", 15}, {"梁", 6}, {"郑", 8}, {"罗", 6}, {"宋", 10}, {"谢", 6},
	{"唐", 8}, {"韩", 10}, {"曹", 10}, {"许", 10}, {"邓", 5}, {"冯", 8}, {"程", 8}, {"蔡", 6},
	{"彭", 6}, {"潘", 6}, {"袁", 6}, {"于", 10}, {"董", 8}, {"余", 4}, {"苏", 6}, {"叶", 4},
	{"吕", 6}, {"魏", 6}, {"蒋", 6}, {"田", 6}, {"杜", 6}, {"丁", 8}, {"沈", 6}, {"姜", 6},
	{"范", 5}, {"傅", 4}, {"钟", 3}, {"卢", 4}, {"汪", 4}, {"戴", 5}, {"崔", 5}, {"任", 5},
	{"陆", 6}, {"廖", 2}, {"姚", 5}, {"方", 5}, {"金", 5}, {"邱", 4}, {"夏", 5}, {"谭", 3},
	{"贾", 5}, {"邹", 3}, {"石", 5}, {"熊", 3}, {"孟", 5}, {"秦", 4}, {"阎", 3}, {"薛", 5},
	{"侯", 5}, {"雷", 3}, {"白", 4}, {"龙", 2}, {"段", 3}, {"郝", 4}, {"孔", 4}, {"邵", 4},
	{"史", 4}, {"毛", 3}, {"常", 4}, {"万", 3}, {"顾", 4}, {"赖", 1}, {"武", 4}, {"康", 3},
	{"贺", 3}, {"严", 3}, {"尹", 3}, {"钱", 3}, {"施", 3}, {"牛", 3}, {"洪", 2}, {"龚", 2},
	{"葛", 4}, {"仲", 3}, {"惠", 2}, {"卞", 2}, {"欧阳", 1}, {"司马", 1}, {"上官", 1},
}

// Given-name characters by generation and sex. Names are drawn as random
// pairs, so they are made up; famous combinations are refused below.
var (
	elderMale   = []rune("德福贵荣华明国建海永长庆保树金志文学成顺宝山林俊忠义广兴春发根有才友仁礼信洪祥瑞连")
	elderFemale = []rune("秀兰英珍凤桂芳玉梅翠莲琴霞淑萍素云香花荷菊月娥美玲凤兰巧爱金银彩")
	childMale   = []rune("伟强军勇杰磊涛斌刚平超鹏飞波宇辉亮峰俊浩东明军")
	childFemale = []rune("丽娟敏静燕红霞萍艳芳琳莉婷娜霞慧玲倩晶")
)

// famous are real, well-known people a random draw could name; a generated
// name equal to one is drawn again, so no demo elder carries such a name.
var famous = map[string]bool{
	"刘德华": true, "张国荣": true, "周华健": true, "王志文": true, "李连杰": true, "张学友": true,
	"王菲": true, "李明": true, "张明": true, "王明": true, "李华": true, "王俊": true, "刘翔": true,
	"周杰": true, "陈明": true, "李宁": true, "王林": true, "张建": true, "李庆": true, "朱德": true,
	"王海": true, "张海": true, "李春": true, "刘强": true, "王强": true, "张伟": true, "王伟": true,
	"李伟": true, "刘伟": true, "陈伟": true, "杨洋": true, "李娜": true, "王丽": true, "张丽": true,
	"王军": true, "李勇": true, "张勇": true, "王勇": true, "王涛": true, "李涛": true, "刘涛": true,
	"王磊": true, "李静": true, "王静": true, "张静": true, "王敏": true, "李敏": true, "郭晶晶": true,
	"王宝强": true, "黄渤": true, "李冰冰": true, "范冰冰": true, "孙俪": true, "赵丽颖": true,
	"杨玉环": true, "秦香莲": true, "宋庆龄": true, "李秀成": true, "许仙": true, "白素贞": true,
}

// Common illnesses of old age, for the free-text 疾病情况.
var diseases = []string{"高血压", "糖尿病", "冠心病", "慢阻肺", "脑梗后遗症", "关节炎", "白内障", "骨质疏松", "帕金森病", "阿尔茨海默病", "慢性胃炎"}

// declineReasons are what an elder who declines visits typically says.
var declineReasons = []string{"子女常回家照看，不需要探访", "本人身体尚好，不愿被打扰", "家属每日照料，暂不需要"}
