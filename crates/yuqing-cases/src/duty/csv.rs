//! Importing a roster from a CSV file, as offices keep rosters in spreadsheets.
//!
//! The splitter is written here rather than taken from the `csv` crate: that crate is
//! not in the workspace's lock file, and what a roster needs — RFC 4180 quoting (`""`
//! inside quotes, commas and line breaks in quoted fields), CRLF or LF, and the line on
//! which each record starts, for the problems — is a few dozen lines.
//!
//! The text must already be decoded: a spreadsheet saved as "CSV" on a Chinese Windows is
//! usually GBK, and the web upload decodes it with `yuqing_text::charset` before calling
//! [`parse_roster_csv`]. A UTF-8 byte-order mark left at the start is skipped.

use super::{
    check_span, check_text, parse_time, DutyError, Shift, MAX_SHIFT_DAYS, MAX_SHIFT_NOTE_CHARS, MAX_USER_CHARS,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// A problem with one line of a roster file. `line` counts from 1 and is the line a
/// record starts on (a quoted field may run over several lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvProblem {
    pub line: usize,
    /// In English.
    pub message: String,
    /// In Chinese, for the UI.
    pub message_zh: String,
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl CsvProblem {
    fn new(line: usize, message: impl Into<String>, message_zh: impl Into<String>) -> CsvProblem {
        CsvProblem { line, message: message.into(), message_zh: message_zh.into() }
    }
}

const HEADERS: &str = "`姓名,开始,结束,备注` or `user,from,to,note`";
const HEADERS_ZH: &str = "“姓名,开始,结束,备注”或“user,from,to,note”";

/// The columns of a roster file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    User,
    From,
    To,
    Note,
}

impl Column {
    const ALL: [Column; 4] = [Column::User, Column::From, Column::To, Column::Note];

    /// The names a header may give the column (compared trimmed, ASCII case ignored).
    fn names(self) -> &'static [&'static str] {
        match self {
            Column::User => &["姓名", "值班人", "值班人员", "人员", "user", "name"],
            Column::From => &["开始", "开始时间", "from", "start"],
            Column::To => &["结束", "结束时间", "to", "end"],
            Column::Note => &["备注", "note", "notes", "remark", "remarks"],
        }
    }

    fn from_name(name: &str) -> Option<Column> {
        let name = name.trim();
        Column::ALL.into_iter().find(|c| c.names().iter().any(|n| n.eq_ignore_ascii_case(name)))
    }

    /// The field name of [`Shift`] and [`DutyError`].
    fn field(self) -> &'static str {
        match self {
            Column::User => "user",
            Column::From => "from",
            Column::To => "to",
            Column::Note => "note",
        }
    }

    fn zh(self) -> &'static str {
        self.names()[0]
    }
}

/// One record of the file and the line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

impl Record {
    fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// Splits CSV text into records (RFC 4180, leniently: spaces before an opening quote
/// are allowed, a quote inside an unquoted field is kept as a character). Problems: a
/// quoted field never closed, text after a closing quote.
fn split_records(text: &str) -> (Vec<Record>, Vec<CsvProblem>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut in_quotes, mut after_quote, mut text_after_quote) = (false, false, false);
    let (mut line, mut record_line) = (1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => (in_quotes, after_quote) = (false, true),
                // A line break inside a quoted field is part of it, as `\n`.
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                fields.push(std::mem::take(&mut field));
                after_quote = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                fields.push(std::mem::take(&mut field));
                records.push(Record { line: record_line, fields: std::mem::take(&mut fields) });
                if text_after_quote {
                    problems.push(text_after_quote_problem(record_line));
                }
                (after_quote, text_after_quote) = (false, false);
                line += 1;
                record_line = line;
            }
            '"' if !after_quote && field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
            }
            _ if after_quote => {
                if !c.is_whitespace() {
                    text_after_quote = true;
                    field.push(c);
                }
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        problems.push(CsvProblem::new(
            record_line,
            "a quoted field is not closed: the rest of the file was read as one field",
            "引号未闭合：其后的内容都被读成了一个字段",
        ));
    } else {
        if text_after_quote {
            problems.push(text_after_quote_problem(record_line));
        }
        if !field.is_empty() || !fields.is_empty() {
            fields.push(field);
            records.push(Record { line: record_line, fields });
        }
    }
    (records, problems)
}

fn text_after_quote_problem(line: usize) -> CsvProblem {
    CsvProblem::new(
        line,
        "text after the closing quote of a field (write a quote inside a quoted field as \"\")",
        "字段的结束引号后还有文字（引号内的引号应写作 \"\"）",
    )
}

/// Reads a roster from CSV text: every problem at once, or every shift.
///
/// - A header row is optional: `姓名,开始,结束,备注` or `user,from,to,note` (also `值班人`,
///   `开始时间`, `结束时间`, `name`, `start`, `end`, `remark`…), in any order, the note
///   column optional. Without one the columns are user, from, to, note.
/// - Times as [`parse_time`] reads them: `2026-11-29 08:00`, `2026/11/29 8:00`, RFC 3339…;
///   local times in `tz`, across DST changes as [`super::local_to_utc`] says.
/// - Quoted fields (with commas, `""`, line breaks), CRLF or LF, a UTF-8 BOM; blank lines
///   are skipped. A missing trailing field is empty; an extra non-empty one is a problem.
/// - Each shift is checked like [`Shift::validate`]; the same shift twice is a problem.
///
/// The names are not checked against the users: this crate knows none, so the caller does.
pub fn parse_roster_csv(text: &str, tz: Tz) -> Result<Vec<Shift>, Vec<CsvProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (records, mut problems) = split_records(text);
    let mut records = records.into_iter().filter(|r| !r.is_blank()).peekable();

    let header = records.next_if(|r| r.fields.iter().any(|f| Column::from_name(f).is_some()));
    let columns = match &header {
        Some(header) => match read_header(header, &mut problems) {
            Some(columns) => columns,
            // Without the columns the rows cannot be read: their problems would be noise.
            None => return Err(problems),
        },
        None => Column::ALL.into_iter().map(Some).collect(),
    };

    let mut shifts = Vec::new();
    let mut seen: HashMap<(String, DateTime<Utc>, DateTime<Utc>), usize> = HashMap::new();
    for (index, record) in records.enumerate() {
        let hint = header.is_none() && index == 0;
        if let Some(shift) = read_row(&record, &columns, tz, hint, &mut problems) {
            let key = (shift.user.clone(), shift.from, shift.to);
            if let Some(first) = seen.get(&key) {
                problems.push(CsvProblem::new(
                    record.line,
                    format!("the same shift as line {first}"),
                    format!("与第 {first} 行的班次重复"),
                ));
            } else {
                seen.insert(key, record.line);
                shifts.push(shift);
            }
        }
    }
    if problems.is_empty() && shifts.is_empty() {
        problems.push(CsvProblem::new(1, "the file has no shifts", "文件中没有值班记录"));
    }
    if problems.is_empty() {
        Ok(shifts)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// The column of each field of the header (`None`: unknown, reported), or `None` when a
/// required column is missing.
fn read_header(header: &Record, problems: &mut Vec<CsvProblem>) -> Option<Vec<Option<Column>>> {
    let mut columns: Vec<Option<Column>> = Vec::new();
    for name in &header.fields {
        let column = Column::from_name(name);
        match column {
            None if name.trim().is_empty() => {}
            None => problems.push(CsvProblem::new(
                header.line,
                format!("unknown column `{}`: the columns are {HEADERS}", name.trim()),
                format!("未知的列“{}”：列名应为{HEADERS_ZH}", name.trim()),
            )),
            Some(c) if columns.contains(&Some(c)) => problems.push(CsvProblem::new(
                header.line,
                format!("the column `{}` is given twice", name.trim()),
                format!("“{}”列重复", name.trim()),
            )),
            Some(_) => {}
        }
        columns.push(column.filter(|c| !columns.contains(&Some(*c))));
    }
    let mut complete = true;
    for required in [Column::User, Column::From, Column::To] {
        if !columns.contains(&Some(required)) {
            complete = false;
            problems.push(CsvProblem::new(
                header.line,
                format!(
                    "the header has no `{}` column ({}): the columns are {HEADERS}",
                    required.field(),
                    required.zh()
                ),
                format!("表头缺少“{}”列：列名应为{HEADERS_ZH}", required.zh()),
            ));
        }
    }
    complete.then_some(columns)
}

/// One row as a shift, or its problems added to `problems`.
fn read_row(
    record: &Record,
    columns: &[Option<Column>],
    tz: Tz,
    header_hint: bool,
    problems: &mut Vec<CsvProblem>,
) -> Option<Shift> {
    let line = record.line;
    let value = |column: Column| -> &str {
        columns.iter().position(|c| *c == Some(column)).and_then(|i| record.fields.get(i)).map_or("", |f| f.trim())
    };
    let before = problems.len();
    let extra = record.fields.iter().skip(columns.len()).filter(|f| !f.trim().is_empty()).count();
    if extra > 0 {
        problems.push(CsvProblem::new(
            line,
            format!("{} fields, but there are {} columns", record.fields.len(), columns.len()),
            format!("有 {} 个字段，但只有 {} 列（含逗号的内容请加英文双引号）", record.fields.len(), columns.len()),
        ));
    }

    let mut errors = Vec::new();
    let (user, note) = (value(Column::User), value(Column::Note));
    check_text("user", user, true, MAX_USER_CHARS, &mut errors);
    check_text("note", note, false, MAX_SHIFT_NOTE_CHARS, &mut errors);
    let mut time = |column: Column| -> Option<DateTime<Utc>> {
        let text = value(column);
        if text.is_empty() {
            errors.push(DutyError::Empty { field: column.field() });
            return None;
        }
        match parse_time(text, tz) {
            Ok(at) => Some(at),
            Err(e) => {
                let (mut en, mut zh) = (format!("{}: {e}", column.field()), format!("{}：{}", column.zh(), e.zh()));
                if header_hint {
                    en.push_str(&format!(" (the first line was read as a shift: a header row is {HEADERS})"));
                    zh.push_str(&format!("（第一行被当作值班记录读取：表头应为{HEADERS_ZH}）"));
                }
                problems.push(CsvProblem::new(line, en, zh));
                None
            }
        }
    };
    let (from, to) = (time(Column::From), time(Column::To));
    if let (Some(from), Some(to)) = (from, to) {
        check_span(from, to, MAX_SHIFT_DAYS, &mut errors);
    }
    problems.extend(errors.iter().map(|e| CsvProblem::new(line, e.to_string(), e.zh())));
    if problems.len() > before {
        return None;
    }
    let (from, to) = (from?, to?);
    match Shift::new(user, from, to, Some(note)) {
        Ok(shift) => Some(shift),
        // The same checks ran above; kept so that a check added to `Shift::validate`
        // cannot let an invalid shift through.
        Err(errors) => {
            problems.extend(errors.iter().map(|e| CsvProblem::new(line, e.to_string(), e.zh())));
            None
        }
    }
}
