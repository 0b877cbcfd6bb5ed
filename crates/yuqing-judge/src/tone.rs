//! Tone (倾向).
//!
//! By default the tone comes from the trained model shipped in
//! `models/tone.bin` ([`crate::tone_model`]; `scripts/train-tone.sh` rebuilds it):
//! [`judge`] and [`score`]. The lexicon scorer below stays as [`lexicon_score`], for
//! explanation (it can name the words that scored) and as the fallback should the
//! embedded model ever fail to load.
//!
//! # The lexicon scorer
//!
//! An honest baseline. It knows the words of public-office news and complaints
//! ([`tone_lexicon.txt`](./tone_lexicon.txt)), flips a sentiment word that follows a
//! negator (没有拖欠 leans positive, 未发放到位 negative), strengthens one that follows
//! a degree word (严重违纪), and weighs the title twice as much as the body, because
//! the title is what readers (and reposts) see.
//!
//! The sum is divided by a slowly growing function of the length, so that one
//! complaint word in a tweet-length post counts, while the same word once in a
//! 5,000-character work report does not make the report negative, and then squashed
//! with `tanh` into [-1, 1].
//!
//! What it cannot do: sarcasm, reported speech (辟谣 articles quote the rumour),
//! who the complaint is about, and words not in the list.

use crate::text::normalize;
use crate::tone_model::ToneModel;
use std::collections::HashMap;
use std::sync::OnceLock;
use yuqing_core::Tone;

/// At or above: positive.
pub const POSITIVE_AT: f32 = 0.15;
/// At or below: negative.
pub const NEGATIVE_AT: f32 = -0.15;

/// A title word counts this many times as much as a body word.
const TITLE_WEIGHT: f32 = 2.0;
/// A negated sentiment word flips and weakens: 没有拖欠 is not as good as 拖欠 is bad.
const NEGATION_FACTOR: f32 = -0.7;
/// Negators and degree words reach a sentiment word starting within this many characters.
const MODIFIER_REACH: usize = 3;
/// Scale of the sum before squashing, and the length (in characters) at which the
/// normalisation divides by √2.
const GAIN: f32 = 0.6;
const LENGTH_UNIT: f32 = 100.0;

const LEXICON: &str = include_str!("tone_lexicon.txt");

#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry {
    Sentiment(f32),
    Negator,
    Degree(f32),
    Neutral,
}

/// Entries by first character, longest first, so a scan does one hash lookup per
/// character.
struct Lexicon {
    by_first: HashMap<char, Vec<(Vec<char>, Entry)>>,
}

/// A malformed lexicon line is skipped rather than fatal (the file is ours and a test
/// checks every line parses; a typo must not take the judge down).
fn parse_lexicon(src: &str) -> (Lexicon, Vec<String>) {
    let mut by_first: HashMap<char, Vec<(Vec<char>, Entry)>> = HashMap::new();
    let mut bad = Vec::new();
    let mut section = "";
    for (n, raw) in src.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = match s {
                "negative" | "positive" | "negator" | "degree" | "neutral" => s,
                _ => {
                    bad.push(format!("line {}: unknown section [{s}]", n + 1));
                    ""
                }
            };
            continue;
        }
        let mut parts = line.split_whitespace();
        let word = normalize(parts.next().unwrap_or(""));
        let weight = match parts.next().map(str::parse::<f32>) {
            None => Ok(1.0),
            Some(Ok(w)) if w.is_finite() && w >= 0.0 => Ok(w),
            Some(_) => Err(()),
        };
        let entry = match (section, weight) {
            ("negative", Ok(w)) => Some(Entry::Sentiment(-w)),
            ("positive", Ok(w)) => Some(Entry::Sentiment(w)),
            ("negator", Ok(_)) => Some(Entry::Negator),
            ("degree", Ok(w)) => Some(Entry::Degree(w)),
            ("neutral", Ok(_)) => Some(Entry::Neutral),
            _ => None,
        };
        match entry {
            Some(e) if !word.is_empty() && parts.next().is_none() => {
                let chars: Vec<char> = word.chars().collect();
                by_first.entry(chars[0]).or_default().push((chars, e));
            }
            _ => bad.push(format!("line {}: cannot read `{raw}`", n + 1)),
        }
    }
    for list in by_first.values_mut() {
        list.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
    }
    (Lexicon { by_first }, bad)
}

fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| parse_lexicon(LEXICON).0)
}

/// The lexicon's sentiment words as labelled rows for the trained model: `(word,
/// tone, weight)`, sorted by word so that training stays deterministic. The model
/// learns its words from reviews and general news; these rows teach it the office's
/// own words (拖欠, 冒领, 发放到位), which the shared data barely contains. See
/// `TrainOptions::lexicon_weight`.
pub fn lexicon_examples() -> Vec<(String, Tone, f32)> {
    let mut out: Vec<(String, Tone, f32)> = lexicon()
        .by_first
        .values()
        .flatten()
        .filter_map(|(w, e)| match *e {
            Entry::Sentiment(v) if v < 0.0 => Some((w.iter().collect(), Tone::Negative, -v)),
            Entry::Sentiment(v) if v > 0.0 => Some((w.iter().collect(), Tone::Positive, v)),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
    out
}

/// Punctuation ends a clause: a negator does not reach past it.
fn ends_clause(c: char) -> bool {
    matches!(c, '，' | '。' | '！' | '？' | '；' | '：' | '、' | ',' | '.' | '!' | '?' | ';' | ':' | '\n')
}

/// Sum of sentiment in one normalised text, and its length in characters.
fn raw_sum(text: &str, lex: &Lexicon) -> (f32, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut sum = 0.0f32;
    // (position where the modifier's reach ends, factor)
    let mut negation: Option<usize> = None;
    let mut degree: Option<(usize, f32)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if ends_clause(c) {
            negation = None;
            degree = None;
            i += 1;
            continue;
        }
        let found = lex
            .by_first
            .get(&c)
            .and_then(|list| list.iter().find(|(w, _)| chars[i..].starts_with(w)).map(|(w, e)| (w.len(), *e)));
        let Some((len, entry)) = found else {
            i += 1;
            continue;
        };
        match entry {
            Entry::Sentiment(w) => {
                let mut v = w;
                if let Some((until, f)) = degree.take() {
                    if i <= until {
                        v *= f;
                    }
                }
                if let Some(until) = negation.take() {
                    if i <= until {
                        v *= NEGATION_FACTOR;
                    }
                }
                sum += v;
            }
            Entry::Negator => negation = Some(i + len + MODIFIER_REACH - 1),
            Entry::Degree(f) => degree = Some((i + len + MODIFIER_REACH - 1, f)),
            Entry::Neutral => {}
        }
        i += len;
    }
    let len = chars.iter().filter(|c| !c.is_whitespace()).count();
    (sum, len)
}

/// The default model, embedded at build time.
static MODEL_BYTES: &[u8] = include_bytes!("../models/tone.bin");

/// The shipped tone model; `None` only if the embedded file does not parse, which a
/// test rules out (then the lexicon answers).
pub fn default_model() -> Option<&'static ToneModel> {
    static MODEL: OnceLock<Option<ToneModel>> = OnceLock::new();
    MODEL.get_or_init(|| ToneModel::from_bytes(MODEL_BYTES).ok()).as_ref()
}

/// Rounds a score to three decimals, so that stored and printed values agree, without
/// rounding a lean to zero: the sign is the verdict.
fn round_score(s: f32) -> f32 {
    if !s.is_finite() {
        return 0.0;
    }
    let r = ((s * 1000.0).round() / 1000.0).clamp(-1.0, 1.0);
    if r == 0.0 && s != 0.0 {
        0.001f32.copysign(s)
    } else {
        r
    }
}

/// The tone of an item and its tone score in [-1, 1] (`P(positive) − P(negative)`
/// by the default model; above 0 leans positive).
pub fn judge(title: &str, content: &str) -> (Tone, f32) {
    match default_model() {
        Some(m) => {
            let (t, s) = m.predict(title, content);
            (t, round_score(s))
        }
        None => {
            let s = lexicon_score(title, content);
            (tone_of(s), s)
        }
    }
}

/// [`judge`] by another model (an office's own, `[judge] tone_model`).
pub fn judge_with(model: &ToneModel, title: &str, content: &str) -> (Tone, f32) {
    let (t, s) = model.predict(title, content);
    (t, round_score(s))
}

/// The tone score alone: see [`judge`].
pub fn score(title: &str, content: &str) -> f32 {
    judge(title, content).1
}

/// Lexicon tone score in [-1, 1]; above 0 leans positive. Rounded to two decimals so
/// that stored and printed values agree. Read its tone with [`tone_of`].
pub fn lexicon_score(title: &str, content: &str) -> f32 {
    let lex = lexicon();
    let (t, tlen) = raw_sum(&normalize(title), lex);
    let (b, blen) = raw_sum(&normalize(content), lex);
    let raw = TITLE_WEIGHT * t + b;
    let len = (tlen + blen) as f32;
    let s = (GAIN * raw / (1.0 + len / LENGTH_UNIT).sqrt()).tanh();
    if s.is_finite() {
        ((s * 100.0).round() / 100.0).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// The tone of a [`lexicon_score`].
pub fn tone_of(score: f32) -> Tone {
    if score >= POSITIVE_AT {
        Tone::Positive
    } else if score <= NEGATIVE_AT {
        Tone::Negative
    } else {
        Tone::Neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lexicon_line_parses() {
        let (lex, bad) = parse_lexicon(LEXICON);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(lex.by_first.len() > 100);
    }

    fn tone(s: &str) -> (Tone, f32) {
        let v = lexicon_score("", s);
        (tone_of(v), v)
    }

    #[test]
    fn clear_complaints_are_negative() {
        for s in [
            "上犹县某乡镇拖欠教师工资半年，群众强烈不满",
            "投诉：惠农补贴一卡通被村干部冒领",
            "财政所工作人员态度恶劣，办事推诿扯皮",
            "网友举报某局挪用专项资金",
            "养老金至今未发放，老人苦不堪言",
            "某县财政局长严重违纪被查",
            "乱收费问题长期得不到解决，群众怨声载道",
            "工地发生坍塌事故，造成2人死亡3人受伤",
            "农民工讨薪无门，多次投诉石沉大海",
            "补贴款被截留，村民质疑有猫腻",
            "某地爆出骗取低保资金案件，涉嫌诈骗",
            "该局干部吃拿卡要，群众办事难",
        ] {
            let (t, v) = tone(s);
            assert_eq!(t, Tone::Negative, "{s}: {v}");
        }
    }

    #[test]
    fn achievement_news_is_positive() {
        for s in [
            "上犹县惠民补贴资金全部发放到位，群众满意",
            "县财政局荣获全省财政工作先进集体表彰",
            "便民服务再提升，群众纷纷点赞",
            "我县财政改革成效显著，获评省级示范县",
            "群众送来锦旗，感谢财政所暖心服务",
            "助力乡村振兴，农民增收成绩喜人",
            "一卡通改革圆满完成，惠民资金精准直达",
            "财政所工作人员无微不至，办事高效，好评如潮",
            "县财政局不断优化营商环境，服务质量稳步提升",
            "全县没有发生拖欠工资问题",
        ] {
            let (t, v) = tone(s);
            assert_eq!(t, Tone::Positive, "{s}: {v}");
        }
    }

    #[test]
    fn routine_notices_are_neutral() {
        for s in [
            "关于召开2024年全县财政工作会议的通知",
            "上犹县财政局2023年部门预算公开",
            "县财政局举办业务培训班",
            "关于做好2024年度预算编制工作的通知",
            "县财政局党组召开专题会议学习有关文件精神",
            "上犹县2024年政府采购意向公开",
            "关于征求《上犹县财政专项资金管理办法》意见的公告",
            "今天天气晴，最高气温25度",
        ] {
            let (t, v) = tone(s);
            assert_eq!(t, Tone::Neutral, "{s}: {v}");
        }
    }

    #[test]
    fn negators_flip_and_degree_words_strengthen() {
        let plain = lexicon_score("", "工作人员违规");
        let strong = lexicon_score("", "工作人员严重违规");
        assert!(strong < plain && plain < 0.0, "{strong} {plain}");
        assert!(lexicon_score("", "补贴未发放到位") < 0.0);
        assert!(lexicon_score("", "补贴发放到位") > 0.0);
        assert!(lexicon_score("", "没有拖欠") > 0.0);
        // 不断 is not a negator of 提升.
        assert!(lexicon_score("", "服务不断提升") > 0.0);
        // The negator does not reach past a comma.
        assert!(lexicon_score("", "没有，满意") > 0.0);
    }

    #[test]
    fn title_weighs_more_and_long_bodies_dilute() {
        let in_title = lexicon_score("群众不满", "今天开会。");
        let in_body = lexicon_score("今天开会", "群众不满。");
        assert!(in_title < in_body, "{in_title} {in_body}");
        let long = format!("{}群众不满。", "县财政局召开会议，研究部署工作。".repeat(150));
        assert_eq!(tone_of(lexicon_score("", &long)), Tone::Neutral);
    }

    #[test]
    fn score_is_bounded() {
        let s = lexicon_score("投诉".repeat(500).as_str(), &"拖欠".repeat(5000));
        assert!((-1.0..=1.0).contains(&s));
        assert_eq!(lexicon_score("", ""), 0.0);
        assert_eq!(tone_of(0.15), Tone::Positive);
        assert_eq!(tone_of(-0.15), Tone::Negative);
        assert_eq!(tone_of(0.14), Tone::Neutral);
    }
}

/// The shipped model on the desk's kind of text. It was trained on product reviews and
/// general internet news, not on county-office items, so the bar here is "clear cases
/// lean the right way"; the measured figures are in `examples/tone_eval.rs`.
#[cfg(test)]
mod model_tests {
    use super::*;

    #[test]
    fn the_embedded_model_loads() {
        assert!(default_model().is_some(), "models/tone.bin does not parse");
    }

    #[test]
    fn clear_complaints_are_negative() {
        for s in [
            "投诉：惠农补贴一卡通被村干部冒领",
            "财政所工作人员态度恶劣，办事推诿扯皮",
            "网友举报某局挪用专项资金",
            "养老金至今未发放，老人苦不堪言",
            "某县财政局长严重违纪被查",
            "乱收费问题长期得不到解决，群众怨声载道",
            "农民工讨薪无门，多次投诉石沉大海",
            "补贴款被截留，村民质疑有猫腻",
            "某地爆出骗取低保资金案件，涉嫌诈骗",
        ] {
            let (t, v) = judge("", s);
            assert_eq!(t, Tone::Negative, "{s}: {v}");
        }
        // Leans negative though not always past neutral.
        for s in ["上犹县某乡镇拖欠教师工资半年，群众强烈不满", "该局干部吃拿卡要，群众办事难"]
        {
            let (_, v) = judge("", s);
            assert!(v < -0.2, "{s}: {v}");
        }
    }

    #[test]
    fn achievement_news_leans_positive() {
        for s in ["县财政局荣获全省财政工作先进集体表彰", "助力乡村振兴，农民增收成绩喜人"]
        {
            let (t, v) = judge("", s);
            assert_eq!(t, Tone::Positive, "{s}: {v}");
        }
        for s in [
            "上犹县惠民补贴资金全部发放到位，群众满意",
            "便民服务再提升，群众纷纷点赞",
            "我县财政改革成效显著，获评省级示范县",
            "群众送来锦旗，感谢财政所暖心服务",
            "一卡通改革圆满完成，惠民资金精准直达",
        ] {
            let (t, v) = judge("", s);
            assert_ne!(t, Tone::Negative, "{s}: {v}");
            assert!(v > 0.1, "{s}: {v}");
        }
    }

    #[test]
    fn routine_notices_are_neutral() {
        for s in ["关于召开2024年全县财政工作会议的通知", "上犹县财政局2023年部门预算公开", "县财政局举办业务培训班"]
        {
            let (t, v) = judge("", s);
            assert_eq!(t, Tone::Neutral, "{s}: {v}");
        }
    }

    /// The training news is stripped of punctuation and cut to ~30 characters; a real
    /// page is long and punctuated. The features drop punctuation and cap the content,
    /// so a long punctuated page must still read the way its words say.
    #[test]
    fn long_punctuated_pages_are_read_sensibly() {
        let complaint = "近日，多位村民向记者反映：村里的惠农补贴已经拖欠了半年，至今未发放到位！\
            村民多次到乡财政所询问，工作人员态度恶劣、互相推诿，群众对此强烈不满。\
            记者调查发现，部分补贴款疑被村干部截留挪用，涉嫌违纪违法。";
        let body = format!("{complaint}\n{}", "据了解，该村共有农户三百余户，主要种植水稻和油茶。".repeat(20));
        let (t, v) = judge("村民反映惠农补贴被拖欠半年，投诉无门", &body);
        assert_eq!(t, Tone::Negative, "{v}");
        let notice = "为做好2024年度全县财政预算编制工作，根据《预算法》及有关规定，现将有关事项通知如下：\
            一、指导思想。二、编制原则。三、时间安排：各单位于5月31日前报送。"
            .repeat(10);
        let (t, v) = judge("关于做好2024年度预算编制工作的通知", &notice);
        assert_ne!(t, Tone::Negative, "{v}");
        // The same words with and without punctuation score the same.
        let stripped: String = complaint.chars().filter(|c| c.is_alphabetic()).collect();
        assert_eq!(judge("", complaint), judge("", &stripped));
    }

    #[test]
    fn scores_are_bounded_and_keep_their_sign() {
        let (_, v) = judge(&"投诉".repeat(500), &"拖欠".repeat(5000));
        assert!((-1.0..=1.0).contains(&v));
        assert_eq!(judge("", ""), judge("", "，。！"));
        assert_eq!(round_score(0.0004), 0.001);
        assert_eq!(round_score(-0.0004), -0.001);
        assert_eq!(round_score(0.0), 0.0);
        assert_eq!(round_score(f32::NAN), 0.0);
        assert_eq!(round_score(0.12345), 0.123);
    }
}
