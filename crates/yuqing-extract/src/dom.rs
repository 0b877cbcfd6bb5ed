//! A flat, pre-order copy of the parsed page that the extraction passes walk with
//! plain loops: no recursion anywhere, so nesting depth cannot overflow the stack,
//! and a cap on the number of nodes bounds the work.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::html::{Document, Element};

/// Subtrees that are never content and never hold the title or the time. Not
/// `<form>`: ASP.NET pages wrap the whole page in one (see [`flatten`]).
fn is_drop_tag(tag: &str) -> bool {
    // A `match` rather than `DROP_TAGS.contains`: this runs for every element.
    matches!(
        tag,
        "script"
            | "style"
            | "noscript"
            | "iframe"
            | "svg"
            | "button"
            | "select"
            | "textarea"
            | "template"
            | "object"
            | "embed"
            | "canvas"
            | "video"
            | "audio"
            | "map"
            | "input"
            | "option"
    )
}

/// Page furniture: not content, and not where the time or title is looked for.
fn is_noise_tag(tag: &str) -> bool {
    matches!(tag, "nav" | "footer" | "aside" | "menu")
}

/// `<header>` often holds the headline and the info line on modern templates, so it is
/// excluded from the content but still searched for the title and time.
fn is_boiler_tag(tag: &str) -> bool {
    tag == "header"
}

/// class/id words (whole tokens after splitting on blanks, `-` and `_`) for furniture.
/// Short pinyin abbreviations from Chinese CMS templates: xgxw/xgwz 相关新闻/文章,
/// fx 分享, tj 推荐, dh 导航, bq 版权.
const NOISE_TOKENS: &[&str] = &[
    "ad",
    "ads",
    "adv",
    "advert",
    "advertisement",
    "banner",
    "fx",
    "tj",
    "xgxw",
    "xgwz",
    "xglj",
    "dh",
    "bq",
    "bdshare",
    "jiathis",
    "share",
    "sharing",
    "social",
    "toolbar",
    "tools",
    "crumb",
    "crumbs",
    "breadcrumb",
    "breadcrumbs",
    "position",
    "location",
    "weizhi",
    "dqwz",
    "copyright",
    "copy",
    "footer",
    "foot",
    "bottom",
    "nav",
    "navbar",
    "navigation",
    "menu",
    "submenu",
    "sidebar",
    "side",
    "aside",
    "related",
    "relate",
    "recommend",
    "recommended",
    "tuijian",
    "xiangguan",
    "hot",
    "hotnews",
    "rank",
    "paihang",
    "comment",
    "comments",
    "commentform",
    "login",
    "search",
    "friendlink",
    "links",
    "yqlj",
    "qrcode",
    "ewm",
    "erweima",
    "print",
    "dayin",
    "popup",
    "modal",
    "subscribe",
    "pagination",
    "pager",
    "fenye",
];

/// Words that mark furniture even inside a longer token ("bottomNav", "share_box").
/// Not "copyright": answer bodies are called `CopyrightRichText`; the token still counts.
const NOISE_SUBSTRINGS: &[&str] = &[
    "footer",
    "breadcrumb",
    "bdshare",
    "sharebar",
    "share-",
    "navbar",
    "comment",
    "related",
    "recommend",
    "sidebar",
    "advert",
    "xgxw",
    "friendlink",
];

/// Header-ish class tokens: not content, but the info line may sit there.
/// Author boxes of forum posts (name, avatar, badges) count here too.
const BOILER_TOKENS: &[&str] =
    &["header", "head", "topbar", "logo", "author", "user", "userinfo", "avatar", "badge", "profile"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Element,
    Text,
}

pub struct FNode<'a> {
    pub kind: Kind,
    /// Lower-case tag name; empty for text.
    pub tag: &'a str,
    pub text: &'a str,
    pub el: Option<Element<'a>>,
    pub parent: Option<usize>,
    /// One past the last descendant in pre-order.
    pub end: usize,
    /// Not content (furniture or header).
    pub boiler: bool,
    /// Furniture: not content, title or time either.
    pub noise: bool,
    /// Inside an `<a href>`.
    pub in_link: bool,
}

pub struct Flat<'a> {
    pub nodes: Vec<FNode<'a>>,
    /// `<meta>` elements, in page order.
    pub metas: Vec<Element<'a>>,
    /// The `<title>` text.
    pub title: String,
    /// Prose in comment sections (see [`refine`]).
    pub comment_prose: u32,
    /// Whether comment sections were taken as content.
    pub comments_are_content: bool,
}

/// What an element's own tag, class, id and style say, before its text is weighed.
#[derive(Clone, Copy, Default)]
struct Marks {
    /// nav/footer/aside/menu: furniture whatever it holds.
    hard_noise: bool,
    /// Furniture words in class/id, or hidden by style: furniture unless it holds
    /// most of the page's prose (see [`refine`]). 2 for comment words, else 1.
    soft_noise: u8,
    /// `<header>`: excluded from the content, searched for title and time.
    hard_boiler: bool,
    /// Header words in class/id: as `soft_noise`, but searched for title and time.
    soft_boiler: bool,
}

/// `comments`: whether comment sections are content; `None` decides by their share
/// of the page's prose.
pub fn flatten<'a>(doc: &'a Document<'a>, comments: Option<bool>) -> Flat<'a> {
    let n = doc.nodes.len();
    let mut nodes: Vec<FNode> = Vec::with_capacity(n);
    let mut marks: Vec<Marks> = Vec::with_capacity(n);
    let mut metas = Vec::new();
    let mut title = String::new();
    // Index in `nodes` of each document node kept; subtrees are skipped whole, so a
    // kept node's parent is always kept.
    let mut new_index = vec![usize::MAX; n];
    let mut class_cache: FastMap<&str, (u8, bool)> = FastMap::default();
    let mut i = 0;
    while i < n {
        let node = &doc.nodes[i];
        let parent = node.parent.map(|p| new_index[p]).filter(|&p| p != usize::MAX);
        let parent_link = parent.is_some_and(|p| nodes[p].in_link);
        let (kind, tag, text, el, in_link, mark) = if node.is_text() {
            (Kind::Text, "", &*node.text, None, parent_link, Marks::default())
        } else {
            let tag = &*node.tag;
            let e = doc.element(i);
            if tag == "meta" {
                metas.push(e);
                i = node.end;
                continue;
            }
            if tag == "title" {
                if title.is_empty() {
                    title = doc.nodes[i + 1..node.end].iter().filter(|c| c.is_text()).map(|c| &*c.text).collect();
                }
                i = node.end;
                continue;
            }
            // A form is a search box, a login, reply or report box: furniture. But
            // ASP.NET WebForms pages are one `<form>` around everything, a county
            // portal's article included: a form around most of the page stays, as
            // weak furniture (see below).
            let wraps_page = tag == "form" && (node.end - i) * 2 >= n;
            if is_drop_tag(tag) || (tag == "form" && !wraps_page) {
                i = node.end;
                continue;
            }
            // Pages repeat a few class names on thousands of elements.
            let mut names = |v: Option<&'a str>| {
                v.map_or((0, false), |v| *class_cache.entry(v).or_insert_with(|| classify_names(v)))
            };
            // A code block is content whatever its class says: `copy-ready`,
            // `share-code` name the button beside it.
            let (by_class, by_id) = if matches!(tag, "pre" | "code") {
                ((0, false), (0, false))
            } else {
                (names(e.attr("class")), names(e.attr("id")))
            };
            let (class_noise, class_boiler) = (by_class.0.max(by_id.0), by_class.1 || by_id.1);
            // The page's form is furniture unless it holds most of the page's prose.
            let weak = hidden(e) || wraps_page;
            let mark = Marks {
                hard_noise: is_noise_tag(tag),
                soft_noise: if weak { class_noise.max(1) } else { class_noise },
                hard_boiler: is_boiler_tag(tag),
                soft_boiler: class_boiler,
            };
            let in_link = parent_link || (tag == "a" && e.attr("href").is_some());
            (Kind::Element, tag, "", Some(e), in_link, mark)
        };
        new_index[i] = nodes.len();
        let idx = nodes.len();
        nodes.push(FNode { kind, tag, text, el, parent, end: idx + 1, boiler: false, noise: false, in_link });
        marks.push(mark);
        i += 1;
    }
    // Children come after their parent in pre-order, so a backward pass sees every
    // node's subtree end before it folds it into the parent's.
    for i in (0..nodes.len()).rev() {
        if let Some(p) = nodes[i].parent {
            if nodes[i].end > nodes[p].end {
                nodes[p].end = nodes[i].end;
            }
        }
    }
    let (comment_prose, comments_are_content) = refine(&mut nodes, &mut marks, comments);
    Flat { nodes, metas, title, comment_prose, comments_are_content }
}

/// Prose characters of a text node: its non-blank characters when it reads as a
/// sentence (has Chinese punctuation), else none.
fn prose(text: &str) -> u32 {
    let mut chars = 0;
    let mut punct = false;
    for c in text.chars() {
        if !c.is_whitespace() {
            chars += 1;
            punct |= matches!(c, '，' | '。' | '！' | '？' | '；' | '、');
        }
    }
    if punct {
        chars
    } else {
        0
    }
}

/// Turns the marks into the inherited `noise` and `boiler` flags. Class words are
/// weak evidence: templates call their page wrapper `youth_page`, `has-navbar` or
/// `comment_fea`, a page of short reviews is a list of `comment-item`s, and WeChat
/// hides its article body by style until a script runs. So an element marked only
/// by class or style stays content when it, together with its siblings of the same
/// tag and class, holds most of the prose (text outside links with Chinese
/// punctuation) of its anchor: the page, or the nearest marked ancestor that stayed
/// content. Comment words are judged for the page as a whole: see below.
fn refine(nodes: &mut [FNode], marks: &mut [Marks], comments: Option<bool>) -> (u32, bool) {
    let n = nodes.len();
    let mut mass = vec![0u32; n];
    for i in (0..n).rev() {
        if nodes[i].kind == Kind::Text && !nodes[i].in_link {
            mass[i] = prose(nodes[i].text);
        }
        if marks[i].hard_noise {
            mass[i] = 0;
        }
        if let Some(p) = nodes[i].parent {
            mass[p] = mass[p].saturating_add(mass[i]);
        }
    }
    let total: u32 = (0..n).filter(|&i| nodes[i].parent.is_none()).map(|i| mass[i]).sum();
    // Prose of each group of marked siblings sharing tag and class.
    let mut group_mass = vec![0u32; n];
    {
        let key = |i: usize| (nodes[i].parent, nodes[i].tag, nodes[i].el.and_then(|e| e.attr("class")).unwrap_or(""));
        let mut groups: FastMap<(Option<usize>, &str, &str), u32> = FastMap::default();
        let marked: Vec<usize> = (0..n).filter(|&i| marks[i].soft_noise > 0 || marks[i].soft_boiler).collect();
        for &i in &marked {
            let g = groups.entry(key(i)).or_insert(0);
            *g = g.saturating_add(mass[i]);
        }
        for &i in &marked {
            group_mass[i] = groups.get(&key(i)).copied().unwrap_or(0);
        }
    }
    // Comment sections are furniture, unless comments are most of the page (a
    // thread, a page of reviews): then the comment words say nothing.
    let mut comment_mass = 0u32;
    let mut in_comment = vec![false; n];
    for i in 0..n {
        let inherited = nodes[i].parent.is_some_and(|p| in_comment[p]);
        if marks[i].soft_noise >= 2 && !inherited {
            comment_mass = comment_mass.saturating_add(mass[i]);
        }
        in_comment[i] = inherited || marks[i].soft_noise >= 2;
    }
    let comments_are_content = comments.unwrap_or(total > 0 && u64::from(comment_mass) * 2 >= u64::from(total));
    if comments_are_content {
        for (m, node) in marks.iter_mut().zip(nodes.iter()) {
            if m.soft_noise >= 2 {
                m.soft_noise = u8::from(node.el.is_some_and(hidden));
            }
        }
    }
    // anchor[i]: prose of the anchor that i's children are weighed against.
    let mut anchor = vec![total; n];
    for i in 0..n {
        let parent = nodes[i].parent;
        let (p_noise, p_boiler, p_anchor) =
            parent.map_or((false, false, total), |p| (nodes[p].noise, nodes[p].boiler, anchor[p]));
        let m = marks[i];
        let share = if m.soft_noise > 0 || m.soft_boiler {
            if p_anchor == 0 {
                0.0
            } else {
                f64::from(group_mass[i]) / f64::from(p_anchor)
            }
        } else {
            0.0
        };
        let kept = share >= 0.5 && m.soft_noise < 2;
        let noise = p_noise || m.hard_noise || (m.soft_noise > 0 && !kept);
        let boiler = p_boiler || noise || m.hard_boiler || (m.soft_boiler && !kept);
        nodes[i].noise = noise;
        nodes[i].boiler = boiler;
        anchor[i] = if kept && (m.soft_noise > 0 || m.soft_boiler) { mass[i] } else { p_anchor };
    }
    (comment_mass, comments_are_content)
}

fn hidden(e: Element) -> bool {
    if e.attr("hidden").is_some() {
        return true;
    }
    e.attr("style").is_some_and(|s| {
        // Most styles say neither: look for the value before squashing blanks.
        let b = s.as_bytes();
        let maybe = b.windows(4).any(|w| w.eq_ignore_ascii_case(b"none") || w.eq_ignore_ascii_case(b"hidd"));
        maybe && {
            let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
            s.contains("display:none") || s.contains("visibility:hidden")
        }
    })
}

/// Words of comment sections: they hold prose, so they must outweigh the rest more
/// clearly before they count as the content.
const COMMENT_WORDS: &[&str] = &["comment", "pinglun", "review"];

fn finder(words: &[&str]) -> AhoCorasick {
    // A DFA without a prefilter: class names are a dozen bytes, so the setup of a
    // prefiltered search costs more than the search.
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .prefilter(false)
        .build(words)
        .unwrap_or_else(|e| panic!("the class words are constants and must build: {e}"))
}

static COMMENT_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| finder(COMMENT_WORDS));
static NOISE_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| finder(NOISE_SUBSTRINGS));

/// Whole class/id tokens by length: 1 for [`NOISE_TOKENS`], 2 for [`BOILER_TOKENS`]
/// (3 for both). Looked up by length, then compared ignoring ASCII case, so that a
/// token needs neither lower-casing nor hashing.
static TOKENS: LazyLock<Vec<Vec<(&'static str, u8)>>> = LazyLock::new(|| {
    let longest = NOISE_TOKENS.iter().chain(BOILER_TOKENS).map(|t| t.len()).max().unwrap_or(0);
    let mut by_len: Vec<Vec<(&'static str, u8)>> = vec![Vec::new(); longest + 1];
    for (list, flag) in [(NOISE_TOKENS, 1u8), (BOILER_TOKENS, 2u8)] {
        for t in list {
            let bucket = &mut by_len[t.len()];
            match bucket.iter_mut().find(|(w, _)| w == t) {
                Some(slot) => slot.1 |= flag,
                None => bucket.push((t, flag)),
            }
        }
    }
    by_len
});

fn token_flags(token: &str) -> u8 {
    TOKENS
        .get(token.len())
        .map_or(0, |bucket| bucket.iter().find(|(w, _)| w.eq_ignore_ascii_case(token)).map_or(0, |(_, f)| *f))
}

/// (noise, boiler) of a class or id attribute's words; noise is 2 for comment words,
/// 1 for other furniture words, 0 for none.
fn classify_names(names: &str) -> (u8, bool) {
    let mut noise = 0;
    let mut boiler = false;
    for name in names.split_ascii_whitespace() {
        // A BEM modifier says how an element looks, not what it is: the opening post
        // of a Flarum thread is `Post--by-start-user`, not a user box.
        let name = name.as_bytes().windows(2).position(|w| w == b"--").map_or(name, |k| &name[..k]);
        if COMMENT_FINDER.is_match(name) {
            noise = 2;
        } else if noise == 0 && NOISE_FINDER.is_match(name) {
            noise = 1;
        }
        for token in name.split(['-', '_']) {
            let flags = token_flags(token);
            if flags & 1 != 0 {
                noise = noise.max(1);
            }
            boiler |= flags & 2 != 0;
        }
    }
    (noise, boiler)
}

/// FNV-1a, written here in a few lines rather than taken as a dependency: std's
/// SipHash resists chosen keys, at a cost larger than these lookups on short class
/// names; a page that chooses its keys can only slow its own extraction, which
/// [`crate::html::MAX_NODES`] bounds.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Block-level tags: each starts a new line of text.
pub fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "tbody"
            | "thead"
            | "tr"
            | "td"
            | "th"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "center"
            | "br"
            | "hr"
            | "header"
            | "footer"
            | "nav"
            | "aside"
            | "figure"
            | "figcaption"
            | "address"
            | "body"
            | "caption"
    )
}

/// The text of a node's subtree (text nodes joined as they are), skipping furniture
/// when `skip_noise`.
pub fn subtree_text(flat: &Flat, i: usize, skip_noise: bool) -> String {
    let mut s = String::new();
    let mut k = i;
    let end = flat.nodes[i].end;
    while k < end {
        let n = &flat.nodes[k];
        if skip_noise && n.noise && k != i {
            k = n.end;
            continue;
        }
        if n.kind == Kind::Text {
            s.push_str(n.text);
        } else if is_block(n.tag) && !s.is_empty() {
            s.push(' ');
        }
        k += 1;
    }
    s
}
