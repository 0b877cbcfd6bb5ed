//! A fast, bounded HTML parser for main-text extraction: page text in, a flat
//! pre-order tree out (each node knows its parent and one past its last descendant).
//!
//! Why hand-written rather than html5ever (which `links` and `feed` still use through
//! scraper): html5ever implements the whole HTML5 tree-construction algorithm —
//! active-formatting reconstruction, the adoption agency, foster parenting — on
//! interned names, reference-counted strings and a linked tree, and that was 60 % of
//! extraction time. Extraction needs only which blocks hold which text, so this
//! parser keeps the HTML5 tokenizer's rules where they decide what is text and what
//! is markup (tag and attribute syntax with quotes, comments, bogus comments, raw-text
//! and RCDATA elements, character references) and a reduced tree builder:
//! void elements; the implied end tags that real pages rely on (`<p>`, `<li>`,
//! `<dd>`/`<dt>`, headings, table sections, rows and cells, `<option>`, a second
//! `<a>`); end tags closing elements in scope, as the spec's scopes say; end tags
//! that do not match, and misnested formatting end tags, ignored as the spec ignores
//! them. It does not reconstruct formatting elements or foster-parent text out of
//! tables: those move inline formatting and a few stray words, not paragraphs.
//! Text borrows from the input unless a character reference or a NUL had to change it.
//!
//! `<script>` and `<style>` elements are dropped here (never content, title or time,
//! and often half the bytes of a portal page). Bounds, for hostile pages: at most
//! [`MAX_DEPTH`] open elements (deeper start tags are dropped with their matching
//! end tags), [`MAX_NODES`] nodes (the rest of the page is ignored), [`MAX_ATTRS`]
//! attributes per element; no recursion, and every scan moves forward.

use std::borrow::Cow;
use std::ops::Range;

use memchr::{memchr, memchr2, memmem};

/// Open elements beyond this depth are dropped (html5ever's scope scans made deep
/// nesting quadratic; no real article nests more than a few dozen levels).
pub const MAX_DEPTH: usize = 400;

/// Nodes kept; the rest of a huge page is ignored.
pub const MAX_NODES: usize = 400_000;

/// Attributes kept per element; later ones are parsed and skipped.
pub const MAX_ATTRS: usize = 64;

/// One attribute: the name as written (compared ignoring ASCII case), the value with
/// character references decoded.
#[derive(Debug)]
pub struct Attr<'a> {
    name: &'a str,
    value: Cow<'a, str>,
}

/// An element's attributes.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    attrs: &'a [Attr<'a>],
}

impl<'a> Element<'a> {
    /// The value of the first attribute called `name` (ASCII case ignored).
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name)).map(|a| &*a.value)
    }
}

#[derive(Debug)]
pub struct Node<'a> {
    /// Lower-case tag name; empty for a text node.
    pub tag: Cow<'a, str>,
    /// The text of a text node; empty for an element.
    pub text: Cow<'a, str>,
    pub parent: Option<usize>,
    /// One past the last descendant.
    pub end: usize,
    attrs: Range<usize>,
}

impl Node<'_> {
    pub fn is_text(&self) -> bool {
        self.tag.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct Document<'a> {
    pub nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
}

impl<'a> Document<'a> {
    /// The attributes of node `i` (none for a text node).
    pub fn element(&self, i: usize) -> Element<'_> {
        let r = self.nodes.get(i).map_or(0..0, |n| n.attrs.clone());
        Element { attrs: self.attrs.get(r).unwrap_or(&[]) }
    }
}

/// Parses a whole page.
pub fn parse(src: &str) -> Document<'_> {
    let mut b = Builder::new(src.len());
    Lexer { src, bytes: src.as_bytes(), pos: 0 }.run(&mut b);
    b.finish()
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Raw {
    /// Content up to the matching end tag is text, references not decoded.
    Text,
    /// As `Text`, with character references decoded (`<title>`, `<textarea>`).
    Rcdata,
    /// Content up to the end tag is dropped (`<script>`, `<style>`).
    Drop,
    /// The rest of the document is text.
    Plain,
}

/// Element categories of the tree builder.
const VOID: u16 = 1;
/// Start tag closes an open `<p>` in button scope.
const CLOSES_P: u16 = 1 << 1;
/// The spec's "special" elements: a non-matching end tag stops at them.
const SPECIAL: u16 = 1 << 2;
/// End tag closes everything opened inside the element when it is in scope.
const BLOCK_END: u16 = 1 << 3;
/// The spec's default scope boundary.
const BARRIER: u16 = 1 << 4;
/// May sit in `<head>`; anything else closes it.
const IN_HEAD: u16 = 1 << 5;
/// HTML start tag that ends foreign content (`<svg>`, `<math>`).
const BREAKS_FOREIGN: u16 = 1 << 6;
/// Blank text directly inside carries nothing.
const DROPS_BLANK: u16 = 1 << 7;
const HEADING: u16 = 1 << 8;

macro_rules! tags {
    ($($variant:ident $name:literal $flags:expr;)*) => {
        /// Tag names the tree builder knows, so that its scope walks compare integers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        enum Tag { Other, $($variant,)* }

        /// Number of [`Tag`] values.
        const TAG_COUNT: usize = [$($name,)*].len() + 1;

        impl Tag {
            fn of(name: &str) -> Tag {
                match name { $($name => Tag::$variant,)* _ => Tag::Other }
            }
            fn flags(self) -> u16 {
                match self { Tag::Other => 0, $(Tag::$variant => $flags,)* }
            }
            /// The static spelling of a known tag.
            fn name(self) -> Option<&'static str> {
                match self { Tag::Other => None, $(Tag::$variant => Some($name),)* }
            }
        }
    };
}

const SB: u16 = SPECIAL | BLOCK_END;
const SBP: u16 = SPECIAL | BLOCK_END | CLOSES_P;

tags! {
    A "a" 0;
    Abbr "abbr" 0;
    Address "address" SBP;
    Applet "applet" SB | BARRIER;
    Area "area" VOID | SPECIAL;
    Article "article" SBP;
    Aside "aside" SBP;
    B "b" BREAKS_FOREIGN;
    Base "base" VOID | SPECIAL | IN_HEAD;
    Basefont "basefont" VOID | SPECIAL | IN_HEAD;
    Bgsound "bgsound" VOID | SPECIAL | IN_HEAD;
    Big "big" BREAKS_FOREIGN;
    Blockquote "blockquote" SBP | BREAKS_FOREIGN;
    Body "body" SPECIAL | BREAKS_FOREIGN;
    Br "br" VOID | SPECIAL | BREAKS_FOREIGN;
    Button "button" SB;
    Caption "caption" SPECIAL | BARRIER;
    Center "center" SBP | BREAKS_FOREIGN;
    Code "code" BREAKS_FOREIGN;
    Col "col" VOID | SPECIAL;
    Colgroup "colgroup" SPECIAL | DROPS_BLANK;
    Dd "dd" SBP | BREAKS_FOREIGN;
    Details "details" SBP;
    Dialog "dialog" SB | CLOSES_P;
    Dir "dir" SBP;
    Div "div" SBP | BREAKS_FOREIGN;
    Dl "dl" SBP | BREAKS_FOREIGN | DROPS_BLANK;
    Dt "dt" SBP | BREAKS_FOREIGN;
    Em "em" BREAKS_FOREIGN;
    Embed "embed" VOID | SPECIAL | BREAKS_FOREIGN;
    Fieldset "fieldset" SBP;
    Figcaption "figcaption" SBP;
    Figure "figure" SBP;
    Font "font" 0;
    Footer "footer" SBP;
    Form "form" SBP;
    Frame "frame" VOID | SPECIAL;
    Frameset "frameset" SPECIAL;
    H1 "h1" SBP | HEADING | BREAKS_FOREIGN;
    H2 "h2" SBP | HEADING | BREAKS_FOREIGN;
    H3 "h3" SBP | HEADING | BREAKS_FOREIGN;
    H4 "h4" SBP | HEADING | BREAKS_FOREIGN;
    H5 "h5" SBP | HEADING | BREAKS_FOREIGN;
    H6 "h6" SBP | HEADING | BREAKS_FOREIGN;
    Head "head" SPECIAL | BREAKS_FOREIGN | DROPS_BLANK;
    Header "header" SBP;
    Hgroup "hgroup" SBP;
    Hr "hr" VOID | SPECIAL | CLOSES_P | BREAKS_FOREIGN;
    Html "html" SPECIAL | BARRIER | DROPS_BLANK;
    I "i" BREAKS_FOREIGN;
    Iframe "iframe" SPECIAL;
    Image "image" VOID;
    Img "img" VOID | SPECIAL | BREAKS_FOREIGN;
    Input "input" VOID | SPECIAL;
    Keygen "keygen" VOID | SPECIAL;
    Li "li" SBP | BREAKS_FOREIGN;
    Link "link" VOID | SPECIAL | IN_HEAD;
    Listing "listing" SBP | BREAKS_FOREIGN;
    Main "main" SBP;
    Marquee "marquee" SB | BARRIER;
    Math "math" 0;
    Menu "menu" SBP | BREAKS_FOREIGN;
    Meta "meta" VOID | SPECIAL | IN_HEAD | BREAKS_FOREIGN;
    Nav "nav" SBP;
    Nobr "nobr" BREAKS_FOREIGN;
    Noembed "noembed" SPECIAL;
    Noframes "noframes" SPECIAL | IN_HEAD;
    Noscript "noscript" SPECIAL | IN_HEAD;
    Object "object" SB | BARRIER;
    Ol "ol" SBP | BREAKS_FOREIGN | DROPS_BLANK;
    Optgroup "optgroup" 0;
    Option "option" 0;
    P "p" SBP | BREAKS_FOREIGN;
    Param "param" VOID | SPECIAL;
    Plaintext "plaintext" SPECIAL | CLOSES_P;
    Pre "pre" SBP | BREAKS_FOREIGN;
    Ruby "ruby" BREAKS_FOREIGN;
    S "s" BREAKS_FOREIGN;
    Script "script" SPECIAL | IN_HEAD;
    Search "search" SBP;
    Section "section" SBP;
    Select "select" SPECIAL | DROPS_BLANK;
    Small "small" BREAKS_FOREIGN;
    Source "source" VOID | SPECIAL;
    Span "span" BREAKS_FOREIGN;
    Strike "strike" BREAKS_FOREIGN;
    Strong "strong" BREAKS_FOREIGN;
    Style "style" SPECIAL | IN_HEAD;
    Sub "sub" BREAKS_FOREIGN;
    Summary "summary" SBP;
    Sup "sup" BREAKS_FOREIGN;
    Svg "svg" 0;
    Table "table" SPECIAL | BARRIER | CLOSES_P | BREAKS_FOREIGN | DROPS_BLANK;
    Tbody "tbody" SPECIAL | DROPS_BLANK;
    Td "td" SPECIAL | BARRIER;
    Template "template" SPECIAL | BARRIER | IN_HEAD;
    Textarea "textarea" SPECIAL;
    Tfoot "tfoot" SPECIAL | DROPS_BLANK;
    Th "th" SPECIAL | BARRIER;
    Thead "thead" SPECIAL | DROPS_BLANK;
    Title "title" SPECIAL | IN_HEAD;
    Tr "tr" SPECIAL | DROPS_BLANK;
    Track "track" VOID | SPECIAL;
    Tt "tt" BREAKS_FOREIGN;
    U "u" BREAKS_FOREIGN;
    Ul "ul" SBP | BREAKS_FOREIGN | DROPS_BLANK;
    Var "var" BREAKS_FOREIGN;
    Wbr "wbr" VOID | SPECIAL;
    Xmp "xmp" SPECIAL | CLOSES_P;
}

impl Tag {
    fn is(self, flag: u16) -> bool {
        self.flags() & flag != 0
    }

    fn raw(self) -> Option<Raw> {
        match self {
            Tag::Script | Tag::Style => Some(Raw::Drop),
            Tag::Xmp | Tag::Iframe | Tag::Noembed | Tag::Noframes | Tag::Noscript => Some(Raw::Text),
            Tag::Title | Tag::Textarea => Some(Raw::Rcdata),
            Tag::Plaintext => Some(Raw::Plain),
            _ => None,
        }
    }
}

/// Lower-case tag name and its [`Tag`]: borrowed when already lower case (nearly
/// always), else the known spelling, else a lower-cased copy.
fn tag_name(raw: &str) -> (Cow<'_, str>, Tag) {
    if !raw.bytes().any(|c| c.is_ascii_uppercase()) {
        return (Cow::Borrowed(raw), Tag::of(raw));
    }
    // Old templates write every tag in capitals: look those up without allocating.
    let mut buf = [0u8; 16];
    if raw.len() <= buf.len() {
        for (d, s) in buf.iter_mut().zip(raw.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        if let Some(known) = std::str::from_utf8(&buf[..raw.len()]).ok().map(Tag::of).and_then(Tag::name) {
            return (Cow::Borrowed(known), Tag::of(known));
        }
    }
    (Cow::Owned(raw.to_ascii_lowercase()), Tag::Other)
}

/// An element on the stack of open elements.
#[derive(Clone, Copy)]
struct Open {
    node: usize,
    tag: Tag,
}

struct Builder<'a> {
    nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
    stack: Vec<Open>,
    /// Open elements per [`Tag`]: a scope walk for a tag that is not open is skipped,
    /// which keeps hostile pages (thousands of stray end tags) linear.
    open_count: [u32; TAG_COUNT],
    /// Start tags dropped past [`MAX_DEPTH`], by name, so that their end tags are too.
    dropped: Vec<(Cow<'a, str>, usize)>,
    seen_html: bool,
    seen_head: bool,
    seen_body: bool,
    /// [`MAX_NODES`] reached: the rest of the page is ignored.
    full: bool,
}

impl<'a> Builder<'a> {
    fn new(src_len: usize) -> Self {
        Builder {
            // About one node per 40 bytes of markup on real pages.
            nodes: Vec::with_capacity((src_len / 40).min(MAX_NODES)),
            attrs: Vec::with_capacity((src_len / 80).min(MAX_NODES)),
            stack: Vec::with_capacity(64),
            open_count: [0; TAG_COUNT],
            dropped: Vec::new(),
            seen_html: false,
            seen_head: false,
            seen_body: false,
            full: false,
        }
    }

    fn current(&self) -> Option<Tag> {
        self.stack.last().map(|o| o.tag)
    }

    fn is_open(&self, tag: Tag) -> bool {
        self.open_count[tag as usize] > 0
    }

    /// Whether open element `o` is `tag` (named `name` when not a known tag).
    fn matches(&self, o: Open, tag: Tag, name: &str) -> bool {
        o.tag == tag && (tag != Tag::Other || self.nodes[o.node].tag == name)
    }

    fn push_node(&mut self, tag: Cow<'a, str>, text: Cow<'a, str>, attrs: Range<usize>) -> Option<usize> {
        if self.nodes.len() >= MAX_NODES {
            self.full = true;
            return None;
        }
        let idx = self.nodes.len();
        let parent = self.stack.last().map(|o| o.node);
        self.nodes.push(Node { tag, text, parent, end: idx + 1, attrs });
        Some(idx)
    }

    fn pop(&mut self) {
        if let Some(open) = self.stack.pop() {
            self.nodes[open.node].end = self.nodes.len();
            self.open_count[open.tag as usize] -= 1;
        }
    }

    /// Pops up to and including the open element at stack position `at`.
    fn pop_to(&mut self, at: usize) {
        while self.stack.len() > at {
            self.pop();
        }
    }

    /// Stack position of the nearest open `tag`, searching down from the top and
    /// stopping at a scope barrier or an `extra` barrier.
    fn in_scope(&self, tag: Tag, extra: &[Tag]) -> Option<usize> {
        if !self.is_open(tag) {
            return None;
        }
        for (k, open) in self.stack.iter().enumerate().rev() {
            if open.tag == tag {
                return Some(k);
            }
            if open.tag.is(BARRIER) || extra.contains(&open.tag) {
                return None;
            }
        }
        None
    }

    fn close_p(&mut self) {
        if let Some(k) = self.in_scope(Tag::P, &[Tag::Button]) {
            self.pop_to(k);
        }
    }

    /// Stack position of the nearest open `<table>`.
    fn open_table(&self) -> Option<usize> {
        if !self.is_open(Tag::Table) {
            return None;
        }
        self.stack.iter().rposition(|o| o.tag == Tag::Table)
    }

    /// Position just above the open table at `t` and its section (`<tbody>`…), if any.
    fn above_section(&self, t: usize) -> usize {
        match self.stack.get(t + 1) {
            Some(o) if matches!(o.tag, Tag::Tbody | Tag::Thead | Tag::Tfoot) => t + 2,
            _ => t + 1,
        }
    }

    fn text(&mut self, text: Cow<'a, str>) {
        if self.full || text.is_empty() {
            return;
        }
        let blank = text.bytes().all(is_ws);
        if !blank && self.current() == Some(Tag::Head) {
            self.pop();
        }
        if blank && self.current().is_none_or(|t| t.is(DROPS_BLANK)) {
            return;
        }
        // Adjacent text (split by a comment or a dropped tag) is one node, as in html5ever.
        let parent = self.stack.last().map(|o| o.node);
        if let Some(last) = self.nodes.last_mut() {
            if last.is_text() && last.parent == parent {
                last.text.to_mut().push_str(&text);
                return;
            }
        }
        self.push_node(Cow::Borrowed(""), text, 0..0);
    }

    fn start(&mut self, name: Cow<'a, str>, tag: Tag, attrs: Range<usize>, self_closing: bool) {
        if self.full {
            return;
        }
        if self.is_open(Tag::Svg) || self.is_open(Tag::Math) {
            if !tag.is(BREAKS_FOREIGN) {
                self.open(name, tag, attrs, self_closing);
                return;
            }
            if let Some(k) = self.stack.iter().position(|o| matches!(o.tag, Tag::Svg | Tag::Math)) {
                self.pop_to(k);
            }
        }
        match tag {
            Tag::Html => {
                if self.seen_html || !self.stack.is_empty() {
                    return;
                }
                self.seen_html = true;
            }
            Tag::Head => {
                if self.seen_head || self.seen_body {
                    return;
                }
                self.seen_head = true;
            }
            Tag::Body => {
                if self.seen_body {
                    return;
                }
                self.seen_body = true;
                if let Some(k) = self.stack.iter().rposition(|o| o.tag == Tag::Head) {
                    self.pop_to(k);
                }
            }
            _ => {
                if self.current() == Some(Tag::Head) && !tag.is(IN_HEAD) {
                    self.pop();
                }
            }
        }
        if tag.is(CLOSES_P) {
            self.close_p();
        }
        match tag {
            Tag::Li => self.close_item(&[Tag::Li]),
            Tag::Dd | Tag::Dt => self.close_item(&[Tag::Dd, Tag::Dt]),
            t if t.is(HEADING) && self.current().is_some_and(|c| c.is(HEADING)) => {
                self.pop();
            }
            // A link inside a link ends the first (the spec's adoption agency), unless a
            // block lies between: then the block stays whole.
            Tag::A if self.is_open(Tag::A) => {
                for k in (0..self.stack.len()).rev() {
                    let t = self.stack[k].tag;
                    if t == Tag::A {
                        self.pop_to(k);
                        break;
                    }
                    if t.is(SPECIAL) {
                        break;
                    }
                }
            }
            Tag::Option | Tag::Optgroup if self.current() == Some(Tag::Option) => {
                self.pop();
            }
            Tag::Table => {
                // A table straight inside a table (not in a cell) ends the first.
                if let Some(t) = self.open_table() {
                    if !self.stack[t..].iter().any(|o| matches!(o.tag, Tag::Td | Tag::Th | Tag::Caption)) {
                        self.pop_to(t);
                    }
                }
            }
            Tag::Tbody | Tag::Thead | Tag::Tfoot | Tag::Caption | Tag::Colgroup => match self.open_table() {
                Some(t) => self.pop_to(t + 1),
                None => return,
            },
            Tag::Tr => match self.open_table() {
                Some(t) => {
                    let keep = self.above_section(t);
                    self.pop_to(keep);
                }
                None => return,
            },
            Tag::Td | Tag::Th => match self.open_table() {
                Some(t) => {
                    let keep = match self.stack[t..].iter().rposition(|o| o.tag == Tag::Tr) {
                        Some(r) => t + r + 1,
                        None => self.above_section(t),
                    };
                    self.pop_to(keep);
                }
                None => return,
            },
            _ => {}
        }
        self.open(name, tag, attrs, self_closing);
    }

    /// `<li>`, `<dd>`, `<dt>`: closes an open item of `items`, unless a list or
    /// another special element lies between.
    fn close_item(&mut self, items: &[Tag]) {
        if !items.iter().any(|&t| self.is_open(t)) {
            return;
        }
        for k in (0..self.stack.len()).rev() {
            let t = self.stack[k].tag;
            if items.contains(&t) {
                self.pop_to(k);
                return;
            }
            if t.is(SPECIAL) && !matches!(t, Tag::Address | Tag::Div | Tag::P) {
                return;
            }
        }
    }

    fn open(&mut self, name: Cow<'a, str>, tag: Tag, attrs: Range<usize>, self_closing: bool) {
        // Self-closing syntax counts only in SVG and MathML, as in the spec.
        let foreign = self.is_open(Tag::Svg) || self.is_open(Tag::Math) || matches!(tag, Tag::Svg | Tag::Math);
        let void = tag.is(VOID) || (self_closing && foreign);
        if !void && self.stack.len() >= MAX_DEPTH {
            match self.dropped.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 += 1,
                None => self.dropped.push((name, 1)),
            }
            return;
        }
        let Some(idx) = self.push_node(name, Cow::Borrowed(""), attrs) else { return };
        if !void {
            self.stack.push(Open { node: idx, tag });
            self.open_count[tag as usize] += 1;
        }
    }

    /// An element whose content the lexer read as one piece (`<title>`, `<noscript>`).
    fn raw_element(&mut self, name: Cow<'a, str>, tag: Tag, attrs: Range<usize>, text: Cow<'a, str>) {
        if self.full {
            return;
        }
        if self.current() == Some(Tag::Head) && !tag.is(IN_HEAD) {
            self.pop();
        }
        if self.stack.len() >= MAX_DEPTH {
            return;
        }
        let Some(idx) = self.push_node(name, Cow::Borrowed(""), attrs) else { return };
        if !text.is_empty() {
            self.stack.push(Open { node: idx, tag });
            self.open_count[tag as usize] += 1;
            self.push_node(Cow::Borrowed(""), text, 0..0);
            self.pop();
        }
    }

    fn end(&mut self, name: Cow<'a, str>, tag: Tag) {
        if self.full {
            return;
        }
        if !self.dropped.is_empty() {
            if let Some(slot) = self.dropped.iter_mut().find(|(n, _)| *n == name) {
                if slot.1 > 0 {
                    slot.1 -= 1;
                    return;
                }
            }
        }
        match tag {
            // Old pages write `</br>`; HTML reads it as `<br>`.
            Tag::Br => self.start(name, tag, 0..0, false),
            Tag::Body | Tag::Html => {}
            Tag::Head => {
                if let Some(k) = self.stack.iter().rposition(|o| o.tag == Tag::Head) {
                    self.pop_to(k);
                }
            }
            Tag::P => self.close_p(),
            Tag::Li => {
                if let Some(k) = self.in_scope(Tag::Li, &[Tag::Ul, Tag::Ol]) {
                    self.pop_to(k);
                }
            }
            t if t.is(HEADING) => {
                // Any heading end tag closes the open heading, whatever its level.
                if let Some(k) = self.stack.iter().rposition(|o| o.tag.is(HEADING) || o.tag.is(BARRIER)) {
                    if self.stack[k].tag.is(HEADING) {
                        self.pop_to(k);
                    }
                }
            }
            Tag::Table | Tag::Tbody | Tag::Thead | Tag::Tfoot | Tag::Tr | Tag::Td | Tag::Th | Tag::Caption => {
                if !self.is_open(tag) {
                    return;
                }
                for k in (0..self.stack.len()).rev() {
                    let t = self.stack[k].tag;
                    if t == tag {
                        self.pop_to(k);
                        return;
                    }
                    if matches!(t, Tag::Table | Tag::Html | Tag::Template) {
                        return;
                    }
                }
            }
            t if t.is(BLOCK_END) => {
                if let Some(k) = self.in_scope(t, &[]) {
                    self.pop_to(k);
                }
            }
            _ => {
                // Any other end tag closes the nearest open element of its name
                // unless a special element (a block, a cell) lies between: then the
                // spec ignores it, so that `<font><div>…</font>` keeps the div open.
                if !self.is_open(tag) {
                    return;
                }
                for k in (0..self.stack.len()).rev() {
                    let open = self.stack[k];
                    if self.matches(open, tag, &name) {
                        self.pop_to(k);
                        return;
                    }
                    if open.tag.is(SPECIAL) {
                        return;
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Document<'a> {
        while !self.stack.is_empty() {
            self.pop();
        }
        Document { nodes: self.nodes, attrs: self.attrs }
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn run(&mut self, b: &mut Builder<'a>) {
        let len = self.bytes.len();
        // Start of the text not yet handed to the builder.
        let mut text_from = 0;
        while self.pos < len && !b.full {
            let Some(off) = memchr(b'<', &self.bytes[self.pos..]) else { break };
            let at = self.pos + off;
            let next = self.bytes.get(at + 1).copied().unwrap_or(0);
            let markup = next.is_ascii_alphabetic() || matches!(next, b'/' | b'!' | b'?');
            if !markup {
                // A lone '<' is text.
                self.pos = at + 1;
                continue;
            }
            if at > text_from {
                b.text(decode(&self.src[text_from..at], false));
            }
            self.pos = at;
            if next.is_ascii_alphabetic() {
                self.start_tag(b);
            } else if next == b'/' {
                self.end_tag(b);
            } else if self.bytes[at..].starts_with(b"<!--") {
                self.comment();
            } else {
                // <!DOCTYPE…>, <![CDATA[…]]>, <?xml…?>: bogus comments up to '>'.
                self.pos = memchr(b'>', &self.bytes[at..]).map_or(len, |e| at + e + 1);
            }
            text_from = self.pos;
        }
        if text_from < len && !b.full {
            b.text(decode(&self.src[text_from..], false));
        }
    }

    fn comment(&mut self) {
        let body = self.pos + 4;
        let rest = &self.bytes[body.min(self.bytes.len())..];
        // `<!-->` and `<!--->` are complete (empty) comments.
        if rest.starts_with(b">") {
            self.pos = body + 1;
        } else if rest.starts_with(b"->") {
            self.pos = body + 2;
        } else {
            self.pos = memmem::find(rest, b"-->").map_or(self.bytes.len(), |e| body + e + 3);
        }
    }

    /// Tag name from `self.pos` (just past `<` or `</`), up to a blank, `/` or `>`.
    fn name(&mut self) -> &'a str {
        let from = self.pos;
        let b = self.bytes;
        let mut j = from;
        while j < b.len() && !is_ws(b[j]) && b[j] != b'/' && b[j] != b'>' {
            j += 1;
        }
        self.pos = j;
        &self.src[from..j]
    }

    /// Attributes up to and past the tag's `>`. Returns `None` when the page ends
    /// inside the tag (the spec drops such a tag), else whether it was written `/>`.
    fn attributes(&mut self, b: Option<&mut Builder<'a>>) -> Option<bool> {
        let bytes = self.bytes;
        let len = bytes.len();
        let mut builder = b;
        let mut kept = 0;
        let mut j = self.pos;
        loop {
            while j < len && is_ws(bytes[j]) {
                j += 1;
            }
            if j >= len {
                self.pos = len;
                return None;
            }
            match bytes[j] {
                b'>' => {
                    self.pos = j + 1;
                    return Some(false);
                }
                b'/' => {
                    if bytes.get(j + 1) == Some(&b'>') {
                        self.pos = j + 2;
                        return Some(true);
                    }
                    j += 1;
                    continue;
                }
                _ => {}
            }
            // The first character may be '=': the spec makes it part of the name.
            let name_from = j;
            j += 1;
            while j < len && !is_ws(bytes[j]) && !matches!(bytes[j], b'/' | b'>' | b'=') {
                j += 1;
            }
            let name = &self.src[name_from..j];
            while j < len && is_ws(bytes[j]) {
                j += 1;
            }
            let mut value = "";
            if j < len && bytes[j] == b'=' {
                j += 1;
                while j < len && is_ws(bytes[j]) {
                    j += 1;
                }
                if j >= len {
                    self.pos = len;
                    return None;
                }
                match bytes[j] {
                    q @ (b'"' | b'\'') => {
                        let Some(e) = memchr(q, &bytes[j + 1..]) else {
                            self.pos = len;
                            return None;
                        };
                        value = &self.src[j + 1..j + 1 + e];
                        j += e + 2;
                    }
                    b'>' => {}
                    _ => {
                        let from = j;
                        while j < len && !is_ws(bytes[j]) && bytes[j] != b'>' {
                            j += 1;
                        }
                        value = &self.src[from..j];
                    }
                }
            }
            if let Some(b) = builder.as_deref_mut() {
                if kept < MAX_ATTRS {
                    kept += 1;
                    b.attrs.push(Attr { name, value: decode(value, true) });
                }
            }
        }
    }

    fn start_tag(&mut self, b: &mut Builder<'a>) {
        self.pos += 1;
        let (name, tag) = tag_name(self.name());
        let from = b.attrs.len();
        let Some(self_closing) = self.attributes(Some(&mut *b)) else {
            b.attrs.truncate(from);
            return;
        };
        let attrs = from..b.attrs.len();
        let foreign = b.is_open(Tag::Svg) || b.is_open(Tag::Math);
        let Some(raw) = tag.raw().filter(|_| !foreign) else {
            b.start(name, tag, attrs, self_closing);
            return;
        };
        let body = self.pos;
        let end = if raw == Raw::Plain { self.bytes.len() } else { self.raw_end(&name) };
        self.pos = end;
        let content = &self.src[body..end];
        match raw {
            Raw::Drop => b.attrs.truncate(from),
            Raw::Text | Raw::Plain => b.raw_element(name, tag, attrs, Cow::Borrowed(content)),
            Raw::Rcdata => b.raw_element(name, tag, attrs, decode(content, false)),
        }
    }

    /// Where the content of a raw-text element ends: at `</tag` followed by a blank,
    /// `/` or `>`, or at the end of the page.
    fn raw_end(&self, tag: &str) -> usize {
        let b = self.bytes;
        let n = tag.len();
        let mut from = self.pos;
        while let Some(off) = memmem::find(&b[from..], b"</") {
            let at = from + off;
            let name_end = at + 2 + n;
            if name_end <= b.len()
                && b[at + 2..name_end].eq_ignore_ascii_case(tag.as_bytes())
                && b.get(name_end).is_none_or(|&c| is_ws(c) || c == b'/' || c == b'>')
            {
                return at;
            }
            from = at + 2;
        }
        b.len()
    }

    fn end_tag(&mut self, b: &mut Builder<'a>) {
        let at = self.pos;
        match self.bytes.get(at + 2) {
            Some(c) if c.is_ascii_alphabetic() => {
                self.pos = at + 2;
                let (name, tag) = tag_name(self.name());
                if self.attributes(None).is_some() {
                    b.end(name, tag);
                }
            }
            // `</>` is nothing.
            Some(b'>') => self.pos = at + 3,
            // `</3…>` and the like: a bogus comment.
            _ => self.pos = memchr(b'>', &self.bytes[at..]).map_or(self.bytes.len(), |e| at + e + 1),
        }
    }
}

/// Windows-1252 code points for the C1 range of numeric references (`&#150;`), as
/// the spec maps them.
const C1: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D,
    0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,
    0x017E, 0x0178,
];

/// Decodes character references (and drops NULs in text). Borrows when nothing changes.
fn decode(s: &str, in_attr: bool) -> Cow<'_, str> {
    let b = s.as_bytes();
    let Some(first) = memchr2(b'&', 0, b) else { return Cow::Borrowed(s) };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut i = first;
    while i < b.len() {
        let Some(off) = memchr2(b'&', 0, &b[i..]) else {
            out.push_str(&s[i..]);
            break;
        };
        let at = i + off;
        out.push_str(&s[i..at]);
        if b[at] == 0 {
            if in_attr {
                out.push('\u{FFFD}');
            }
            i = at + 1;
            continue;
        }
        match reference(&s[at + 1..], in_attr) {
            Some((c1, c2, used)) => {
                out.push(c1);
                out.extend(c2);
                i = at + 1 + used;
            }
            None => {
                out.push('&');
                i = at + 1;
            }
        }
    }
    Cow::Owned(out)
}

/// The character reference at the start of `s` (just past the `&`): its one or two
/// characters and how many bytes it used.
fn reference(s: &str, in_attr: bool) -> Option<(char, Option<char>, usize)> {
    let b = s.as_bytes();
    if b.first() == Some(&b'#') {
        let hex = matches!(b.get(1), Some(b'x' | b'X'));
        let start = if hex { 2 } else { 1 };
        let mut j = start;
        let mut value: u32 = 0;
        while j < b.len() && (if hex { b[j].is_ascii_hexdigit() } else { b[j].is_ascii_digit() }) {
            let d = (b[j] as char).to_digit(16).unwrap_or(0);
            value = value.saturating_mul(if hex { 16 } else { 10 }).saturating_add(d);
            j += 1;
        }
        if j == start {
            return None;
        }
        if b.get(j) == Some(&b';') {
            j += 1;
        }
        let c = match value {
            0x80..=0x9F => C1[(value - 0x80) as usize],
            0 | 0xD800..=0xDFFF => 0xFFFD,
            v if v > 0x10FFFF => 0xFFFD,
            v => v,
        };
        return Some((char::from_u32(c).unwrap_or('\u{FFFD}'), None, j));
    }
    // Named: the longest name in the table that the text starts with. The table also
    // holds every prefix of every name (mapped to 0), so the walk can stop early.
    let run = b.iter().take(32).take_while(|c| c.is_ascii_alphanumeric()).count();
    if run == 0 {
        return None;
    }
    let mut best: Option<(usize, (u32, u32))> = None;
    if b.get(run) == Some(&b';') {
        if let Some(&v) = markup5ever::data::NAMED_ENTITIES.get(&s[..=run]) {
            best = Some((run + 1, v));
        }
    }
    if best.is_none() {
        for k in (1..=run).rev() {
            match markup5ever::data::NAMED_ENTITIES.get(&s[..k]) {
                Some(&v) if v.0 != 0 => {
                    best = Some((k, v));
                    break;
                }
                _ => {}
            }
        }
        // Without a ';', `&copy=1` in an attribute stays as written (the spec's
        // rule for query strings in URLs).
        if in_attr && best.is_some_and(|(k, _)| b.get(k).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'=')) {
            return None;
        }
    }
    let (used, (c1, c2)) = best?;
    let second = if c2 == 0 { None } else { char::from_u32(c2) };
    Some((char::from_u32(c1).unwrap_or('\u{FFFD}'), second, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as nested tags and text: `div(p("a") p("b"))`.
    fn shape(src: &str) -> String {
        let doc = parse(src);
        let mut out = String::new();
        let mut open: Vec<usize> = Vec::new();
        for (i, n) in doc.nodes.iter().enumerate() {
            while open.last().is_some_and(|&e| i >= e) {
                open.pop();
                out.push(')');
            }
            if !out.is_empty() && !out.ends_with('(') {
                out.push(' ');
            }
            if n.is_text() {
                out.push_str(&format!("{:?}", n.text));
            } else {
                out.push_str(&n.tag);
                out.push('(');
                open.push(n.end);
            }
        }
        for _ in open {
            out.push(')');
        }
        out.replace("()", "")
    }

    #[test]
    fn implied_end_tags() {
        assert_eq!(shape("<div><p>一<p>二</div>"), r#"div(p("一") p("二"))"#);
        assert_eq!(shape("<ul><li>a<li>b</ul>"), r#"ul(li("a") li("b"))"#);
        assert_eq!(shape("<dl><dt>a<dd>b<dt>c</dl>"), r#"dl(dt("a") dd("b") dt("c"))"#);
        assert_eq!(shape("<p>a<div>b</div>"), r#"p("a") div("b")"#);
        assert_eq!(shape("<table><tr><td>a<td>b<tr><td>c</table>x"), r#"table(tr(td("a") td("b")) tr(td("c"))) "x""#);
        assert_eq!(shape("<a href=1>x<a href=2>y"), r#"a("x") a("y")"#);
    }

    #[test]
    fn misnested_end_tags() {
        // A stray </font> inside a block does not close the block.
        assert_eq!(shape("<font><div>a</font>b</div>c"), r#"font(div("ab") "c")"#);
        // An end tag with nothing to close is ignored.
        assert_eq!(shape("<div>a</span>b</div>"), r#"div("ab")"#);
        // A block end tag closes what is open inside it.
        assert_eq!(shape("<div><span><b>a</div>b"), r#"div(span(b("a"))) "b""#);
        // `</br>` is a line break.
        assert_eq!(shape("<p>a</br>b</p>"), r#"p("a" br "b")"#);
        // A cell's content cannot close what is outside the table.
        assert_eq!(shape("<div><table><tr><td>a</div>b</td></tr></table>c</div>"), r#"div(table(tr(td("ab"))) "c")"#);
    }

    #[test]
    fn raw_text_comments_and_references() {
        assert_eq!(
            shape("<p>a<script>if (a<b) document.write('<p>')</script>b<!-- <p>x --></p><style>p{}</style>"),
            r#"p("ab")"#
        );
        assert_eq!(shape("<title>A &amp; <b></title>"), r#"title("A & <b>")"#);
        assert_eq!(
            shape("<p>&ldquo;一&rdquo;&nbsp;&#20108;&#x4E09;&#150;&notit; &amp x&zz;</p>"),
            "p(\"\u{201C}一\u{201D}\\u{a0}二三\u{2013}¬it; & x&zz;\")"
        );
        let doc = parse(r#"<a href="/x?a=1&copy=2&amp;b=&lt;" class='c d' data-x=y>t</a>"#);
        let a = doc.element(0);
        assert_eq!(a.attr("href"), Some("/x?a=1&copy=2&b=<"));
        assert_eq!(a.attr("CLASS"), Some("c d"));
        assert_eq!(a.attr("data-x"), Some("y"));
    }

    #[test]
    fn quoted_gt_and_case() {
        let doc = parse(r#"<DIV Class="a>b" ID=x><P>一</P></DIV>"#);
        assert_eq!(doc.nodes[0].tag, "div");
        assert_eq!(doc.element(0).attr("class"), Some("a>b"));
        assert_eq!(doc.nodes[1].tag, "p");
        assert_eq!(doc.nodes[2].text, "一");
    }

    #[test]
    fn head_and_body() {
        assert_eq!(
            shape("<html><head><meta charset=utf-8><title>t</title><link rel=x></head><body><p>a</body></html>"),
            r#"html(head(meta title("t") link) body(p("a")))"#
        );
        // Content in <head> closes it.
        assert_eq!(shape("<html><head><title>t</title><div>a</div>"), r#"html(head(title("t")) div("a"))"#);
    }

    #[test]
    fn truncated_and_odd_markup() {
        assert_eq!(shape("<p>a<div class=\"x"), r#"p("a")"#);
        assert_eq!(shape("a < b <3 c</p>"), r#""a < b <3 c""#);
        assert_eq!(shape("<p>a<!-- never closed <p>b"), r#"p("a")"#);
        assert_eq!(shape("<svg><path d='x'/><text>t</text></svg><p>b"), r#"svg(path text("t")) p("b")"#);
        assert_eq!(shape("<!DOCTYPE html><?xml x?></>x</3>"), r#""x""#);
    }

    #[test]
    fn depth_is_bounded() {
        let n = MAX_DEPTH + 500;
        let src = format!("{}x{}<p>after</p>", "<div>".repeat(n), "</div>".repeat(n));
        let doc = parse(&src);
        let divs = doc.nodes.iter().filter(|n| n.tag == "div").count();
        assert_eq!(divs, MAX_DEPTH);
        // Every div was closed by its own end tag: the paragraph after sits at the top.
        let p = doc.nodes.iter().position(|n| n.tag == "p").unwrap_or(0);
        assert_eq!(doc.nodes[p].parent, None);
    }
}
