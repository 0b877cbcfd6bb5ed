//! A flat, pre-order copy of the parsed page that the extraction passes walk with
//! plain loops: no recursion anywhere, so nesting depth cannot overflow the stack,
//! and a cap on the number of nodes bounds the work.

use std::collections::HashMap;

use ego_tree::NodeRef;
use scraper::node::Element;
use scraper::{Html, Node};

/// At most this many nodes are visited; the rest of a huge page is ignored.
pub const MAX_NODES: usize = 400_000;

/// Subtrees that are never content and never hold the title or the time.
const DROP_TAGS: &[&str] = &[
    "script", "style", "noscript", "iframe", "svg", "form", "button", "select", "textarea", "template", "object",
    "embed", "canvas", "video", "audio", "map", "input", "option",
];

/// Page furniture: not content, and not where the time or title is looked for.
const NOISE_TAGS: &[&str] = &["nav", "footer", "aside", "menu"];

/// `<header>` often holds the headline and the info line on modern templates, so it is
/// excluded from the content but still searched for the title and time.
const BOILER_TAGS: &[&str] = &["header"];

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
    pub el: Option<&'a Element>,
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
    pub metas: Vec<&'a Element>,
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
pub fn flatten(html: &Html, comments: Option<bool>) -> Flat<'_> {
    let mut nodes: Vec<FNode> = Vec::new();
    let mut marks: Vec<Marks> = Vec::new();
    let mut metas = Vec::new();
    let mut title = String::new();
    let mut stack: Vec<Pending> = vec![Pending { node: html.tree.root(), parent: None, in_link: false }];
    while let Some(Pending { node, parent, in_link }) = stack.pop() {
        if nodes.len() >= MAX_NODES {
            break;
        }
        let (kind, tag, text, el, in_link, mark) = match node.value() {
            Node::Text(t) => (Kind::Text, "", &**t, None, in_link, Marks::default()),
            Node::Element(e) => {
                let tag = e.name();
                if tag == "meta" {
                    metas.push(e);
                    continue;
                }
                if tag == "title" {
                    if title.is_empty() {
                        title = node.children().filter_map(|c| c.value().as_text()).map(|t| &**t).collect();
                    }
                    continue;
                }
                if DROP_TAGS.contains(&tag) {
                    continue;
                }
                let (class_noise, class_boiler) = classify(e);
                let mark = Marks {
                    hard_noise: NOISE_TAGS.contains(&tag),
                    soft_noise: if hidden(e) { class_noise.max(1) } else { class_noise },
                    hard_boiler: BOILER_TAGS.contains(&tag),
                    soft_boiler: class_boiler,
                };
                let in_link = in_link || (tag == "a" && e.attr("href").is_some());
                (Kind::Element, tag, "", Some(e), in_link, mark)
            }
            Node::Document | Node::Fragment => {
                push_children(&mut stack, Pending { node, parent, in_link });
                continue;
            }
            _ => continue,
        };
        let idx = nodes.len();
        nodes.push(FNode { kind, tag, text, el, parent, end: idx + 1, boiler: false, noise: false, in_link });
        marks.push(mark);
        if kind == Kind::Element {
            push_children(&mut stack, Pending { node, parent: Some(idx), in_link });
        }
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
        let mut groups: HashMap<(Option<usize>, &str, &str), u32> = HashMap::new();
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

/// A node waiting on the explicit stack, with what it inherits from its ancestors.
struct Pending<'a> {
    node: NodeRef<'a, Node>,
    parent: Option<usize>,
    in_link: bool,
}

/// Pushes the children of `of.node`, inheriting `of`'s flags, with `of.parent` as
/// their parent index.
fn push_children<'a>(stack: &mut Vec<Pending<'a>>, of: Pending<'a>) {
    let at = stack.len();
    for child in of.node.children() {
        stack.push(Pending { node: child, ..of });
    }
    // Popped last-in first-out: reverse so the first child is visited first.
    stack[at..].reverse();
}

fn hidden(e: &Element) -> bool {
    if e.attr("hidden").is_some() {
        return true;
    }
    e.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Words of comment sections: they hold prose, so they must outweigh the rest more
/// clearly before they count as the content.
const COMMENT_WORDS: &[&str] = &["comment", "pinglun", "review"];

/// (noise, boiler) by class and id words; noise is 2 for comment words, 1 for
/// other furniture words, 0 for none.
fn classify(e: &Element) -> (u8, bool) {
    let mut noise = 0;
    let mut boiler = false;
    let names = e.attr("class").into_iter().chain(e.attr("id"));
    for name in names {
        let lower = name.to_ascii_lowercase();
        if COMMENT_WORDS.iter().any(|s| lower.contains(s)) {
            noise = 2;
        } else if NOISE_SUBSTRINGS.iter().any(|s| lower.contains(s)) {
            noise = noise.max(1);
        }
        for token in lower.split(|c: char| c.is_whitespace() || c == '-' || c == '_') {
            if NOISE_TOKENS.contains(&token) {
                noise = noise.max(1);
            }
            if BOILER_TOKENS.contains(&token) {
                boiler = true;
            }
        }
    }
    (noise, boiler)
}

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
