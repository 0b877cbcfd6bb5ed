//! The search box's query language, and its two translations: a tantivy query for the
//! embedded index and a PostgreSQL `tsquery` for the shared database. Both engines see
//! the same tokens (jieba's search mode, lower-cased, see [`tokens`]) at the same
//! positions, so the two backends find the same items.
//!
//! The language (lenient: a search box never fails, odd input is read as words):
//! - words side by side must all match: `上犹 补贴`; `AND` / `&` may be written;
//! - `OR` or `|` for either: `补贴 OR 补助`;
//! - `NOT` or a leading `-` to exclude: `补贴 -招聘`, `补贴 NOT 招聘`;
//! - parentheses: `上犹 (补贴 OR 补助)`;
//! - quotes for an exact phrase: `"一卡通补贴"`, also “…” and 「…」.
//!
//! A word is segmented like the indexed text; all of its tokens must occur (in any
//! order), because jieba can cut a word differently inside a sentence than alone.
//! A quoted phrase needs its tokens side by side, in order.
//!
//! Written by hand because neither engine's own syntax is shared by the other, and the
//! watch-rule language lives in `yuqing-judge`, which the store does not depend on.

use std::collections::HashMap;
use std::fmt::Write;

use crate::Backend;
use tantivy::tokenizer::Token;
use yuqing_text::segment::{self, ItemWords};

/// Longest token kept, in characters: a longer run (a base64 blob, a URL) is noise, and
/// PostgreSQL refuses lexemes over 2 KB.
const MAX_TOKEN_CHARS: usize = 64;
/// Most clauses a query may have: a pasted page is not a query.
const MAX_NODES: usize = 64;
/// PostgreSQL keeps positions up to 16,383 and at most 256 per lexeme.
const MAX_POSITION: usize = 16_383;
const MAX_POSITIONS_PER_LEXEME: usize = 255;
/// The tsvector literal stays well under PostgreSQL's 1 MB limit.
const MAX_TSVECTOR_BYTES: usize = 512 * 1024;
/// Positions between the title and the text, so that no phrase spans both.
const TITLE_GAP: usize = 2;

/// Whether a jieba word is a token of the indexes (before lower-casing).
pub(crate) fn keep_token(w: &str) -> bool {
    w.chars().any(char::is_alphanumeric) && w.chars().count() <= MAX_TOKEN_CHARS
}

/// The tokens of a text as both indexes store them.
pub fn tokens(text: &str) -> Vec<String> {
    yuqing_text::segment::search_words(text).into_iter().filter(|w| keep_token(w)).map(str::to_lowercase).collect()
}

/// An item's search tokens, made while it is prepared (on any thread) from the words it
/// was segmented into once: tantivy's tokens on SQLite, the `tsvector` literal on
/// PostgreSQL. The same tokens as [`tokens`] gives.
pub(crate) enum Prepared {
    Index { title: Vec<Token>, content: Vec<Token> },
    Tsvector(String),
}

impl Prepared {
    pub(crate) fn new(backend: Backend, words: &ItemWords, title: &str, content: &str) -> Prepared {
        let title_words = segment::search_words_of(words.title(title));
        let content_words = segment::search_words_of(words.content(content).map(|(_, w)| w));
        match backend {
            Backend::Sqlite => Prepared::Index {
                title: crate::index::index_tokens(title, title_words),
                content: crate::index::index_tokens(content, content_words),
            },
            Backend::Postgres => {
                let kept =
                    |words: Vec<&str>| words.into_iter().filter(|w| keep_token(w)).map(str::to_lowercase).collect();
                Prepared::Tsvector(tsvector_of(kept(title_words), kept(content_words)))
            }
        }
    }

    /// The title's and the text's tokens for the embedded index.
    pub(crate) fn index_tokens(&self) -> Option<(&[Token], &[Token])> {
        match self {
            Prepared::Index { title, content } => Some((title, content)),
            Prepared::Tsvector(_) => None,
        }
    }

    /// The `tsvector` literal of the item whose title and text these are.
    pub(crate) fn tsvector(&self, title: &str, content: &str) -> String {
        match self {
            Prepared::Tsvector(t) => t.clone(),
            Prepared::Index { .. } => tsvector_literal(title, content),
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Every token must occur.
    Word(Vec<String>),
    /// The tokens must occur side by side, in order.
    Phrase(Vec<String>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Text(String),
    Quoted(String),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn lex(q: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Tok>| {
        if !word.is_empty() {
            let w = std::mem::take(word);
            out.push(match w.as_str() {
                "AND" | "&" | "&&" => Tok::And,
                "OR" | "|" | "||" => Tok::Or,
                "NOT" => Tok::Not,
                _ => Tok::Text(w),
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' | '“' | '「' | '”' => {
                flush(&mut word, &mut out);
                let close = match c {
                    '“' => '”',
                    '「' => '」',
                    _ => '"',
                };
                let mut phrase = String::new();
                for d in chars.by_ref() {
                    if d == close || (close == '"' && d == '”') {
                        break;
                    }
                    phrase.push(d);
                }
                out.push(Tok::Quoted(phrase));
            }
            '(' | '（' => {
                flush(&mut word, &mut out);
                out.push(Tok::Open);
            }
            ')' | '）' => {
                flush(&mut word, &mut out);
                out.push(Tok::Close);
            }
            '-' if word.is_empty() => {
                // A leading minus excludes the next clause; `-` inside a word stays.
                if chars.peek().is_some_and(|n| !n.is_whitespace()) {
                    out.push(Tok::Not);
                }
            }
            c if c.is_whitespace() || c == '\u{3000}' => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    nodes: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    // or := and (OR and)*
    fn or(&mut self) -> Option<Node> {
        let mut parts = Vec::new();
        parts.extend(self.and());
        while self.peek() == Some(&Tok::Or) {
            self.i += 1;
            parts.extend(self.and());
        }
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Node::Or(parts)),
        }
    }

    // and := unary ((AND)? unary)*
    fn and(&mut self) -> Option<Node> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::Or) | Some(Tok::Close) => break,
                Some(Tok::And) => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            if let Some(n) = self.unary() {
                parts.push(n);
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Node::And(parts)),
        }
    }

    fn unary(&mut self) -> Option<Node> {
        let tok = self.toks.get(self.i).cloned()?;
        self.i += 1;
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return None;
        }
        match tok {
            Tok::Not => self.unary().map(|n| Node::Not(Box::new(n))),
            Tok::Open => {
                self.depth += 1;
                // Deep nesting is read flat rather than recursed into without end.
                let inner = if self.depth > 16 { None } else { self.or() };
                self.depth -= 1;
                if self.peek() == Some(&Tok::Close) {
                    self.i += 1;
                }
                inner
            }
            Tok::Close | Tok::And | Tok::Or => None,
            Tok::Text(w) => {
                let t = tokens(&w);
                (!t.is_empty()).then_some(Node::Word(t))
            }
            Tok::Quoted(p) => {
                let t = tokens(&p);
                match t.len() {
                    0 => None,
                    1 => Some(Node::Word(t)),
                    _ => Some(Node::Phrase(t)),
                }
            }
        }
    }
}

/// Parses a search-box query; `None` when it has no searchable word (list everything).
pub fn parse(q: &str) -> Option<Node> {
    let mut p = Parser { toks: lex(q), i: 0, nodes: 0, depth: 0 };
    let mut parts = Vec::new();
    while p.i < p.toks.len() {
        match p.or() {
            Some(n) => parts.push(n),
            // A stray `)` or operator: skip it and go on.
            None => p.i += 1,
        }
    }
    let node = match parts.len() {
        0 => return None,
        1 => parts.pop()?,
        _ => Node::And(parts),
    };
    // A query that only excludes (`-招聘`) matches everything else; both engines do so.
    Some(node)
}

// ---- PostgreSQL ------------------------------------------------------------------------

fn quote_lexeme(out: &mut String, t: &str) {
    out.push('\'');
    for c in t.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// The query as `tsquery` text (to be cast with `::tsquery`, no normalisation applied).
pub fn to_tsquery(node: &Node) -> String {
    let mut out = String::new();
    write_tsquery(&mut out, node);
    out
}

fn write_tsquery(out: &mut String, node: &Node) {
    let join = |out: &mut String, parts: &[String], op: &str| {
        out.push('(');
        for (i, t) in parts.iter().enumerate() {
            if i > 0 {
                out.push_str(op);
            }
            quote_lexeme(out, t);
        }
        out.push(')');
    };
    match node {
        Node::Word(t) => join(out, t, " & "),
        Node::Phrase(t) => join(out, t, " <-> "),
        Node::And(parts) | Node::Or(parts) => {
            let op = if matches!(node, Node::And(_)) { " & " } else { " | " };
            out.push('(');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                write_tsquery(out, p);
            }
            out.push(')');
        }
        Node::Not(inner) => {
            out.push('!');
            write_tsquery(out, inner);
        }
    }
}

/// The `tsvector` literal of an item (cast with `::tsvector`): the title's tokens, a gap,
/// then the text's, each with its positions as the embedded index numbers them.
pub fn tsvector_literal(title: &str, content: &str) -> String {
    tsvector_of(tokens(title), tokens(content))
}

/// [`tsvector_literal`] from the title's and the text's tokens.
fn tsvector_of(title_tokens: Vec<String>, content_tokens: Vec<String>) -> String {
    let mut positions: HashMap<String, Vec<usize>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |t: String, pos: usize| {
        let pos = pos.clamp(1, MAX_POSITION);
        match positions.get_mut(&t) {
            Some(p) => {
                if p.len() < MAX_POSITIONS_PER_LEXEME && p.last() != Some(&pos) {
                    p.push(pos);
                }
            }
            None => {
                order.push(t.clone());
                positions.insert(t, vec![pos]);
            }
        }
    };
    let n_title = title_tokens.len();
    for (i, t) in title_tokens.into_iter().enumerate() {
        add(t, i + 1);
    }
    for (i, t) in content_tokens.into_iter().enumerate() {
        add(t, n_title + TITLE_GAP + i + 1);
    }
    let mut out = String::new();
    for t in order {
        if out.len() > MAX_TSVECTOR_BYTES {
            break;
        }
        let Some(p) = positions.get(&t) else { continue };
        if !out.is_empty() {
            out.push(' ');
        }
        quote_lexeme(&mut out, &t);
        out.push(':');
        for (i, n) in p.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{n}");
        }
    }
    out
}

// ---- tantivy ---------------------------------------------------------------------------

pub(crate) mod tantivy_query {
    use super::Node;
    use tantivy::query::{AllQuery, BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
    use tantivy::schema::{Field, IndexRecordOption};
    use tantivy::Term;

    fn term_in(fields: &[Field], t: &str) -> Box<dyn Query> {
        let clauses: Vec<(Occur, Box<dyn Query>)> = fields
            .iter()
            .map(|f| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(Term::from_field_text(*f, t), IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }

    /// The query over `fields` (title and text): a word or phrase matches in either.
    pub(crate) fn build(node: &Node, fields: &[Field]) -> Box<dyn Query> {
        match node {
            Node::Word(t) => {
                let clauses = t.iter().map(|t| (Occur::Must, term_in(fields, t))).collect();
                Box::new(BooleanQuery::new(clauses))
            }
            Node::Phrase(t) => {
                let clauses = fields
                    .iter()
                    .map(|f| {
                        let terms: Vec<Term> = t.iter().map(|t| Term::from_field_text(*f, t)).collect();
                        let q: Box<dyn Query> = Box::new(PhraseQuery::new(terms));
                        (Occur::Should, q)
                    })
                    .collect();
                Box::new(BooleanQuery::new(clauses))
            }
            Node::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for p in parts {
                    match p {
                        Node::Not(inner) => clauses.push((Occur::MustNot, build(inner, fields))),
                        p => clauses.push((Occur::Must, build(p, fields))),
                    }
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Node::Or(parts) => {
                Box::new(BooleanQuery::new(parts.iter().map(|p| (Occur::Should, build(p, fields))).collect()))
            }
            Node::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                (Occur::MustNot, build(inner, fields)),
            ])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Node {
        Node::Word(s.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn words_side_by_side_are_and() {
        assert_eq!(parse("补贴 工资"), Some(Node::And(vec![w(&["补贴"]), w(&["工资"])])));
        assert_eq!(parse("补贴 AND 工资"), parse("补贴 工资"));
        assert_eq!(parse("补贴 & 工资"), parse("补贴 工资"));
    }

    #[test]
    fn or_binds_looser_than_and() {
        assert_eq!(
            parse("上犹 补贴 OR 工资"),
            Some(Node::Or(vec![Node::And(vec![w(&["上犹"]), w(&["补贴"])]), w(&["工资"])]))
        );
        assert_eq!(
            parse("上犹 (补贴 | 工资)"),
            Some(Node::And(vec![w(&["上犹"]), Node::Or(vec![w(&["补贴"]), w(&["工资"])])]))
        );
    }

    #[test]
    fn not_and_minus_exclude() {
        let expect = Some(Node::And(vec![w(&["补贴"]), Node::Not(Box::new(w(&["招聘"])))]));
        assert_eq!(parse("补贴 -招聘"), expect);
        assert_eq!(parse("补贴 NOT 招聘"), expect);
        assert_eq!(parse("-招聘"), Some(Node::Not(Box::new(w(&["招聘"])))));
        // A minus inside a word is part of it.
        assert!(matches!(parse("covid-19"), Some(Node::Word(_))), "{:?}", parse("covid-19"));
    }

    #[test]
    fn quotes_make_phrases() {
        let Some(Node::Phrase(t)) = parse("\"一卡通补贴\"") else { panic!("phrase") };
        assert!(t.len() >= 2, "{t:?}");
        assert!(matches!(parse("“一卡通补贴”"), Some(Node::Phrase(_))));
        assert!(matches!(parse("「一卡通补贴」"), Some(Node::Phrase(_))));
        assert_eq!(parse("\"补贴\""), Some(w(&["补贴"])));
    }

    #[test]
    fn hostile_input_is_read_leniently() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("  ，。！ "), None);
        assert_eq!(parse(") OR ( AND"), None);
        assert_eq!(parse("补贴)"), Some(w(&["补贴"])));
        let deep = format!("{}补贴{}", "(".repeat(10_000), ")".repeat(10_000));
        let _ = parse(&deep);
        let long = "补贴 ".repeat(10_000);
        let Some(Node::And(parts)) = parse(&long) else { panic!("and") };
        assert!(parts.len() <= MAX_NODES);
        assert!(tokens(&"a".repeat(500)).is_empty());
    }

    #[test]
    fn tsquery_text_is_quoted() {
        let q = parse("补贴 -招聘 OR \"一卡通 补贴\"").map(|n| to_tsquery(&n)).unwrap_or_default();
        assert!(q.contains("'补贴'") && q.contains("!(") && q.contains(" | ") && q.contains(" <-> "), "{q}");
        let mut s = String::new();
        quote_lexeme(&mut s, "it's\\");
        assert_eq!(s, "'it''s\\\\'");
    }

    #[test]
    fn tsvector_positions_follow_the_tokens() {
        let v = tsvector_literal("上犹补贴", "补贴发放");
        // Title tokens first, the text after a gap: 补贴 occurs in both.
        assert!(v.contains("'补贴':"), "{v}");
        let long: String = "补贴发放 ".repeat(100_000);
        let v = tsvector_literal("t", &long);
        assert!(v.len() < 2 * MAX_TSVECTOR_BYTES);
        for part in v.split(' ') {
            let n = part.rsplit(':').next().unwrap_or("").split(',').count();
            assert!(n <= MAX_POSITIONS_PER_LEXEME);
        }
    }
}
