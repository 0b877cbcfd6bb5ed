//! The watch-rule query language: a tokenizer, a recursive-descent parser with
//! precedence (NOT > NEAR > AND > OR), and an evaluator over a prepared [`Doc`].
//!
//! ```text
//! query   := or
//! or      := and ( OR and )*
//! and     := near ( [AND] near )*          juxtaposition is AND
//! near    := unary ( NEAR/n unary )*        operands: terms, phrases, OR-groups of them
//! unary   := NOT unary | primary
//! primary := word | "phrase" | ( query )
//! ```
//!
//! Terms are normalised exactly like documents (full-width → half-width, lower-case,
//! whitespace runs → one space), so case, width and spacing never decide a match. A term with a CJK
//! character is a plain substring (Chinese has no spaces to mark word boundaries, and
//! a rule author writing 补贴 wants 农业补贴 too); a Latin/digit term must sit on ASCII
//! letter/digit boundaries, so `mac` does not hit `machine` while `5g` hits `推进5G建设`.

use crate::text::{is_cjk, normalize, token_spans};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Deepest nesting of parentheses and NOTs a query may have.
pub const MAX_DEPTH: usize = 64;
/// Most terms (words and phrases) one query may have.
pub const MAX_TERMS: usize = 256;
/// Largest NEAR distance.
pub const MAX_NEAR: u32 = 1000;
/// Occurrences of one term considered for NEAR. A page repeating a word more than
/// this is not made more relevant by its ten-thousand-and-first repetition, and the
/// cap bounds the work a hostile page can cause.
const MAX_OCCURRENCES: usize = 10_000;

/// A query that could not be parsed: where (a character offset into the query,
/// counting from 0) and why, as one English sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {position}: {message}")]
pub struct RuleError {
    pub position: usize,
    pub message: String,
}

impl RuleError {
    fn new(position: usize, message: impl Into<String>) -> RuleError {
        RuleError { position, message: message.into() }
    }
}

/// One item's text, prepared once and matched against every rule.
#[derive(Debug)]
pub struct Doc {
    /// normalize(title) + "\n" + normalize(content). The newline cannot occur inside
    /// either normalised part, so no term or phrase matches across the seam.
    text: String,
    /// Token byte ranges, built on the first NEAR only: most rules never need them.
    tokens: OnceLock<Vec<(usize, usize)>>,
}

impl Doc {
    pub fn new(title: &str, content: &str) -> Doc {
        let mut text = normalize(title);
        text.push('\n');
        text.push_str(&normalize(content));
        Doc { text, tokens: OnceLock::new() }
    }

    /// The normalised text rules are matched against (title, newline, content).
    pub fn normalized(&self) -> &str {
        &self.text
    }

    fn tokens(&self) -> &[(usize, usize)] {
        self.tokens.get_or_init(|| token_spans(&self.text))
    }
}

/// A normalised term and how it must be matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Term {
    pub(crate) text: String,
    /// Contains a CJK character: plain substring match.
    cjk: bool,
    /// Starts / ends with an ASCII letter or digit: that end needs a boundary.
    lead_alnum: bool,
    tail_alnum: bool,
}

impl Term {
    fn new(text: String) -> Term {
        let cjk = text.chars().any(is_cjk);
        let lead_alnum = text.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let tail_alnum = text.chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        Term { text, cjk, lead_alnum, tail_alnum }
    }

    fn bounded_at(&self, hay: &str, start: usize) -> bool {
        if self.cjk {
            return true;
        }
        let end = start + self.text.len();
        let before_ok =
            !self.lead_alnum || !hay[..start].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        let after_ok = !self.tail_alnum || !hay[end..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        before_ok && after_ok
    }

    pub(crate) fn present_in(&self, hay: &str) -> bool {
        if self.cjk {
            return hay.contains(self.text.as_str());
        }
        hay.match_indices(self.text.as_str()).any(|(s, _)| self.bounded_at(hay, s))
    }

    fn occurrences<'a>(&'a self, hay: &'a str) -> impl Iterator<Item = (usize, usize)> + 'a {
        let len = self.text.len();
        hay.match_indices(self.text.as_str())
            .filter(move |(s, _)| self.bounded_at(hay, *s))
            .map(move |(s, _)| (s, s + len))
            .take(MAX_OCCURRENCES)
    }
}

/// The parsed query. Leaves point into the query's own term table so that a term
/// used several times is searched for once.
#[derive(Debug, Clone)]
pub struct Query {
    root: Node,
    pub(crate) terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Term(usize),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Near(Box<Node>, Box<Node>, u32),
}

impl Node {
    /// Whether the node has positions (needed for a NEAR operand).
    fn positional(&self) -> bool {
        match self {
            Node::Term(_) | Node::Near(..) => true,
            Node::Or(items) => items.iter().all(Node::positional),
            Node::And(_) | Node::Not(_) => false,
        }
    }
}

impl Query {
    pub fn parse(s: &str) -> Result<Query, RuleError> {
        let tokens = lex(s)?;
        let mut p = Parser { toks: &tokens, i: 0, depth: 0, terms: Vec::new(), index: HashMap::new() };
        p.expect_operand(None)?;
        let root = p.parse_or()?;
        if let Some(t) = p.peek() {
            // parse_or only stops early at a `)` it did not open.
            return Err(RuleError::new(t.pos, format!("`{}` has no matching opening parenthesis", t.text)));
        }
        Ok(Query { root, terms: p.terms })
    }

    /// Whether the document satisfies the query.
    pub fn matches(&self, doc: &Doc) -> bool {
        let mut cache = vec![None; self.terms.len()];
        self.eval_with(doc, &mut |i| *cache[i].get_or_insert_with(|| self.terms[i].present_in(&doc.text)))
    }

    /// Evaluates with `present(i)` answering whether term `i` occurs, so that a rule
    /// set can share one answer per distinct term across all its rules.
    pub(crate) fn eval_with(&self, doc: &Doc, present: &mut dyn FnMut(usize) -> bool) -> bool {
        self.eval(&self.root, doc, present)
    }

    fn eval(&self, node: &Node, doc: &Doc, present: &mut dyn FnMut(usize) -> bool) -> bool {
        match node {
            Node::Term(i) => present(*i),
            Node::And(items) => items.iter().all(|n| self.eval(n, doc, present)),
            Node::Or(items) => items.iter().any(|n| self.eval(n, doc, present)),
            Node::Not(inner) => !self.eval(inner, doc, present),
            Node::Near(..) => {
                // Cheap pre-check: a NEAR of absent terms is false without tokenising.
                let mut needed = Vec::new();
                leaves(node, &mut needed);
                if !needed.iter().any(|&i| present(i)) {
                    return false;
                }
                !self.spans(node, doc).is_empty()
            }
        }
    }

    /// Token spans where a positional node occurs, sorted and deduplicated.
    fn spans(&self, node: &Node, doc: &Doc) -> Vec<Span> {
        match node {
            Node::Term(i) => {
                let tokens = doc.tokens();
                self.terms[*i].occurrences(&doc.text).map(|(s, e)| Span::of(tokens, s, e)).collect()
            }
            Node::Or(items) => {
                let mut all: Vec<Span> = items.iter().flat_map(|n| self.spans(n, doc)).collect();
                all.sort_unstable();
                all.dedup();
                all
            }
            Node::Near(a, b, n) => near(&self.spans(a, doc), &self.spans(b, doc), *n as usize),
            // The parser only builds NEAR over positional nodes (Node::positional).
            Node::And(_) | Node::Not(_) => Vec::new(),
        }
    }

    /// The positive terms (not under a NOT), normalised, in order of first
    /// appearance: what a UI highlights in a matched item.
    pub fn terms(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        positive_terms(&self.root, false, &mut |i| {
            let t = &self.terms[i].text;
            if !out.contains(t) {
                out.push(t.clone());
            }
        });
        out
    }
}

/// The query as it was understood, fully parenthesised: `上犹 财政 OR 补贴` prints
/// as `((上犹 AND 财政) OR 补贴)`. Terms print normalised; phrases and words with
/// spaces or operator names are quoted.
impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_node(&self.root, f)
    }
}

impl Query {
    fn write_node(&self, node: &Node, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, items: &[Node], op: &str| {
            f.write_str("(")?;
            for (k, n) in items.iter().enumerate() {
                if k > 0 {
                    write!(f, " {op} ")?;
                }
                self.write_node(n, f)?;
            }
            f.write_str(")")
        };
        match node {
            Node::Term(i) => {
                let t = &self.terms[*i].text;
                let plain = !t.chars().any(|c| c == ' ' || is_paren(c) || is_quote(c))
                    && !matches!(t.as_str(), "and" | "or" | "not" | "&&" | "||")
                    && t != "near"
                    && !t.starts_with("near/");
                if plain {
                    return f.write_str(t);
                }
                // A phrase never contains the closing quote it was written with, so one
                // of the four styles always round-trips.
                let (open, close) = [('"', '"'), ('“', '”'), ('「', '」'), ('『', '』')]
                    .into_iter()
                    .find(|&(_, c)| !t.contains(c))
                    .unwrap_or(('"', '"'));
                write!(f, "{open}{t}{close}")
            }
            Node::And(items) => list(f, items, "AND"),
            Node::Or(items) => list(f, items, "OR"),
            Node::Not(n) => {
                f.write_str("NOT ")?;
                self.write_node(n, f)
            }
            Node::Near(a, b, n) => {
                f.write_str("(")?;
                self.write_node(a, f)?;
                write!(f, " NEAR/{n} ")?;
                self.write_node(b, f)?;
                f.write_str(")")
            }
        }
    }
}

fn leaves(node: &Node, out: &mut Vec<usize>) {
    match node {
        Node::Term(i) => out.push(*i),
        Node::And(items) | Node::Or(items) => items.iter().for_each(|n| leaves(n, out)),
        Node::Not(n) => leaves(n, out),
        Node::Near(a, b, _) => {
            leaves(a, out);
            leaves(b, out);
        }
    }
}

fn positive_terms(node: &Node, negated: bool, f: &mut dyn FnMut(usize)) {
    match node {
        Node::Term(i) => {
            if !negated {
                f(*i)
            }
        }
        Node::And(items) | Node::Or(items) => items.iter().for_each(|n| positive_terms(n, negated, f)),
        Node::Not(n) => positive_terms(n, !negated, f),
        Node::Near(a, b, _) => {
            positive_terms(a, negated, f);
            positive_terms(b, negated, f);
        }
    }
}

/// A run of tokens, by index: where a term (or a NEAR of terms) occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    first: usize,
    last: usize,
}

impl Span {
    /// The tokens a byte range covers. A match made only of punctuation covers no
    /// token; it is placed at the next token so that distances stay meaningful.
    fn of(tokens: &[(usize, usize)], start: usize, end: usize) -> Span {
        let first = tokens.partition_point(|t| t.1 <= start);
        let after = tokens.partition_point(|t| t.0 < end);
        let last = if after > first { after - 1 } else { first };
        Span { first, last }
    }

    fn len(self) -> usize {
        self.last - self.first
    }

    /// Token distance: 0 when the spans overlap, 1 when adjacent.
    fn gap(self, other: Span) -> usize {
        // Saturating: at most one of the two is non-zero, and both are zero on overlap.
        self.first.saturating_sub(other.last).max(other.first.saturating_sub(self.last))
    }

    fn join(self, other: Span) -> Span {
        Span { first: self.first.min(other.first), last: self.last.max(other.last) }
    }
}

/// For each occurrence of `a`, the tightest joined span with an occurrence of `b`
/// within `n` tokens. Keeping only the tightest pair per `a` bounds the output (and so
/// the work of chained NEARs) by |a|; it is exact for a single NEAR and a close
/// approximation for chains.
fn near(a: &[Span], b: &[Span], n: usize) -> Vec<Span> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let widest_b = b.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = Vec::new();
    for &x in a {
        // b is sorted by `first`; nothing starting before `lo` can reach x.
        let lo = x.first.saturating_sub(n + widest_b);
        let start = b.partition_point(|s| s.first < lo);
        let mut best: Option<Span> = None;
        for &y in &b[start..] {
            if y.first > x.last + n {
                break;
            }
            if x.gap(y) <= n {
                let joined = x.join(y);
                if best.is_none_or(|b| joined.len() < b.len()) {
                    best = Some(joined);
                }
            }
        }
        out.extend(best);
    }
    out.sort_unstable();
    out.dedup();
    out
}

// ---------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Near(u32),
    /// A bare word or a phrase, normalised.
    Term(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Character offset in the query.
    pos: usize,
    /// As written, for messages.
    text: String,
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        '「' => Some('」'),
        '『' => Some('』'),
        _ => None,
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '「' | '」' | '『' | '』')
}

/// Full-width parentheses are accepted too: a Chinese input method types them
/// unless the user switches it off, and they are never meant as search terms.
fn is_paren(c: char) -> bool {
    matches!(c, '(' | ')' | '（' | '）')
}

fn lex(s: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut terms = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = if c == '(' || c == '（' {
            i += 1;
            Tok::LParen
        } else if c == ')' || c == '）' {
            i += 1;
            Tok::RParen
        } else if let Some(close) = closing_quote(c) {
            let Some(len) = chars[i + 1..].iter().position(|&d| d == close) else {
                return Err(RuleError::new(
                    start,
                    format!("the quote {c} opened here is never closed; add a closing {close}"),
                ));
            };
            let inner: String = chars[i + 1..i + 1 + len].iter().collect();
            i += len + 2;
            let phrase = normalize(&inner);
            if phrase.is_empty() {
                return Err(RuleError::new(
                    start,
                    "the quoted phrase is empty; put words inside the quotes or remove them",
                ));
            }
            Tok::Term(phrase)
        } else if is_quote(c) {
            return Err(RuleError::new(start, format!("the closing quote {c} has no opening quote before it")));
        } else {
            let len = chars[i..]
                .iter()
                .position(|&d| d.is_whitespace() || is_paren(d) || is_quote(d))
                .unwrap_or(chars.len() - i);
            let word: String = chars[i..i + len].iter().collect();
            i += len;
            match word.as_str() {
                "AND" | "&&" => Tok::And,
                "OR" | "||" => Tok::Or,
                "NOT" => Tok::Not,
                w if w == "NEAR" || w.starts_with("NEAR/") => Tok::Near(near_distance(w, start)?),
                w => {
                    let t = normalize(w);
                    if t.is_empty() {
                        // Only invisible characters: nothing to match, nothing to say.
                        continue;
                    }
                    Tok::Term(t)
                }
            }
        };
        if matches!(tok, Tok::Term(_)) {
            terms += 1;
            if terms > MAX_TERMS {
                return Err(RuleError::new(
                    start,
                    format!("the query has more than {MAX_TERMS} words and phrases; split it into several rules"),
                ));
            }
        }
        out.push(Token { tok, pos: start, text: chars[start..i].iter().collect() });
    }
    Ok(out)
}

fn near_distance(word: &str, pos: usize) -> Result<u32, RuleError> {
    let digits = word.strip_prefix("NEAR/").unwrap_or("");
    let n = if !digits.is_empty() && digits.len() <= 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<u32>().ok()
    } else {
        None
    };
    match n {
        Some(n) if (1..=MAX_NEAR).contains(&n) => Ok(n),
        _ => Err(RuleError::new(
            pos,
            format!("`{word}` needs a distance from 1 to {MAX_NEAR} tokens after the slash, like NEAR/5"),
        )),
    }
}

// ---------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
    depth: usize,
    terms: Vec<Term>,
    index: HashMap<String, usize>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn next_is(&self, f: impl Fn(&Tok) -> bool) -> bool {
        self.peek().is_some_and(|t| f(&t.tok))
    }

    fn starts_operand(tok: &Tok) -> bool {
        matches!(tok, Tok::Term(_) | Tok::LParen | Tok::Not)
    }

    /// Checks that the next token can begin an operand, and if not explains what is
    /// missing in terms of the token before it (`after`).
    fn expect_operand(&self, after: Option<&Token>) -> Result<(), RuleError> {
        let next = self.peek();
        if next.is_some_and(|t| Self::starts_operand(&t.tok)) {
            return Ok(());
        }
        let nothing_after = |op: &Token| {
            RuleError::new(
                op.pos,
                format!("`{}` has nothing after it; add a word or phrase after it or remove it", op.text),
            )
        };
        Err(match (after, next) {
            (None, None) => RuleError::new(0, "the query is empty; write at least one word"),
            (Some(op), None) if op.tok == Tok::LParen => {
                RuleError::new(op.pos, "this opening parenthesis is never closed; add a `)`")
            }
            (Some(op), None) => nothing_after(op),
            (Some(op), Some(t)) if op.tok == Tok::LParen && t.tok == Tok::RParen => {
                RuleError::new(op.pos, "these parentheses are empty; put a word or phrase inside them")
            }
            (None, Some(t)) if t.tok == Tok::RParen => {
                RuleError::new(t.pos, "this `)` has no matching opening parenthesis")
            }
            (Some(op), Some(t)) if t.tok == Tok::RParen => nothing_after(op),
            (Some(op), Some(t)) if op.tok != Tok::LParen => RuleError::new(
                t.pos,
                format!("`{}` follows `{}` directly; put a word or phrase between them", t.text, op.text),
            ),
            (_, Some(t)) => {
                RuleError::new(t.pos, format!("`{}` has nothing before it; add a word or phrase before it", t.text))
            }
        })
    }

    fn parse_or(&mut self) -> Result<Node, RuleError> {
        let mut items = vec![self.parse_and()?];
        while let Some(op) = self.peek().filter(|t| t.tok == Tok::Or).cloned() {
            self.i += 1;
            self.expect_operand(Some(&op))?;
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 { items.swap_remove(0) } else { Node::Or(items) })
    }

    fn parse_and(&mut self) -> Result<Node, RuleError> {
        let mut items = vec![self.parse_near()?];
        loop {
            if let Some(op) = self.peek().filter(|t| t.tok == Tok::And).cloned() {
                self.i += 1;
                self.expect_operand(Some(&op))?;
            } else if !self.next_is(Self::starts_operand) {
                break;
            }
            items.push(self.parse_near()?);
        }
        Ok(if items.len() == 1 { items.swap_remove(0) } else { Node::And(items) })
    }

    fn parse_near(&mut self) -> Result<Node, RuleError> {
        let mut left = self.parse_unary()?;
        while let Some(op) = self.peek().filter(|t| matches!(t.tok, Tok::Near(_))).cloned() {
            let Tok::Near(n) = op.tok else { break };
            self.i += 1;
            self.expect_operand(Some(&op))?;
            let right = self.parse_unary()?;
            if !left.positional() || !right.positional() {
                return Err(RuleError::new(
                    op.pos,
                    format!(
                        "`{}` can only join words, phrases or parenthesised OR-groups of them, not NOT or AND",
                        op.text
                    ),
                ));
            }
            left = Node::Near(Box::new(left), Box::new(right), n);
        }
        Ok(left)
    }

    fn enter(&mut self, tok: &Token) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::new(
                tok.pos,
                format!("the query nests more than {MAX_DEPTH} levels deep here; simplify it"),
            ));
        }
        Ok(())
    }

    fn parse_unary(&mut self) -> Result<Node, RuleError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(RuleError::new(0, "the query ends where a word was expected"));
        };
        match &tok.tok {
            Tok::Not => {
                self.enter(&tok)?;
                self.i += 1;
                self.expect_operand(Some(&tok))?;
                let inner = self.parse_unary()?;
                self.depth -= 1;
                Ok(Node::Not(Box::new(inner)))
            }
            Tok::LParen => {
                self.enter(&tok)?;
                self.i += 1;
                self.expect_operand(Some(&tok))?;
                let inner = self.parse_or()?;
                if !self.next_is(|t| *t == Tok::RParen) {
                    return Err(RuleError::new(tok.pos, "this opening parenthesis is never closed; add a `)`"));
                }
                self.i += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Term(text) => {
                self.i += 1;
                let next_id = self.terms.len();
                let id = *self.index.entry(text.clone()).or_insert(next_id);
                if id == next_id {
                    self.terms.push(Term::new(text.clone()));
                }
                Ok(Node::Term(id))
            }
            // expect_operand ran before every call, so the token starts an operand.
            _ => Err(RuleError::new(tok.pos, format!("`{}` cannot start an expression here", tok.text))),
        }
    }
}
