/* The report's words in English, Dari, Pashto, Arabic and French. */
#include "domain/phrases.h"

#include <stdio.h>
#include <string.h>

#include "util/lang.h"

const char *const phrase_languages[] = {"en", "fa-AF", "ps", "ar", "fr"};
const size_t phrase_language_count = sizeof phrase_languages / sizeof phrase_languages[0];

struct phrase_row {
    const char *key;
    const char *text[5]; /* in the order of phrase_languages */
};

/* clang-format off */
static const struct phrase_row rows[] = {
    /* Table titles, by table name. */
    {"title.headline", {"Civilian casualties", "تلفات غیرنظامیان", "ملکي تلفات",
        "الخسائر في صفوف المدنيين", "Victimes civiles"}},
    {"title.same_period_by_year", {"The same period in earlier years",
        "همین دوره در سال‌های گذشته", "په تېرو کلونو کې همدا موده",
        "الفترة نفسها في السنوات السابقة", "La même période les années précédentes"}},
    {"title.by_month", {"Civilian casualties by month", "تلفات غیرنظامیان بر اساس ماه",
        "ملکي تلفات د میاشتې له مخې", "الخسائر في صفوف المدنيين حسب الشهر",
        "Victimes civiles par mois"}},
    {"title.by_quarter", {"Civilian casualties by quarter", "تلفات غیرنظامیان بر اساس ربع سال",
        "ملکي تلفات د درې میاشتنۍ له مخې", "الخسائر في صفوف المدنيين حسب الربع",
        "Victimes civiles par trimestre"}},
    {"title.by_party", {"Civilian casualties by party to the conflict",
        "تلفات غیرنظامیان بر اساس طرف درگیری", "ملکي تلفات د جګړې د اړخ له مخې",
        "الخسائر في صفوف المدنيين حسب طرف النزاع", "Victimes civiles par partie au conflit"}},
    {"title.by_tactic", {"Civilian casualties by tactic", "تلفات غیرنظامیان بر اساس تاکتیک",
        "ملکي تلفات د تاکتیک له مخې", "الخسائر في صفوف المدنيين حسب الأسلوب",
        "Victimes civiles par tactique"}},
    {"title.by_category", {"Civilian casualties by sex and age",
        "تلفات غیرنظامیان بر اساس جنسیت و سن", "ملکي تلفات د جنسیت او عمر له مخې",
        "الخسائر في صفوف المدنيين حسب الجنس والعمر", "Victimes civiles par sexe et âge"}},
    {"title.women_children_by_party_group", {"Women and children casualties by party group",
        "تلفات زنان و کودکان بر اساس گروه طرف درگیری",
        "د ښځو او ماشومانو تلفات د اړخونو د ډلې له مخې",
        "الخسائر في صفوف النساء والأطفال حسب مجموعة الأطراف",
        "Victimes parmi les femmes et les enfants par groupe de parties"}},
    {"title.women_children_by_tactic", {"Women and children casualties by tactic",
        "تلفات زنان و کودکان بر اساس تاکتیک", "د ښځو او ماشومانو تلفات د تاکتیک له مخې",
        "الخسائر في صفوف النساء والأطفال حسب الأسلوب",
        "Victimes parmi les femmes et les enfants par tactique"}},
    {"title.by_region", {"Civilian casualties by region", "تلفات غیرنظامیان بر اساس حوزه",
        "ملکي تلفات د سیمې له مخې", "الخسائر في صفوف المدنيين حسب المنطقة",
        "Victimes civiles par région"}},
    {"title.by_province", {"Civilian casualties by province", "تلفات غیرنظامیان بر اساس ولایت",
        "ملکي تلفات د ولایت له مخې", "الخسائر في صفوف المدنيين حسب الولاية",
        "Victimes civiles par province"}},
    {"title.thematic", {"Incidents and civilian casualties by impact",
        "رویدادها و تلفات غیرنظامیان بر اساس نوع تأثیر", "پېښې او ملکي تلفات د اغېز له مخې",
        "الحوادث والخسائر في صفوف المدنيين حسب الأثر", "Incidents et victimes civiles par impact"}},
    {"title.by_attribution", {"Civilian casualties by party group and basis of attribution",
        "تلفات غیرنظامیان بر اساس گروه طرف درگیری و مبنای انتساب",
        "ملکي تلفات د اړخونو د ډلې او د منسوبولو د اساس له مخې",
        "الخسائر في صفوف المدنيين حسب مجموعة الأطراف وأساس الإسناد",
        "Victimes civiles par groupe de parties et fondement de l'attribution"}},
    {"title.by_role", {"Civilian casualties by victim's role", "تلفات غیرنظامیان بر اساس نقش قربانی",
        "ملکي تلفات د قرباني د رول له مخې", "الخسائر في صفوف المدنيين حسب دور الضحية",
        "Victimes civiles par rôle de la victime"}},

    /* Column headings, by column. */
    {"col.killed", {"Killed", "کشته", "وژل شوي", "قتلى", "Tués"}},
    {"col.injured", {"Injured", "زخمی", "ټپیان", "جرحى", "Blessés"}},
    {"col.casualties", {"Total", "مجموع", "ټول", "المجموع", "Total"}},
    {"col.share_pct", {"Share %", "سهم ٪", "برخه ٪", "النسبة ٪", "Part %"}},
    {"col.change_pct", {"Change %", "تغییر ٪", "بدلون ٪", "التغير ٪", "Variation %"}},
    {"col.previous_killed", {"Killed, last year", "کشته، سال گذشته", "وژل شوي، پرون کال",
        "قتلى، العام الماضي", "Tués, l'an dernier"}},
    {"col.previous_injured", {"Injured, last year", "زخمی، سال گذشته", "ټپیان، پرون کال",
        "جرحى، العام الماضي", "Blessés, l'an dernier"}},
    {"col.previous_casualties", {"Total, last year", "مجموع، سال گذشته", "ټول، پرون کال",
        "المجموع، العام الماضي", "Total, l'an dernier"}},
    {"col.incidents", {"Incidents", "رویدادها", "پېښې", "الحوادث", "Incidents"}},
    {"col.previous_incidents", {"Incidents, last year", "رویدادها، سال گذشته", "پېښې، پرون کال",
        "الحوادث، العام الماضي", "Incidents, l'an dernier"}},
    {"col.women_killed", {"Women killed", "زنان کشته", "وژل شوې ښځې", "النساء: قتلى",
        "Femmes tuées"}},
    {"col.women_injured", {"Women injured", "زنان زخمی", "ټپي ښځې", "النساء: جرحى",
        "Femmes blessées"}},
    {"col.women_casualties", {"Women total", "مجموع زنان", "د ښځو ټول", "النساء: المجموع",
        "Femmes, total"}},
    {"col.children_killed", {"Children killed", "کودکان کشته", "وژل شوي ماشومان",
        "الأطفال: قتلى", "Enfants tués"}},
    {"col.children_injured", {"Children injured", "کودکان زخمی", "ټپي ماشومان", "الأطفال: جرحى",
        "Enfants blessés"}},
    {"col.children_casualties", {"Children total", "مجموع کودکان", "د ماشومانو ټول",
        "الأطفال: المجموع", "Enfants, total"}},

    /* The sex and age categories. */
    {"category.men", {"Men", "مردان", "نارینه", "رجال", "Hommes"}},
    {"category.women", {"Women", "زنان", "ښځې", "نساء", "Femmes"}},
    {"category.boys", {"Boys", "پسران", "هلکان", "فتيان", "Garçons"}},
    {"category.girls", {"Girls", "دختران", "نجونې", "فتيات", "Filles"}},
    {"category.adult_unknown_sex", {"Adults, sex unknown", "بزرگسالان، جنسیت نامعلوم",
        "لویان، جنسیت نامعلوم", "بالغون، الجنس غير معروف", "Adultes, sexe inconnu"}},
    {"category.child_unknown_sex", {"Children, sex unknown", "کودکان، جنسیت نامعلوم",
        "ماشومان، جنسیت نامعلوم", "أطفال، الجنس غير معروف", "Enfants, sexe inconnu"}},
    {"category.unknown", {"Age unknown", "سن نامعلوم", "عمر نامعلوم", "العمر غير معروف",
        "Âge inconnu"}},

    /* Statuses, as the page names them. */
    {"status.reported", {"reported", "گزارش‌شده", "راپور شوی", "مُبلَّغ عنها", "signalé"}},
    {"status.verified", {"verified", "تأییدشده", "تایید شوی", "مُتحقَّق منها", "vérifié"}},
    {"status.rejected", {"rejected", "ردشده", "رد شوی", "مرفوضة", "rejeté"}},
    {"status.duplicate", {"duplicate", "تکراری", "تکراري", "مكررة", "doublon"}},
    {"status.retracted", {"retracted", "پس‌گرفته‌شده", "بېرته اخیستل شوی", "مسحوبة", "retiré"}},

    /* Months: full names, and the short ones of period spans. */
    {"month.1", {"January", "جنوری", "جنوري", "يناير", "janvier"}},
    {"month.2", {"February", "فبروری", "فبروري", "فبراير", "février"}},
    {"month.3", {"March", "مارچ", "مارچ", "مارس", "mars"}},
    {"month.4", {"April", "اپریل", "اپریل", "أبريل", "avril"}},
    {"month.5", {"May", "می", "مۍ", "مايو", "mai"}},
    {"month.6", {"June", "جون", "جون", "يونيو", "juin"}},
    {"month.7", {"July", "جولای", "جولای", "يوليو", "juillet"}},
    {"month.8", {"August", "اگست", "اګست", "أغسطس", "août"}},
    {"month.9", {"September", "سپتمبر", "سپتمبر", "سبتمبر", "septembre"}},
    {"month.10", {"October", "اکتوبر", "اکتوبر", "أكتوبر", "octobre"}},
    {"month.11", {"November", "نومبر", "نومبر", "نوفمبر", "novembre"}},
    {"month.12", {"December", "دسمبر", "دسمبر", "ديسمبر", "décembre"}},
    {"mon.1", {"Jan", "جنوری", "جنوري", "يناير", "janv."}},
    {"mon.2", {"Feb", "فبروری", "فبروري", "فبراير", "févr."}},
    {"mon.3", {"Mar", "مارچ", "مارچ", "مارس", "mars"}},
    {"mon.4", {"Apr", "اپریل", "اپریل", "أبريل", "avr."}},
    {"mon.5", {"May", "می", "مۍ", "مايو", "mai"}},
    {"mon.6", {"Jun", "جون", "جون", "يونيو", "juin"}},
    {"mon.7", {"Jul", "جولای", "جولای", "يوليو", "juil."}},
    {"mon.8", {"Aug", "اگست", "اګست", "أغسطس", "août"}},
    {"mon.9", {"Sep", "سپتمبر", "سپتمبر", "سبتمبر", "sept."}},
    {"mon.10", {"Oct", "اکتوبر", "اکتوبر", "أكتوبر", "oct."}},
    {"mon.11", {"Nov", "نومبر", "نومبر", "نوفمبر", "nov."}},
    {"mon.12", {"Dec", "دسمبر", "دسمبر", "ديسمبر", "déc."}},
    /* {1} day, {2} month, {3} year. */
    {"date", {"{1} {2} {3}", "{1} {2} {3}", "{1} {2} {3}", "{1} {2} {3}", "{1} {2} {3}"}},
    {"month_year", {"{1} {2}", "{1} {2}", "{1} {2}", "{1} {2}", "{1} {2}"}},
    /* A span within one year: {1} {2} first day and month, {3} {4} last,
     * {5} year; across years: day, month, year of each. */
    {"span.year", {"{1} {2} - {3} {4} {5}", "{1} {2} – {3} {4} {5}", "{1} {2} – {3} {4} {5}",
        "{1} {2} – {3} {4} {5}", "{1} {2} – {3} {4} {5}"}},
    {"span.years", {"{1} {2} {3} - {4} {5} {6}", "{1} {2} {3} – {4} {5} {6}",
        "{1} {2} {3} – {4} {5} {6}", "{1} {2} {3} – {4} {5} {6}", "{1} {2} {3} – {4} {5} {6}"}},

    /* Rows and notes. */
    {"total", {"Total", "مجموع", "ټول", "المجموع", "Total"}},
    {"unknown", {"Unknown", "نامعلوم", "نامعلوم", "غير معروف", "Inconnu"}},
    {"no_role", {"No role recorded", "نقشی ثبت نشده", "رول نه دی ثبت شوی", "لم يُسجَّل دور",
        "Aucun rôle enregistré"}},
    {"list_separator", {", ", "، ", "، ", "، ", ", "}},
    {"rounding", {
        "share_pct and change_pct are computed from exact counts and rounded half away from zero "
        "to one decimal only for display; change_pct is null where the same period last year had "
        "none; rounded shares need not add up to exactly 100 (each is off by at most 0.05)",
        "سهم و تغییر به درصد از شمار دقیق محاسبه و تنها برای نمایش به یک رقم اعشار گرد "
        "شده‌اند؛ جایی که همین دوره در سال گذشته تلفاتی نداشت، تغییر خالی است؛ مجموع سهم‌های "
        "گردشده ممکن است دقیقاً 100 نشود (هر یک حداکثر 0.05 فرق دارد)",
        "برخه او بدلون په سلنه له دقیقو شمېرو څخه محاسبه کېږي او یوازې د ښودلو لپاره تر یوه "
        "اعشاري رقم پورې ګردېږي؛ چېرته چې پرون کال په همدې موده کې تلفات نه وو، بدلون تش دی؛ "
        "د ګردو شویو برخو ټولګه ښايي دقیقاً 100 نه شي (هره یوه تر 0.05 پورې توپیر لري)",
        "تُحسب النسبة والتغير من الأعداد الدقيقة وتُقرَّب إلى منزلة عشرية واحدة للعرض فقط؛ "
        "ويكون التغير فارغاً حيث لم تسجَّل خسائر في الفترة نفسها من العام الماضي؛ وقد لا "
        "يبلغ مجموع النسب المقرَّبة 100 تماماً (يختلف كل منها بما لا يزيد على 0.05)",
        "La part et la variation sont calculées sur les nombres exacts et arrondies à une "
        "décimale pour l'affichage seulement ; la variation est vide lorsque la même période de "
        "l'année précédente n'en comptait aucune ; les parts arrondies peuvent ne pas totaliser "
        "exactement 100 (chacune s'en écarte d'au plus 0,05)"}},
    {"note.thematic", {
        "An incident with several impacts counts under each of them, so the rows may add up to "
        "more than the total, which counts each incident once",
        "رویدادی با چند نوع تأثیر زیر هر یک از آن‌ها شمرده می‌شود؛ بنابراین جمع سطرها ممکن "
        "است از مجموع، که هر رویداد را یک بار می‌شمارد، بیشتر باشد",
        "هغه پېښه چې څو اغېزې ولري د هرې یوې لاندې شمېرل کېږي، نو د کتارونو ټولګه ښايي له "
        "مجموعې څخه زیاته وي چې هره پېښه یو ځل شمېري",
        "تُحسب الحادثة ذات الآثار المتعددة تحت كل منها، لذا قد يزيد مجموع الصفوف على المجموع "
        "الكلي الذي يحسب كل حادثة مرة واحدة",
        "Un incident ayant plusieurs impacts compte sous chacun d'eux : les lignes peuvent donc "
        "dépasser le total, qui compte chaque incident une fois"}},

    /* The printable page. */
    {"page.title", {"Protection of Civilians: {1} to {2}", "حمایت از غیرنظامیان: {1} تا {2}",
        "د ملکي وګړو ساتنه: له {1} څخه تر {2} پورې", "حماية المدنيين: من {1} إلى {2}",
        "Protection des civils : du {1} au {2}"}},
    {"page.heading", {"Protection of Civilians: civilian casualties",
        "حمایت از غیرنظامیان: تلفات غیرنظامیان", "د ملکي وګړو ساتنه: ملکي تلفات",
        "حماية المدنيين: الخسائر في صفوف المدنيين", "Protection des civils : victimes civiles"}},
    {"page.meta", {
        "Period: {1} to {2}. Compared with {3} to {4}. Counted: incidents with status ",
        "دوره: {1} تا {2}. در مقایسه با {3} تا {4}. شمرده‌شده: رویدادهای با وضعیت ",
        "موده: له {1} څخه تر {2} پورې. پرتله له {3} څخه تر {4} پورې. شمېرل شوې: د دې حالت "
        "پېښې: ",
        "الفترة: من {1} إلى {2}. مقارنة بالفترة من {3} إلى {4}. المحسوب: الحوادث ذات الحالة ",
        "Période : du {1} au {2}. Comparée à la période du {3} au {4}. Comptés : les incidents "
        "au statut "}},
    {"page.headline", {"{1} civilian casualties", "{1} تلفات غیرنظامی", "{1} ملکي تلفات",
        "{1} من الضحايا المدنيين", "{1} victimes civiles"}},
    {"page.split", {" ({1} killed and {2} injured)", " ({1} کشته و {2} زخمی)",
        " ({1} وژل شوي او {2} ټپیان)", " ({1} قتيلاً و{2} جريحاً)", " ({1} tués et {2} blessés)"}},
    {"page.increase", {", a {1} per cent increase compared with the same period last year",
        "، یعنی {1} درصد افزایش نسبت به همین دوره در سال گذشته",
        "، چې د تېر کال د همدې مودې په پرتله {1} سلنه زیاتوالی ښيي",
        "، أي بزيادة قدرها {1} في المائة مقارنة بالفترة نفسها من العام الماضي",
        ", soit une hausse de {1} pour cent par rapport à la même période de l'année précédente"}},
    {"page.decrease", {", a {1} per cent decrease compared with the same period last year",
        "، یعنی {1} درصد کاهش نسبت به همین دوره در سال گذشته",
        "، چې د تېر کال د همدې مودې په پرتله {1} سلنه کموالی ښيي",
        "، أي بانخفاض قدره {1} في المائة مقارنة بالفترة نفسها من العام الماضي",
        ", soit une baisse de {1} pour cent par rapport à la même période de l'année précédente"}},
    {"page.estimates", {" Where sources disagree, the estimates: ",
        " در جایی که منابع هم‌نظر نیستند، برآوردها: ", " چېرته چې سرچینې سره توپیر لري، اټکلونه: ",
        " حيث تختلف المصادر، التقديرات: ", " Lorsque les sources divergent, les estimations : "}},
    {"page.estimates_end", {" civilian casualties.", " تلفات غیرنظامی.", " ملکي تلفات.",
        " من الضحايا المدنيين.", " victimes civiles."}},
    {"page.range", {"at least {1} and up to {2}", "دست‌کم {1} و حداکثر {2}",
        "لږ تر لږه {1} او تر {2} پورې", "{1} على الأقل وحتى {2}", "au moins {1} et jusqu'à {2}"}},
    {"page.charts", {"Charts", "نمودارها", "ګرافونه", "الرسوم البيانية", "Graphiques"}},
    {"page.tables", {"Tables", "جدول‌ها", "جدولونه", "الجداول", "Tableaux"}},
    {"page.widened", {"Impacts, attribution and victims' roles", "تأثیرات، انتساب و نقش قربانیان",
        "اغېزې، منسوبول او د قربانیانو رولونه", "الآثار والإسناد وأدوار الضحايا",
        "Impacts, attribution et rôles des victimes"}},

    /* Charts. */
    {"chart.years", {"Civilian casualties in the same period of each year",
        "تلفات غیرنظامیان در همین دوره در هر سال", "په هر کال کې د همدې مودې ملکي تلفات",
        "الخسائر في صفوف المدنيين في الفترة نفسها من كل عام",
        "Victimes civiles sur la même période chaque année"}},
    {"chart.months", {"Civilian casualties by month", "تلفات غیرنظامیان بر اساس ماه",
        "ملکي تلفات د میاشتې له مخې", "الخسائر في صفوف المدنيين حسب الشهر",
        "Victimes civiles par mois"}},
    {"chart.parties", {"Share of civilian casualties by party group",
        "سهم تلفات غیرنظامیان بر اساس گروه طرف درگیری", "د اړخونو د ډلې له مخې د ملکي تلفاتو برخه",
        "نسبة الخسائر في صفوف المدنيين حسب مجموعة الأطراف",
        "Part des victimes civiles par groupe de parties"}},
    {"chart.tactics", {"Share of civilian casualties by tactic",
        "سهم تلفات غیرنظامیان بر اساس تاکتیک", "د تاکتیک له مخې د ملکي تلفاتو برخه",
        "نسبة الخسائر في صفوف المدنيين حسب الأسلوب", "Part des victimes civiles par tactique"}},
    {"chart.impacts", {"Civilian casualties in incidents by impact",
        "تلفات غیرنظامیان در رویدادها بر اساس نوع تأثیر", "په پېښو کې ملکي تلفات د اغېز له مخې",
        "الخسائر في صفوف المدنيين في الحوادث حسب الأثر",
        "Victimes civiles des incidents par impact"}},
    {"chart.roles", {"Share of civilian casualties by victim's role",
        "سهم تلفات غیرنظامیان بر اساس نقش قربانی", "د قرباني د رول له مخې د ملکي تلفاتو برخه",
        "نسبة الخسائر في صفوف المدنيين حسب دور الضحية",
        "Part des victimes civiles par rôle de la victime"}},
    {"axis.year", {"Year", "سال", "کال", "السنة", "Année"}},
    {"axis.month", {"Month", "ماه", "میاشت", "الشهر", "Mois"}},
    {"axis.impact", {"Impact", "تأثیر", "اغېز", "الأثر", "Impact"}},
    {"axis.casualties", {"Civilian casualties", "تلفات غیرنظامیان", "ملکي تلفات",
        "الخسائر في صفوف المدنيين", "Victimes civiles"}},
    {"axis.share", {"Share of civilian casualties (%)", "سهم تلفات غیرنظامیان (٪)",
        "د ملکي تلفاتو برخه (٪)", "نسبة الخسائر في صفوف المدنيين (٪)",
        "Part des victimes civiles (%)"}},
    {"legend.killed", {"Killed", "کشته", "وژل شوي", "قتلى", "Tués"}},
    {"legend.injured", {"Injured", "زخمی", "ټپیان", "جرحى", "Blessés"}},
    {"legend.both", {"Killed and injured", "کشته و زخمی", "وژل شوي او ټپیان", "قتلى وجرحى",
        "Tués et blessés"}},
    {"tip.killed", {"killed", "کشته", "وژل شوي", "قتلى", "tués"}},
    {"tip.injured", {"injured", "زخمی", "ټپیان", "جرحى", "blessés"}},
};
/* clang-format on */

/* The column of rows' texts for lang; 0 (English) for any other. */
static size_t column_of(const char *lang)
{
    const char *m = lang ? lang_match(lang, phrase_languages, phrase_language_count) : NULL;
    for (size_t i = 0; m && i < phrase_language_count; i++)
        if (phrase_languages[i] == m)
            return i;
    return 0;
}

static const struct phrase_row *row_of(const char *key)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].key, key) == 0)
            return &rows[i];
    return NULL;
}

const char *phrase(const char *lang, const char *key)
{
    const struct phrase_row *r = row_of(key);
    return r ? r->text[column_of(lang)] : key;
}

const char *phrase_of(const char *lang, const char *prefix, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%s", prefix, name);
    const struct phrase_row *r = row_of(key);
    return r ? r->text[column_of(lang)] : NULL;
}

void phrase_format(struct buf *out, const char *template, const char *const *args, int nargs)
{
    for (const char *p = template; *p; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}' && p[1] - '1' < nargs) {
            buf_puts(out, args[p[1] - '1']);
            p += 2;
        } else {
            buf_putc(out, *p);
        }
    }
}
