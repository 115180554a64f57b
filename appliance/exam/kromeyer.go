package exam

import (
	"math"
)

// The body-mass index and its Kromeyer-Hauschild class.
//
// Source: K. Kromeyer-Hauschild, M. Wabitsch, D. Kunze et al., "Perzentile
// für den Body-mass-Index für das Kindes- und Jugendalter unter
// Heranziehung verschiedener deutscher Stichproben", Monatsschrift
// Kinderheilkunde 149 (2001) 807–818, doi:10.1007/s001120170107: the
// reference the Arbeitsgemeinschaft Adipositas im Kindes- und Jugendalter
// (AGA) recommends and the NRW school-entry report uses. The L, M and S
// values below are the paper's LMS parameters for BMI by sex and age as
// tabulated in the R package childsds (M. Vogel, data set kro.ref, "BMI"),
// one row per month of age from 47 to 97 months (the ages a school-entry
// exam sees); nothing was smoothed or changed here.
//
// A child's percentile: z = ((BMI/M)^L − 1) / (L·S), P = Φ(z). The classes
// (AGA): below P3 severe underweight, P3 to below P10 underweight, P10 to
// P90 normal, above P90 to P97 overweight, above P97 obese.

// lms is one month's row of the reference.
type lms struct {
	months  int
	l, m, s float64
}

// The z-scores of the class limits (Φ⁻¹ of 0.03, 0.10, 0.90, 0.97).
const (
	zP3  = -1.880793608151251
	zP10 = -1.2815515655446004
	zP90 = 1.2815515655446004
	zP97 = 1.880793608151251
)

// BMI returns weight / height² (kg/m²) rounded to one decimal.
func BMI(heightCM, weightKG float64) float64 {
	h := heightCM / 100
	return math.Round(weightKG/(h*h)*10) / 10
}

// MinAgeMonths and MaxAgeMonths bound the ages the embedded reference
// covers.
const (
	MinAgeMonths = 47
	MaxAgeMonths = 97
)

// BMIPercentile returns the Kromeyer-Hauschild percentile (0–100) of a BMI
// for a child of sex (Sex*) aged ageMonths, and false when the reference
// has no row for them (age out of range, sex diverse or unknown: the
// doctor judges those by hand).
func BMIPercentile(bmi float64, sex string, ageMonths int) (float64, bool) {
	z, ok := bmiZ(bmi, sex, ageMonths)
	if !ok {
		return 0, false
	}
	return math.Round(50*math.Erfc(-z/math.Sqrt2)*10) / 10, true
}

func bmiZ(bmi float64, sex string, ageMonths int) (float64, bool) {
	var table []lms
	switch sex {
	case SexMale:
		table = khBoys
	case SexFemale:
		table = khGirls
	default:
		return 0, false
	}
	if ageMonths < MinAgeMonths || ageMonths > MaxAgeMonths || bmi <= 0 {
		return 0, false
	}
	r := table[ageMonths-MinAgeMonths]
	if r.l == 0 {
		return math.Log(bmi/r.m) / r.s, true
	}
	return (math.Pow(bmi/r.m, r.l) - 1) / (r.l * r.s), true
}

// BMIClassOf returns the Kromeyer-Hauschild class (BMI*) of a BMI, or ""
// when the reference does not cover the child.
func BMIClassOf(bmi float64, sex string, ageMonths int) string {
	z, ok := bmiZ(bmi, sex, ageMonths)
	switch {
	case !ok:
		return ""
	case z < zP3:
		return BMISevereUnderweight
	case z < zP10:
		return BMIUnderweight
	case z <= zP90:
		return BMINormal
	case z <= zP97:
		return BMIOverweight
	}
	return BMIObese
}

var khBoys = []lms{
	{47, -1.795538, 15.45948, 0.0882087},
	{48, -1.804159, 15.45145, 0.0884882},
	{49, -1.812404, 15.44408, 0.0887752},
	{50, -1.820285, 15.43729, 0.0890706},
	{51, -1.827811, 15.43107, 0.0893756},
	{52, -1.834993, 15.42539, 0.0896909},
	{53, -1.841838, 15.42025, 0.0900174},
	{54, -1.848357, 15.41561, 0.0903558},
	{55, -1.854557, 15.41147, 0.0907070},
	{56, -1.860447, 15.40779, 0.0910718},
	{57, -1.866034, 15.40457, 0.0914509},
	{58, -1.871325, 15.40184, 0.0918449},
	{59, -1.876327, 15.39964, 0.0922542},
	{60, -1.881046, 15.39801, 0.0926797},
	{61, -1.885489, 15.39699, 0.0931218},
	{62, -1.889663, 15.39669, 0.0935802},
	{63, -1.893573, 15.39720, 0.0940540},
	{64, -1.897226, 15.39860, 0.0945422},
	{65, -1.900625, 15.40093, 0.0950439},
	{66, -1.903776, 15.40422, 0.0955582},
	{67, -1.906682, 15.40855, 0.0960838},
	{68, -1.909349, 15.41393, 0.0966199},
	{69, -1.911781, 15.42041, 0.0971658},
	{70, -1.913986, 15.42804, 0.0977212},
	{71, -1.915967, 15.43688, 0.0982855},
	{72, -1.917730, 15.44699, 0.0988580},
	{73, -1.919279, 15.45838, 0.0994380},
	{74, -1.920619, 15.47107, 0.1000250},
	{75, -1.921752, 15.48502, 0.1006183},
	{76, -1.922684, 15.50020, 0.1012176},
	{77, -1.923418, 15.51656, 0.1018226},
	{78, -1.923959, 15.53406, 0.1024328},
	{79, -1.924313, 15.55267, 0.1030482},
	{80, -1.924483, 15.57238, 0.1036690},
	{81, -1.924475, 15.59313, 0.1042955},
	{82, -1.924293, 15.61492, 0.1049279},
	{83, -1.923943, 15.63772, 0.1055663},
	{84, -1.923429, 15.66148, 0.1062106},
	{85, -1.922755, 15.68614, 0.1068605},
	{86, -1.921925, 15.71165, 0.1075159},
	{87, -1.920946, 15.73798, 0.1081763},
	{88, -1.919819, 15.76510, 0.1088415},
	{89, -1.918550, 15.79297, 0.1095110},
	{90, -1.917140, 15.82157, 0.1101842},
	{91, -1.915595, 15.85085, 0.1108608},
	{92, -1.913917, 15.88080, 0.1115405},
	{93, -1.912111, 15.91138, 0.1122231},
	{94, -1.910182, 15.94254, 0.1129084},
	{95, -1.908131, 15.97424, 0.1135961},
	{96, -1.905963, 16.00646, 0.1142859},
	{97, -1.903681, 16.03916, 0.1149775},
}

var khGirls = []lms{
	{47, -1.368009, 15.34476, 0.0951207},
	{48, -1.381601, 15.33464, 0.0955091},
	{49, -1.394900, 15.32602, 0.0959083},
	{50, -1.407920, 15.31889, 0.0963173},
	{51, -1.420675, 15.31323, 0.0967354},
	{52, -1.433175, 15.30906, 0.0971617},
	{53, -1.445431, 15.30637, 0.0975957},
	{54, -1.457452, 15.30514, 0.0980369},
	{55, -1.469241, 15.30534, 0.0984852},
	{56, -1.480783, 15.30669, 0.0989418},
	{57, -1.492058, 15.30893, 0.0994078},
	{58, -1.503048, 15.31182, 0.0998840},
	{59, -1.513735, 15.31517, 0.1003711},
	{60, -1.524103, 15.31884, 0.1008696},
	{61, -1.534137, 15.32278, 0.1013794},
	{62, -1.543824, 15.32695, 0.1018999},
	{63, -1.553153, 15.33140, 0.1024299},
	{64, -1.562115, 15.33619, 0.1029681},
	{65, -1.570700, 15.34136, 0.1035139},
	{66, -1.578907, 15.34698, 0.1040669},
	{67, -1.586722, 15.35313, 0.1046272},
	{68, -1.594143, 15.35986, 0.1051950},
	{69, -1.601169, 15.36727, 0.1057704},
	{70, -1.607800, 15.37543, 0.1063536},
	{71, -1.614040, 15.38443, 0.1069446},
	{72, -1.619893, 15.39443, 0.1075431},
	{73, -1.625353, 15.40557, 0.1081483},
	{74, -1.630408, 15.41792, 0.1087603},
	{75, -1.635047, 15.43151, 0.1093792},
	{76, -1.639262, 15.44643, 0.1100050},
	{77, -1.643048, 15.46276, 0.1106378},
	{78, -1.646399, 15.48066, 0.1112775},
	{79, -1.649315, 15.50023, 0.1119242},
	{80, -1.651799, 15.52147, 0.1125780},
	{81, -1.653857, 15.54434, 0.1132386},
	{82, -1.655496, 15.56879, 0.1139056},
	{83, -1.656720, 15.59473, 0.1145786},
	{84, -1.657536, 15.62207, 0.1152567},
	{85, -1.657951, 15.65071, 0.1159390},
	{86, -1.657973, 15.68057, 0.1166245},
	{87, -1.657608, 15.71158, 0.1173125},
	{88, -1.656862, 15.74366, 0.1180021},
	{89, -1.655743, 15.77674, 0.1186924},
	{90, -1.654259, 15.81077, 0.1193828},
	{91, -1.652419, 15.84569, 0.1200726},
	{92, -1.650237, 15.88136, 0.1207615},
	{93, -1.647724, 15.91764, 0.1214493},
	{94, -1.644892, 15.95440, 0.1221356},
	{95, -1.641757, 15.99152, 0.1228200},
	{96, -1.638330, 16.02892, 0.1235020},
	{97, -1.634627, 16.06651, 0.1241815},
}
