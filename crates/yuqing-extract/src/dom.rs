//! A flat, pre-order copy of the parsed page that the extraction passes walk with
//! plain loops: no recursion anywhere, so nesting depth cannot overflow the stack,
//! and a cap on the number of nodes bounds the work.

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
    "reply",
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
    "page",
    "fenye",
];

/// Words that mark furniture even inside a longer token ("bottomNav", "share_box").
const NOISE_SUBSTRINGS: &[&str] = &[
    "footer",
    "copyright",
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
const BOILER_TOKENS: &[&str] = &["header", "head", "top", "topbar", "logo"];

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
}

pub fn flatten(html: &Html) -> Flat<'_> {
    let mut nodes: Vec<FNode> = Vec::new();
    let mut metas = Vec::new();
    let mut title = String::new();
    let mut stack: Vec<Pending> =
        vec![Pending { node: html.tree.root(), parent: None, boiler: false, noise: false, in_link: false }];
    while let Some(Pending { node, parent, boiler, noise, in_link }) = stack.pop() {
        if nodes.len() >= MAX_NODES {
            break;
        }
        let (kind, tag, text, el, boiler, noise, in_link) = match node.value() {
            Node::Text(t) => (Kind::Text, "", &**t, None, boiler, noise, in_link),
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
                if DROP_TAGS.contains(&tag) || hidden(e) {
                    continue;
                }
                let (class_noise, class_boiler) = classify(e);
                let noise = noise || NOISE_TAGS.contains(&tag) || class_noise;
                let boiler = boiler || noise || BOILER_TAGS.contains(&tag) || class_boiler;
                let in_link = in_link || (tag == "a" && e.attr("href").is_some());
                (Kind::Element, tag, "", Some(e), boiler, noise, in_link)
            }
            Node::Document | Node::Fragment => {
                push_children(&mut stack, Pending { node, parent, boiler, noise, in_link });
                continue;
            }
            _ => continue,
        };
        let idx = nodes.len();
        nodes.push(FNode { kind, tag, text, el, parent, end: idx + 1, boiler, noise, in_link });
        if kind == Kind::Element {
            push_children(&mut stack, Pending { node, parent: Some(idx), boiler, noise, in_link });
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
    Flat { nodes, metas, title }
}

/// A node waiting on the explicit stack, with what it inherits from its ancestors.
struct Pending<'a> {
    node: NodeRef<'a, Node>,
    parent: Option<usize>,
    boiler: bool,
    noise: bool,
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

/// (noise, boiler) by class and id words.
fn classify(e: &Element) -> (bool, bool) {
    let mut noise = false;
    let mut boiler = false;
    let names = e.attr("class").into_iter().chain(e.attr("id"));
    for name in names {
        let lower = name.to_ascii_lowercase();
        if NOISE_SUBSTRINGS.iter().any(|s| lower.contains(s)) {
            noise = true;
        }
        for token in lower.split(|c: char| c.is_whitespace() || c == '-' || c == '_') {
            if NOISE_TOKENS.contains(&token) {
                noise = true;
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
