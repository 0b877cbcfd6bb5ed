//! Page → article: title, published time, main text, list-or-article.
//!
//! The main text is found by text weight, with no per-site template. Every text
//! node weighs in: prose (Chinese punctuation) by its length and punctuation, short
//! unpunctuated fragments slightly negative, link text strongly negative unless it
//! sits in a paragraph of prose. The seed is readability's paragraph cluster (a
//! paragraph's weight goes to its holder and half to the holder's parent); from the
//! seed the container climbs to a parent only when the parent's extra prose sits in
//! siblings shaped like the child (the other posts of a thread), so a feed of
//! summaries or another story next to the article stays out. On a page that is
//! mostly comments (a thread, a page of reviews) the element of greatest total
//! weight is taken instead. Class words (nav, share, comment…) are weak evidence,
//! weighed against how much prose the element holds (see `dom::refine`).
//! On a thread (forum, Q&A) the headline is the opening post's subject and is put
//! first in the content; an article's headline stays out of its text. A page with
//! next to no punctuation anywhere (chat-style replies) weighs plain lines instead.

use std::sync::LazyLock;

use crate::dom::{flatten, is_block, subtree_text, Flat, Kind};
use crate::html::{Document, Element};
use crate::{ExtractOptions, PageKind};
use aho_corasick::AhoCorasick;
use chrono::{DateTime, FixedOffset};
use regex::Regex;

pub struct Parts {
    pub title: String,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub content: String,
    pub kind: PageKind,
}

#[derive(Default, Clone, Copy)]
struct Stats {
    chars: u32,
    link_chars: u32,
    punct: u32,
    /// Characters of text outside links with Chinese punctuation.
    prose: u32,
    has_block: bool,
}

fn is_cjk_punct(c: char) -> bool {
    matches!(c, '，' | '。' | '！' | '？' | '；')
}

fn char_stats(s: &str) -> (u32, u32) {
    let mut chars = 0;
    let mut punct = 0;
    for c in s.chars() {
        if !c.is_whitespace() {
            chars += 1;
            if is_cjk_punct(c) {
                punct += 1;
            }
        }
    }
    (chars, punct)
}

pub fn analyse(doc: &Document, opts: &ExtractOptions) -> Parts {
    let mut flat = flatten(doc, None);
    let mut title_info = find_title(&flat);
    let (mut stats, mut containers) = select(&flat, title_info.heading);
    // Replies on a thread page are the content, a news page's comments are not:
    // comment sections count when they outweigh the main text found without them.
    let main_prose: u32 = containers.iter().map(|&c| stats[c].prose).sum();
    if !flat.comments_are_content && flat.comment_prose > 0 && flat.comment_prose >= main_prose.saturating_mul(2) {
        flat = flatten(doc, Some(true));
        title_info = find_title(&flat);
        (stats, containers) = select(&flat, title_info.heading);
    }

    let mut lines: Vec<String> = Vec::new();
    for &c in &containers {
        collect_lines(&flat, c, &title_info.title, &mut lines);
    }
    // A thread's headline is part of the thread (the opening post's subject line); an
    // article's headline is not part of its text.
    let thread = is_thread(&flat, &containers);
    if thread && !title_info.title.is_empty() && !lines.first().is_some_and(|l| l.contains(&title_info.title)) {
        lines.insert(0, title_info.title.clone());
    }
    let content = lines.join("\n");

    // List or article: many substantial links and no dominant text block.
    let body = flat.nodes.iter().position(|x| x.tag == "body").unwrap_or(0);
    let total = stats.get(body).copied().unwrap_or_default();
    let link_lines = count_link_items(&flat);
    let (main_own, main_punct) = containers
        .iter()
        .fold((0u32, 0u32), |(o, p), &c| (o + stats[c].chars.saturating_sub(stats[c].link_chars), p + stats[c].punct));
    let link_density = if total.chars == 0 { 0.0 } else { f64::from(total.link_chars) / f64::from(total.chars) };
    // When in doubt, an article: a list has many entries and next to no prose.
    let kind = if link_lines >= 8 && main_punct < 3 && (main_own < 200 || link_density > 0.5) {
        PageKind::List
    } else {
        PageKind::Article
    };

    // A list page has entries with dates, not a publication time of its own.
    let published_at = match kind {
        PageKind::List => None,
        PageKind::Article => find_published(&flat, opts, title_info.heading, containers.first().copied()),
    };
    Parts { title: title_info.title, published_at, content, kind }
}

/// Subtree statistics and the main-text container(s); `headline` is the flat index
/// of the article's headline, when found.
fn select(flat: &Flat, headline: Option<usize>) -> (Vec<Stats>, Vec<usize>) {
    let n = flat.nodes.len();

    // Subtree statistics, folded bottom-up; furniture does not count towards the
    // containers around it.
    let mut stats = vec![Stats::default(); n];
    for (i, node) in flat.nodes.iter().enumerate() {
        if node.kind == Kind::Text && !node.boiler {
            let (c, p) = char_stats(node.text);
            stats[i].chars = c;
            stats[i].punct = p;
            if !node.in_link && p > 0 {
                stats[i].prose = c;
            }
            if node.in_link {
                stats[i].link_chars = c;
            }
        }
    }
    for i in (0..n).rev() {
        let node = &flat.nodes[i];
        let Some(p) = node.parent else { continue };
        if node.boiler && !flat.nodes[p].boiler {
            continue;
        }
        let s = stats[i];
        let ps = &mut stats[p];
        ps.chars += s.chars;
        ps.link_chars += s.link_chars;
        ps.punct += s.punct;
        ps.prose += s.prose;
        ps.has_block |= s.has_block || (node.kind == Kind::Element && is_block(node.tag) && node.tag != "br");
    }

    // Every text node weighs in: prose (with Chinese punctuation) by its length and
    // punctuation, short unpunctuated fragments (buttons, labels, info bits) slightly
    // negative, link text strongly negative unless it sits inside a paragraph of
    // prose. The main text is the element whose subtree weighs most: it grows to
    // take in every post of a thread and every paragraph of an article, and stops
    // where menus, link lists and furniture would cost more than they bring.
    let mut block_of = vec![0usize; n];
    for i in 0..n {
        let node = &flat.nodes[i];
        block_of[i] = match node.parent {
            Some(p) if !(node.kind == Kind::Element && is_block(node.tag) && node.tag != "br") => block_of[p],
            _ => i,
        };
    }
    // Prose outside furniture on the whole page: below this, the page has next to no
    // punctuation and plain lines weigh in (see below).
    let page_prose: u32 = (0..n).filter(|&i| flat.nodes[i].parent.is_none()).map(|i| stats[i].prose).sum();
    let sparse = page_prose < 40;
    let mut weight = vec![0f64; n];
    for i in 0..n {
        let node = &flat.nodes[i];
        if node.kind != Kind::Text || node.boiler {
            continue;
        }
        let s = stats[i];
        if s.chars == 0 {
            continue;
        }
        let c = f64::from(s.chars);
        weight[i] = if node.in_link {
            let b = stats[block_of[i]];
            if b.punct >= 1 && b.link_chars * 2 < b.chars {
                0.0
            } else if is_url_text(node.text) {
                // A link written out as its address is a post's reference, not a
                // menu entry: menus name their links.
                -1.0
            } else {
                -1.5 * c
            }
        } else if s.punct == 0 && flat.nodes[block_of[i]].tag != "pre" {
            // Dates, names, labels, short headings: not prose, not much against. On a
            // page with next to no punctuation at all (short replies, chat-style
            // posts) plain lines are all the text there is, and count.
            if c >= 20.0 {
                c - 15.0
            } else if sparse && c >= 4.0 {
                c - 3.0
            } else {
                -1.0
            }
        } else {
            c + 4.0 * f64::from(s.punct)
        };
    }
    // Seed: readability's paragraph cluster. A paragraph's weight goes to the
    // element holding it and half to that element's parent; text written straight
    // into a container (with <br>) makes the container itself the paragraph.
    let mut credit = vec![0f64; n];
    for (i, &w) in weight.iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        let b = block_of[i];
        let holder = if is_paragraph_tag(flat.nodes[b].tag) { flat.nodes[b].parent.unwrap_or(b) } else { b };
        credit[holder] += w;
        if let Some(g) = flat.nodes[holder].parent {
            credit[g] += w / 2.0;
        }
    }
    // Subtree sums: signed weight and positive weight.
    let mut positive: Vec<f64> = weight.iter().map(|w| w.max(0.0)).collect();
    for i in (0..n).rev() {
        let node = &flat.nodes[i];
        if let Some(p) = node.parent {
            if !node.boiler || flat.nodes[p].boiler {
                weight[p] += weight[i];
                positive[p] += positive[i];
            }
        }
    }
    let element = |i: usize| {
        let node = &flat.nodes[i];
        !node.boiler && node.kind == Kind::Element && !matches!(node.tag, "a" | "html" | "head")
    };
    // Highest value of `f` over candidate elements; `later` prefers the later (deeper)
    // one on ties.
    let argmax = |f: &dyn Fn(usize) -> f64, later: bool| {
        let mut best: Option<(usize, f64)> = None;
        for i in (0..n).filter(|&i| element(i)) {
            let v = f(i);
            if v > 0.0 && best.is_none_or(|(_, b)| v > b || (later && v >= b)) {
                best = Some((i, v));
            }
        }
        best.map(|(i, _)| i)
    };
    let seed = argmax(&|i| credit[i], false);
    // On a thread page (comments are content) the opening post and the replies
    // differ in shape, so the climb would stop at the opening post: take the
    // element that weighs most instead.
    // A page without punctuation has no paragraph cluster to seed from either.
    let container = if flat.comments_are_content || sparse {
        argmax(&|i| weight[i], true)
    } else {
        seed.map(|s| climb(flat, s, &weight, &positive)).map(|c| match headline {
            Some(h) => follow_headline(flat, c, h, &stats, &block_of, &weight, &positive),
            None => c,
        })
    };
    // Nothing reads as prose (a short post, a code snippet): the element with the
    // most text outside links, deepest on ties, rather than nothing.
    let container =
        container.or_else(|| argmax(&|i| f64::from(stats[i].chars) - 2.0 * f64::from(stats[i].link_chars), true));
    let containers: Vec<usize> = container.into_iter().collect();
    (stats, containers)
}

/// The main text follows its headline. When the element chosen by weight, `chosen`,
/// comes after the first prose below the headline `h` without holding it, and the
/// headline of another story (a linked heading, as in a feed of summaries, or a
/// second `<h1>`, as in a "next article" appended below) stands between that prose and
/// the chosen element's own text, the chosen element is another story: the text
/// under the headline is taken instead. A short article otherwise loses to the
/// longer stories around it.
fn follow_headline(
    flat: &Flat,
    chosen: usize,
    h: usize,
    stats: &[Stats],
    block_of: &[usize],
    weight: &[f64],
    positive: &[f64],
) -> usize {
    let nodes = &flat.nodes;
    let is_prose = |k: usize, min: u32| nodes[k].kind == Kind::Text && !nodes[k].boiler && stats[k].prose >= min;
    let Some(first) = (nodes[h].end..nodes.len()).find(|&k| is_prose(k, 10)) else { return chosen };
    // Only a chosen element that starts after that prose is in question (one that
    // holds it, or comes before it, is left alone).
    if chosen <= first {
        return chosen;
    }
    let Some(own) = (chosen..nodes[chosen].end).find(|&k| is_prose(k, 1)) else { return chosen };
    let story_headline = |k: usize| {
        let node = &nodes[k];
        node.kind == Kind::Element
            && !node.noise
            && k != h
            && matches!(node.tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            && (node.tag == "h1" || node.in_link || (k..node.end).any(|j| nodes[j].in_link))
    };
    if !(first..own).any(story_headline) {
        return chosen;
    }
    let b = block_of[first];
    let holder = if is_paragraph_tag(nodes[b].tag) { nodes[b].parent.unwrap_or(b) } else { b };
    let under = climb(flat, holder, weight, positive);
    // Only a separate element: one that holds the chosen one is no correction.
    if nodes[under].end <= chosen && weight[under] > 0.0 {
        under
    } else {
        chosen
    }
}

/// From the seed up: a parent replaces its child when it adds little prose besides
/// (the headline, an info line) without costing more than it brings, or when the
/// prose it adds sits in siblings shaped like the child (same tag and first class
/// word): the other posts of a thread, the other sections of a long article. A
/// parent that adds different prose (a feed of summaries, another story) stops
/// the climb.
fn climb(flat: &Flat, seed: usize, weight: &[f64], positive: &[f64]) -> usize {
    let shape = |i: usize| {
        let node = &flat.nodes[i];
        let class = node.el.and_then(|e| e.attr("class")).and_then(|c| c.split_whitespace().next()).unwrap_or("");
        (node.tag, class)
    };
    // Wrappers (td → tr → table → post) are climbed through, but the result moves
    // up only at a step that brings alike siblings: climbing for anything else would
    // take in the info line, the metadata table or the next column.
    let mut result = seed;
    let mut cur = seed;
    let mut steps = 0;
    while let Some(p) = flat.nodes[cur].parent {
        let pn = &flat.nodes[p];
        if pn.boiler || matches!(pn.tag, "body" | "html") || steps >= 12 {
            break;
        }
        steps += 1;
        let other = positive[p] - positive[cur];
        let mut similar = 0.0;
        let me = shape(cur);
        let mut k = p + 1;
        while k < pn.end {
            if k != cur && flat.nodes[k].kind == Kind::Element && shape(k) == me {
                similar += positive[k];
            }
            k = flat.nodes[k].end;
        }
        // Rows and cells of a layout table are alike by shape only; tables that share
        // a class name are posts (a Discuz thread is a run of `table.plhin`).
        let layout = matches!(me.0, "tr" | "td" | "th" | "tbody" | "table") && me.1.is_empty();
        if !layout && similar > 0.0 && similar >= 0.6 * other && weight[p] > weight[result] {
            result = p;
        }
        cur = p;
    }
    // A thread's opening post (a question above its answers) differs in shape from
    // the replies: take the parent when what it adds comes before the replies.
    if result != seed {
        if let Some(p) = flat.nodes[result].parent.filter(|&p| !flat.nodes[p].boiler) {
            let (mut before, mut after) = (0.0, 0.0);
            let mut k = p + 1;
            while k < flat.nodes[p].end {
                if k < result {
                    before += positive[k];
                } else if k > result {
                    after += positive[k];
                }
                k = flat.nodes[k].end;
            }
            if before > 0.0 && after <= 0.2 * before && weight[p] > weight[result] {
                result = p;
            }
        }
    }
    result
}

/// Class/id words of forum threads and Q&A pages (matched inside longer names:
/// `postmessage`, `AnswerItem`, `thread-list`).
const THREAD_WORDS: &[&str] =
    &["thread", "reply", "replies", "answer", "question", "forum", "bbs", "floor", "louzhu", "tiezi", "topic"];

/// Text of thread furniture: the opening poster, floor numbers, reply counters.
const THREAD_TEXT: &[&str] = &["楼主", "沙发", "板凳", "只看该作者", "回复", "发表于", "楼层", "#1", "1楼", "2楼"];

/// Whether the page is a forum thread or a Q&A page rather than an article: comment
/// sections were taken as content, or the container (or an element around or inside
/// it) is named as posts, or the page shows thread furniture ("楼主", "回复", "1楼").
fn is_thread(flat: &Flat, containers: &[usize]) -> bool {
    if flat.comments_are_content {
        return true;
    }
    let Some(&c) = containers.first() else { return false };
    let named = |i: usize| {
        flat.nodes[i].el.is_some_and(|e| {
            e.attr("class").into_iter().chain(e.attr("id")).any(|name| {
                THREAD_WORD_FINDER.is_match(name)
                    || name
                        .split(|ch: char| !ch.is_ascii_alphanumeric())
                        .any(|t| t.eq_ignore_ascii_case("postlist") || t.eq_ignore_ascii_case("posts"))
            })
        })
    };
    let mut up = Some(c);
    while let Some(i) = up {
        if named(i) {
            return true;
        }
        up = flat.nodes[i].parent;
    }
    if (c..flat.nodes[c].end).any(named) {
        return true;
    }
    // One pass over the page's text for all the cues, rather than one per cue.
    let mut seen = [false; THREAD_TEXT.len()];
    let mut cues = 0;
    for n in flat.nodes.iter().filter(|n| n.kind == Kind::Text && !n.noise) {
        for m in THREAD_TEXT_FINDER.find_overlapping_iter(n.text) {
            let k = m.pattern().as_usize();
            if !seen[k] {
                seen[k] = true;
                cues += 1;
                if cues >= 2 {
                    return true;
                }
            }
        }
    }
    false
}

static THREAD_WORD_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(THREAD_WORDS)
        .unwrap_or_else(|e| panic!("THREAD_WORDS are constants and must build: {e}"))
});

static THREAD_TEXT_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::new(THREAD_TEXT).unwrap_or_else(|e| panic!("THREAD_TEXT are constants and must build: {e}"))
});

/// Text that is a web address (`https://…`, `www.…`).
fn is_url_text(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("http://") || t.starts_with("https://") || t.starts_with("www.")) && !t.contains(char::is_whitespace)
}

fn is_paragraph_tag(tag: &str) -> bool {
    matches!(tag, "p" | "pre" | "blockquote" | "li" | "dd" | "h2" | "h3" | "h4")
}

/// Anchors with substantial text (≥ 6 characters) outside furniture: list entries.
fn count_link_items(flat: &Flat) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < flat.nodes.len() {
        let node = &flat.nodes[i];
        if node.noise {
            i = node.end;
            continue;
        }
        if node.tag == "a" && node.el.and_then(|e| e.attr("href")).is_some() {
            let mut chars = 0;
            let mut k = i + 1;
            while k < node.end && chars < 6 {
                let n = &flat.nodes[k];
                if n.noise {
                    k = n.end;
                    continue;
                }
                if n.kind == Kind::Text {
                    chars += n.text.chars().filter(|c| !c.is_whitespace()).take(6).count();
                }
                k += 1;
            }
            if chars >= 6 {
                count += 1;
            }
            i = node.end;
            continue;
        }
        i += 1;
    }
    count
}

/// Lines that are page furniture even inside the article container.
static BOILER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^[\[【（(]?\s*(?:责任编辑|责编|编辑|审核|审校|校对|终审|来源|稿源|文章来源|本文来源|信息来源|",
        r"发布时间|发布日期|发稿时间|时间|日期|作者|浏览次数|阅读次数|阅读量|点击数|点击量|点击率|访问次数|",
        r"字号|字体|分享到|分享至|上一篇|下一篇|上一条|下一条|相关阅读|相关新闻|相关链接|延伸阅读|推荐阅读|",
        r"发表于|查看\s*[:：]|回复\s*[:：]|楼主|只看该作者|发帖\s*[:：]|积分\s*[:：]|注册时间|",
        r"阅读\s*[:：]?\s*\d[\d.,]*\s*万?\s*$)",
    ))
    .unwrap_or_else(|e| panic!("BOILER_LINE is a constant and must compile: {e}"))
});

/// Bits of toolbars: a line made only of these is dropped.
const TOOL_WORDS: &[&str] = &[
    "【纠错】",
    "[纠错]",
    "纠错",
    "【打印】",
    "[打印]",
    "打印本页",
    "打印此页",
    "打印",
    "【关闭】",
    "[关闭]",
    "关闭窗口",
    "关闭本页",
    "关闭",
    "【收藏】",
    "收藏本页",
    "收藏",
    "分享到",
    "分享",
    "微信",
    "微博",
    "QQ空间",
    "返回顶部",
    "【返回顶部】",
    "【大",
    "中",
    "小】",
    "字号",
    "扫一扫",
    "只看该作者",
    "点赞",
    "赞",
    "上一页",
    "下一页",
    "首页",
    "尾页",
    "【",
    "】",
    "[",
    "]",
    "|",
    "：",
    ":",
];

/// All of [`TOOL_WORDS`] in one pass; at one position the longest wins ("打印本页"
/// before "打印").
static TOOL_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(TOOL_WORDS)
        .unwrap_or_else(|e| panic!("TOOL_WORDS are constants and must build: {e}"))
});

fn is_boiler_line(line: &str, link_share: f64) -> bool {
    let len = line.chars().count();
    if len <= 80 && BOILER_LINE.is_match(line) {
        return true;
    }
    if len <= 40 && link_share > 0.8 {
        return true;
    }
    if len > 80 {
        return false;
    }
    let rest = TOOL_FINDER.replace_all(line, &[""; TOOL_WORDS.len()]);
    let rest = rest.trim();
    rest.chars().all(|c| c.is_ascii_digit() || c.is_whitespace() || c == '.') || BOILER_LINE.is_match(rest)
}

fn collect_lines(flat: &Flat, root: usize, title: &str, out: &mut Vec<String>) {
    let mut line = String::new();
    let mut link_chars = 0usize;
    let flush = |line: &mut String, link_chars: &mut usize, out: &mut Vec<String>| {
        let text = yuqing_text::normalize::normalize(line);
        let total = text.chars().filter(|c| !c.is_whitespace()).count();
        let share = if total == 0 { 0.0 } else { *link_chars as f64 / total as f64 };
        if !text.is_empty() && !is_boiler_line(&text, share) && text != title {
            out.push(text);
        }
        line.clear();
        *link_chars = 0;
    };
    // End indices of the open block elements: reaching one ends a line.
    let mut open_blocks: Vec<usize> = Vec::new();
    let end = flat.nodes[root].end;
    let mut i = root;
    while i < end {
        while open_blocks.last().is_some_and(|&e| i >= e) {
            open_blocks.pop();
            flush(&mut line, &mut link_chars, out);
        }
        let node = &flat.nodes[i];
        if node.boiler && !flat.nodes[root].boiler {
            i = node.end;
            continue;
        }
        match node.kind {
            Kind::Text => {
                line.push_str(node.text);
                if node.in_link {
                    link_chars += node.text.chars().filter(|c| !c.is_whitespace()).count();
                }
            }
            Kind::Element => {
                if matches!(node.tag, "h1") {
                    // The headline is the title, not the content.
                    i = node.end;
                    continue;
                }
                if is_block(node.tag) {
                    flush(&mut line, &mut link_chars, out);
                    open_blocks.push(node.end);
                }
            }
        }
        i += 1;
    }
    flush(&mut line, &mut link_chars, out);
}

struct TitleInfo {
    title: String,
    /// Flat index of the headline element, when the title came from (or matches) one.
    heading: Option<usize>,
}

/// Title separators, longest first so "——" is not split as two "—".
const SEPARATORS: &[&str] = &[" - ", " | ", "——", "--", "_", "|", "－", " – ", " — ", "｜", " :: "];

fn squash(s: &str) -> String {
    yuqing_text::normalize::normalize(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// `<title>` split at separators: (article part, site-name parts).
fn split_title(raw: &str) -> (String, Vec<String>) {
    let mut parts = vec![yuqing_text::normalize::normalize(raw).replace('\n', " ")];
    for sep in SEPARATORS {
        parts = parts.iter().flat_map(|p| p.split(sep).map(|s| s.trim().to_string()).collect::<Vec<_>>()).collect();
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        return (String::new(), Vec::new());
    }
    // Forums append the board in brackets: "标题【某某县吧】". A leading 【独家】 stays.
    let mut boards = Vec::new();
    for p in &mut parts {
        if let Some(open) = p.rfind('【').filter(|&o| o > 0 && p.ends_with('】')) {
            if p[..open].chars().count() >= 4 {
                boards.push(p[open..].to_string());
                p.truncate(open);
                *p = p.trim_end().to_string();
            }
        }
    }
    parts.extend(boards);
    // Chinese sites write "文章标题_栏目_站点": the first part is the article's,
    // unless another part is much longer ("站点 - 文章标题"). Width counts a CJK
    // character twice so that "Powered by Discuz!" does not outweigh a Chinese title.
    let width = |s: &str| s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
    let (longest, _) =
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| (i, width(p)))
            .fold((0, 0), |best, (i, w)| if w > best.1 { (i, w) } else { best });
    let idx = if width(&parts[0]) * 2 >= width(&parts[longest]) { 0 } else { longest };
    let main = parts.remove(idx);
    (main, parts)
}

fn meta_content<'a>(flat: &'a Flat, names: &[&str]) -> Option<&'a str> {
    for name in names {
        for m in &flat.metas {
            let key = m.attr("property").or_else(|| m.attr("name")).or_else(|| m.attr("itemprop"));
            if key.is_some_and(|k| k.eq_ignore_ascii_case(name)) {
                if let Some(c) = m.attr("content").map(str::trim).filter(|c| !c.is_empty()) {
                    return Some(c);
                }
            }
        }
    }
    None
}

fn similar(heading: &str, title_full: &str, title_main: &str) -> bool {
    let h_len = heading.chars().count();
    if h_len < 4 {
        return false;
    }
    if title_full.contains(heading) || (title_main.chars().count() >= 4 && heading.contains(title_main)) {
        return true;
    }
    let common = heading.chars().zip(title_main.chars()).take_while(|(a, b)| a == b).count();
    common >= 8 || (common * 10 >= h_len.min(title_main.chars().count()) * 6 && common >= 4)
}

fn find_title(flat: &Flat) -> TitleInfo {
    let raw_title = flat.title.trim();
    let (main, site_parts) = split_title(raw_title);
    let full_sq = squash(raw_title);
    let main_sq = squash(&main);
    let mut site_names: Vec<String> = site_parts.iter().map(|s| squash(s)).collect();
    if let Some(site) = meta_content(flat, &["og:site_name", "SiteName"]) {
        site_names.push(squash(site));
    }
    let is_site = |s: &str| site_names.iter().any(|n| n == s);

    let mut headings: Vec<(usize, String)> = Vec::new();
    for level in ["h1", "h2"] {
        for (i, node) in flat.nodes.iter().enumerate() {
            if node.tag == level && !node.noise {
                let text = yuqing_text::normalize::normalize(&subtree_text(flat, i, true)).replace('\n', " ");
                let len = text.chars().count();
                if (4..=200).contains(&len) {
                    headings.push((i, text));
                }
            }
        }
    }
    for (i, text) in &headings {
        let sq = squash(text);
        if !is_site(&sq) && !full_sq.is_empty() && similar(&sq, &full_sq, &main_sq) {
            return TitleInfo { title: text.clone(), heading: Some(*i) };
        }
    }
    // Government templates write the headline in a <td><strong> or a <div class="title">:
    // the first element outside furniture whose whole text is the title stands in for
    // the heading, so the info line after it can be found.
    let heading_like = |t: &str| {
        let want = squash(t);
        if want.chars().count() < 4 {
            return None;
        }
        let want_len = want.chars().count();
        headings.iter().find(|(_, h)| squash(h) == want).map(|(i, _)| *i).or_else(|| {
            flat.nodes.iter().enumerate().find_map(|(i, node)| {
                // Squashing keeps one character per visible character: count first.
                (node.kind == Kind::Text
                    && !node.noise
                    && visible_chars(node.text) == want_len
                    && squash(node.text) == want)
                    .then_some(i)
                    .and_then(|t| node.parent.or(Some(t)))
            })
        })
    };
    if let Some(meta) = meta_content(flat, &["og:title", "ArticleTitle", "title", "twitter:title"]) {
        let (m, _) = split_title(meta);
        if m.chars().count() >= 4 && !is_site(&squash(&m)) {
            return TitleInfo { heading: heading_like(&m), title: m };
        }
    }
    // A title written "标题-某某县人民政府" (a separator without blanks, which the split
    // leaves alone since headlines use "-" too): a text of the page that the title
    // starts with, followed by a separator, is the headline.
    if let Some(i) = prefix_heading(flat, raw_title) {
        let text = yuqing_text::normalize::normalize(flat.nodes[i].text).replace('\n', " ");
        return TitleInfo { heading: flat.nodes[i].parent.or(Some(i)), title: text };
    }
    if !main.is_empty() && !is_site(&main_sq) {
        return TitleInfo { heading: heading_like(&main), title: main };
    }
    match headings.into_iter().find(|(i, _)| flat.nodes[*i].tag == "h1") {
        Some((i, t)) => TitleInfo { title: t, heading: Some(i) },
        None => TitleInfo { title: main, heading: None },
    }
}

/// The longest text node outside furniture (4 characters or more) that `raw_title`
/// starts with, when what follows it in the title begins with a separator.
fn prefix_heading(flat: &Flat, raw_title: &str) -> Option<usize> {
    let title = yuqing_text::normalize::normalize(raw_title);
    let mut best: Option<(usize, usize)> = None;
    for (i, node) in flat.nodes.iter().enumerate() {
        if node.kind != Kind::Text || node.noise {
            continue;
        }
        // Most text nodes cannot start the title: compare first characters before
        // normalising (this loop sees every text node of the page).
        let first = node.text.chars().find(|c| !c.is_whitespace() && !is_zero_width(*c)).map(fold);
        if first.is_none() || first != title.chars().next() {
            continue;
        }
        let text = yuqing_text::normalize::normalize(node.text);
        let len = text.chars().count();
        if len < 4 || best.is_some_and(|(_, b)| b >= len) {
            continue;
        }
        let Some(rest) = title.strip_prefix(text.as_str()) else { continue };
        if rest.trim_start().starts_with(['-', '_', '|', '－', '—', '–', '｜', '·']) {
            best = Some((i, len));
        }
    }
    best.map(|(i, _)| i)
}

/// Class/id words of the elements that hold the publication info line.
const INFO_WORDS: &[&str] = &[
    "time",
    "date",
    "info",
    "source",
    "pubtime",
    "publish",
    "pubdate",
    "meta",
    "attr",
    "author",
    "fbsj",
    "sj",
    "ly",
    "xx",
    "property",
    "article-info",
    "titleinfo",
    "subtitle",
    "laiyuan",
];

fn is_info_element(el: Option<Element>) -> bool {
    let Some(el) = el else { return false };
    el.attr("class").into_iter().chain(el.attr("id")).any(|name| {
        name.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .any(|t| INFO_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w)))
            || INFO_FINDER.is_match(name)
            || name.contains("发布时间")
    })
}

static INFO_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["time", "date", "info", "source", "publish"])
        .unwrap_or_else(|e| panic!("the info words are constants and must build: {e}"))
});

/// Characters `normalize` drops outright.
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// A character as `normalize` writes it (full-width ASCII to half-width), for
/// comparisons that must not allocate; blanks are not folded.
fn fold(c: char) -> char {
    match c {
        '，' | '！' | '？' | '；' | '：' | '（' | '）' => c,
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Characters of `s` that survive [`squash`] (one each).
fn visible_chars(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace() && !is_zero_width(*c) && !matches!(c, '\u{3000}' | '\u{00A0}')).count()
}

static DATE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"发布时间|发布日期|发表时间|发表于|发文日期|成文日期|更新时间|时间[:：]|日期[:：]|(?i:posted\s*(?:@|on))",
    )
    .unwrap_or_else(|e| panic!("DATE_LABEL is a constant and must compile: {e}"))
});

fn first_date(text: &str, opts: &ExtractOptions) -> Option<DateTime<FixedOffset>> {
    let found = yuqing_text::dates::find_datetimes(text, opts.tz, opts.now);
    if let Some((_, d)) = found.first() {
        return Some(*d);
    }
    // Short labelled strings may use the bare relative words ("发布时间：昨天").
    if text.chars().count() <= 40 {
        let stripped = DATE_LABEL.replace_all(text, " ");
        return yuqing_text::dates::parse_datetime(&stripped, opts.tz, opts.now);
    }
    None
}

fn find_published(
    flat: &Flat,
    opts: &ExtractOptions,
    heading: Option<usize>,
    container: Option<usize>,
) -> Option<DateTime<FixedOffset>> {
    // 1. Meta tags written for machines.
    const META: &[&str] = &[
        "article:published_time",
        "og:release_date",
        "og:published_time",
        "pubdate",
        "publishdate",
        "publish_date",
        "publishtime",
        "published_time",
        "datePublished",
        "firstpublishedtime",
        "dc.date.issued",
        "dc.date",
        "dcterms.created",
        "sailthru.date",
        "article:created_time",
        "weibo:article:create_at",
        "date",
    ];
    for name in META {
        if let Some(c) = meta_content(flat, &[name]) {
            if let Some(d) = yuqing_text::dates::parse_datetime(c, opts.tz, opts.now) {
                return Some(d);
            }
        }
    }
    // 2. <time datetime> and itemprop="datePublished" outside furniture.
    for node in flat.nodes.iter().filter(|n| !n.noise) {
        let Some(el) = node.el else { continue };
        let machine = if node.tag == "time" {
            el.attr("datetime")
        } else if el.attr("itemprop").is_some_and(|p| p.eq_ignore_ascii_case("datePublished")) {
            el.attr("content").or_else(|| el.attr("datetime"))
        } else {
            None
        };
        if let Some(d) = machine.and_then(|m| yuqing_text::dates::parse_datetime(m, opts.tz, opts.now)) {
            return Some(d);
        }
    }
    // 3. Text after the headline and before the first real paragraph: the info line.
    let start = heading.map(|h| flat.nodes[h].end).or(container).unwrap_or(0);
    let mut window = String::new();
    let mut i = start;
    while i < flat.nodes.len() && window.chars().count() < 600 {
        let node = &flat.nodes[i];
        if node.noise {
            i = node.end;
            continue;
        }
        if node.kind == Kind::Text {
            let (chars, punct) = char_stats(node.text);
            if punct >= 2 && chars >= 30 && !DATE_LABEL.is_match(node.text) {
                break; // the body has started
            }
            window.push_str(node.text);
            window.push(' ');
        } else if is_block(node.tag) {
            window.push('\n');
        }
        i += 1;
    }
    if let Some(d) = window.lines().find_map(|l| first_date(l, opts)) {
        return Some(d);
    }
    // 4. Elements whose class/id say time/date/info/source, then labelled text,
    //    anywhere outside furniture, in page order.
    let mut i = 0;
    while i < flat.nodes.len() {
        let node = &flat.nodes[i];
        if node.noise {
            i = node.end;
            continue;
        }
        if is_info_element(node.el) {
            if let Some(d) = first_date(&subtree_text(flat, i, true), opts) {
                return Some(d);
            }
            i = node.end;
            continue;
        }
        i += 1;
    }
    for node in flat.nodes.iter().filter(|n| n.kind == Kind::Text && !n.noise) {
        if let Some(m) = DATE_LABEL.find(node.text) {
            if let Some(d) = first_date(&node.text[m.start()..], opts) {
                return Some(d);
            }
        }
    }
    None
}
