//! The spec traceability table, `conformance/spec/mqtt-3.1.1.tsv`, holds what it claims:
//!
//! - one row per numbered statement of MQTT 3.1.1 (OASIS Standard, Appendix B), in order;
//! - every row `tested` by named tests, or `n/a` with its reason; a statement the client must
//!   keep is `n/a` only with a reason that starts `n/a because`;
//! - every named test exists;
//! - every statement the code cites (`[MQTT-3.3.1-4]`) is one the table lists.
//!
//! And the close-reason audit, `conformance/spec/close-reasons.tsv`: every reason the engine
//! gives for ending a connection (each variant of `ConnectionError`, `ProtocolError` and
//! `DecodeError`) has a row naming the trigger, the normative statement the broker broke or
//! the bound the caller set (or why a broker can never cause it), and the tests that show it.
//!
//! `cargo test -p mqtt-conformance --test traceability -- --nocapture` prints the coverage.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The table, from the workspace root.
const TABLE: &str = "conformance/spec/mqtt-3.1.1.tsv";

/// The table's first line.
const HEADER: &str = "id\tkind\tstatus\tevidence\tstatement";

/// The close-reason audit, from the workspace root.
const CLOSES: &str = "conformance/spec/close-reasons.tsv";

/// Its first line.
const CLOSES_HEADER: &str = "reason\ttrigger\tjustification\ttests";

/// The enums whose every variant is a reason the engine may end a connection for: where they
/// are defined, from the workspace root.
const REASONS: [(&str, &str); 3] = [
    ("ConnectionError", "mqtt-core/src/client/event.rs"),
    ("ProtocolError", "mqtt-core/src/client/event.rs"),
    ("DecodeError", "mqtt-core/src/wire/error.rs"),
];

/// The configuration a `bound:` may name: `Config`'s fields.
const CONFIG: &str = "mqtt-core/src/client/config.rs";

/// Where the code that may cite statements lives, from the workspace root.
const CITING: [&str; 3] = ["mqtt-core", "mqtt-tokio", "conformance"];

/// Kinds that are not the client's to keep: server rules, MQTT over WebSocket (6.x), and the
/// conformance clauses (7.x).
const NOT_CLIENT: [&str; 3] = ["server", "ws", "7"];

/// What a client-side kind combines (`S R X`): what the client sends (S), how it reacts (R),
/// closes on (X), its session state (St), a server duty it observes (V).
const CLIENT_TAGS: [&str; 5] = ["S", "R", "X", "St", "V"];

/// The reason a client-side statement is `n/a` must start with this.
const CLIENT_NOT_APPLICABLE: &str = "n/a because";

/// Every numbered statement of Appendix B, in its order: 141 in the OASIS Standard of
/// 29 October 2014 (its PDF and Word editions agree), two spelled as the standard spells them,
/// `3.1.2.7` with a dot and `3-8.3-4` with a dash. Kept apart from the table, so that a row
/// lost, added or moved there shows.
const APPENDIX_B: [&str; 141] = [
    // 1.5.3 UTF-8 strings; 2.2.2 flags; 2.3.1 packet identifiers.
    "MQTT-1.5.3-1",
    "MQTT-1.5.3-2",
    "MQTT-1.5.3-3",
    "MQTT-2.2.2-1",
    "MQTT-2.2.2-2",
    "MQTT-2.3.1-1",
    "MQTT-2.3.1-2",
    "MQTT-2.3.1-3",
    "MQTT-2.3.1-4",
    "MQTT-2.3.1-5",
    "MQTT-2.3.1-6",
    "MQTT-2.3.1-7",
    // 3.1 CONNECT.
    "MQTT-3.1.0-1",
    "MQTT-3.1.0-2",
    "MQTT-3.1.2-1",
    "MQTT-3.1.2-2",
    "MQTT-3.1.2-3",
    "MQTT-3.1.2-4",
    "MQTT-3.1.2-5",
    "MQTT-3.1.2-6",
    "MQTT-3.1.2.7",
    "MQTT-3.1.2-8",
    "MQTT-3.1.2-9",
    "MQTT-3.1.2-10",
    "MQTT-3.1.2-11",
    "MQTT-3.1.2-12",
    "MQTT-3.1.2-13",
    "MQTT-3.1.2-14",
    "MQTT-3.1.2-15",
    "MQTT-3.1.2-16",
    "MQTT-3.1.2-17",
    "MQTT-3.1.2-18",
    "MQTT-3.1.2-19",
    "MQTT-3.1.2-20",
    "MQTT-3.1.2-21",
    "MQTT-3.1.2-22",
    "MQTT-3.1.2-23",
    "MQTT-3.1.2-24",
    "MQTT-3.1.3-1",
    "MQTT-3.1.3-2",
    "MQTT-3.1.3-3",
    "MQTT-3.1.3-4",
    "MQTT-3.1.3-5",
    "MQTT-3.1.3-6",
    "MQTT-3.1.3-7",
    "MQTT-3.1.3-8",
    "MQTT-3.1.3-9",
    "MQTT-3.1.3-10",
    "MQTT-3.1.3-11",
    "MQTT-3.1.4-1",
    "MQTT-3.1.4-2",
    "MQTT-3.1.4-3",
    "MQTT-3.1.4-4",
    "MQTT-3.1.4-5",
    // 3.2 CONNACK.
    "MQTT-3.2.0-1",
    "MQTT-3.2.2-1",
    "MQTT-3.2.2-2",
    "MQTT-3.2.2-3",
    "MQTT-3.2.2-4",
    "MQTT-3.2.2-5",
    "MQTT-3.2.2-6",
    // 3.3 PUBLISH.
    "MQTT-3.3.1-1",
    "MQTT-3.3.1-2",
    "MQTT-3.3.1-3",
    "MQTT-3.3.1-4",
    "MQTT-3.3.1-5",
    "MQTT-3.3.1-6",
    "MQTT-3.3.1-7",
    "MQTT-3.3.1-8",
    "MQTT-3.3.1-9",
    "MQTT-3.3.1-10",
    "MQTT-3.3.1-11",
    "MQTT-3.3.1-12",
    "MQTT-3.3.2-1",
    "MQTT-3.3.2-2",
    "MQTT-3.3.2-3",
    "MQTT-3.3.4-1",
    "MQTT-3.3.5-1",
    "MQTT-3.3.5-2",
    // 3.6 PUBREL to 3.14 DISCONNECT.
    "MQTT-3.6.1-1",
    "MQTT-3.8.1-1",
    "MQTT-3.8.3-1",
    "MQTT-3.8.3-2",
    "MQTT-3.8.3-3",
    "MQTT-3-8.3-4",
    "MQTT-3.8.4-1",
    "MQTT-3.8.4-2",
    "MQTT-3.8.4-3",
    "MQTT-3.8.4-4",
    "MQTT-3.8.4-5",
    "MQTT-3.8.4-6",
    "MQTT-3.9.3-1",
    "MQTT-3.9.3-2",
    "MQTT-3.10.1-1",
    "MQTT-3.10.3-1",
    "MQTT-3.10.3-2",
    "MQTT-3.10.4-1",
    "MQTT-3.10.4-2",
    "MQTT-3.10.4-3",
    "MQTT-3.10.4-4",
    "MQTT-3.10.4-5",
    "MQTT-3.10.4-6",
    "MQTT-3.12.4-1",
    "MQTT-3.14.1-1",
    "MQTT-3.14.4-1",
    "MQTT-3.14.4-2",
    "MQTT-3.14.4-3",
    // 4 Operational behaviour.
    "MQTT-4.1.0-1",
    "MQTT-4.1.0-2",
    "MQTT-4.3.1-1",
    "MQTT-4.3.2-1",
    "MQTT-4.3.2-2",
    "MQTT-4.3.3-1",
    "MQTT-4.3.3-2",
    "MQTT-4.4.0-1",
    "MQTT-4.5.0-1",
    "MQTT-4.5.0-2",
    "MQTT-4.6.0-1",
    "MQTT-4.6.0-2",
    "MQTT-4.6.0-3",
    "MQTT-4.6.0-4",
    "MQTT-4.6.0-5",
    "MQTT-4.6.0-6",
    "MQTT-4.7.1-1",
    "MQTT-4.7.1-2",
    "MQTT-4.7.1-3",
    "MQTT-4.7.2-1",
    "MQTT-4.7.3-1",
    "MQTT-4.7.3-2",
    "MQTT-4.7.3-3",
    "MQTT-4.7.3-4",
    "MQTT-4.8.0-1",
    "MQTT-4.8.0-2",
    // 6 WebSocket; 7 Conformance.
    "MQTT-6.0.0-1",
    "MQTT-6.0.0-2",
    "MQTT-6.0.0-3",
    "MQTT-6.0.0-4",
    "MQTT-7.0.0-1",
    "MQTT-7.0.0-2",
    "MQTT-7.1.1-1",
    "MQTT-7.1.2-1",
];

#[test]
fn every_appendix_b_statement_is_traced_to_tests_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = fs::read_to_string(root.join(TABLE)).unwrap_or_else(|e| panic!("{TABLE}: {e}"));
    let mut problems = Vec::new();
    let rows = parse(&text, &mut problems);
    check_ids(&rows, &mut problems);
    check_rows(&rows, &mut problems);
    check_evidence(&root, &rows, &mut problems);
    let listed: HashSet<&str> = rows.iter().map(|row| row.id).collect();
    check_citations(&root, &listed, &mut problems);
    let coverage = Coverage::of(&rows);
    println!("{TABLE}: {} statements; {coverage}", rows.len());
    assert!(
        problems.is_empty(),
        "{TABLE}: {} problem(s); {coverage}\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_reason_to_close_a_connection_names_its_statement_or_bound_and_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read =
        |path: &str| fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let statements = read(TABLE);
    let mut problems = Vec::new();
    let listed: HashSet<&str> = parse(&statements, &mut problems)
        .iter()
        .map(|row| row.id)
        .collect();
    let config = read(CONFIG);
    let text = read(CLOSES);
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, line)| line) != Some(CLOSES_HEADER) {
        problems.push(format!("the first line must be {CLOSES_HEADER:?}"));
    }
    let mut covered = HashSet::new();
    let mut rows = Vec::new();
    for (index, line) in lines {
        let at = format!("line {}", index + 1);
        let fields: Vec<&str> = line.split('\t').collect();
        let &[reason, trigger, justification, tests] = fields.as_slice() else {
            problems.push(format!(
                "{at}: {} tab-separated fields, not 4",
                fields.len()
            ));
            continue;
        };
        covered.insert(reason);
        if trigger.trim().is_empty() {
            problems.push(format!("{at}: {reason} without a trigger"));
        }
        // A statement the broker broke, a bound the caller set, or why it cannot happen.
        let cited = cited_ids(justification);
        for id in cited.iter().filter(|id| !listed.contains(id.as_str())) {
            problems.push(format!("{at}: {id} is not a statement of {TABLE}"));
        }
        let bounds: Vec<&str> = justification
            .split("bound: ")
            .skip(1)
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
            })
            .collect();
        for bound in &bounds {
            if !config.contains(&format!("pub {bound}:")) {
                problems.push(format!("{at}: bound {bound:?} is not a Config field"));
            }
        }
        let unreachable = justification == "n/a" && trigger.starts_with("Never from a broker");
        // Not closes: the transport's end, the application's, and what is tolerated.
        let own = [
            "ConnectionError::TransportClosed",
            "ConnectionError::Requested",
            "tolerated",
        ];
        if cited.is_empty() && bounds.is_empty() && !unreachable && !own.contains(&reason) {
            problems.push(format!(
                "{at}: {reason}: no statement, bound or reason it cannot happen"
            ));
        }
        rows.push(Row {
            line: index + 1,
            id: reason,
            kind: "X",
            status: "tested",
            evidence: tests,
            statement: trigger,
        });
    }
    check_rows(&rows, &mut problems);
    check_evidence(&root, &rows, &mut problems);
    for (name, path) in REASONS {
        for variant in variants(&read(path), name) {
            let reason = format!("{name}::{variant}");
            if !covered.contains(reason.as_str()) {
                problems.push(format!("{CLOSES}: no row for {reason}"));
            }
        }
    }
    println!("{CLOSES}: {} rows", rows.len());
    assert!(
        problems.is_empty(),
        "{CLOSES}: {} problem(s)\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The variants of `pub enum name` in `source`: the identifiers that start its lines at
/// one indentation level (four spaces), upper case first.
fn variants<'a>(source: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!("pub enum {name} {{");
    let Some(at) = source.find(&start) else {
        panic!("no `{start}`");
    };
    source[at + start.len()..]
        .lines()
        .take_while(|line| *line != "}")
        .filter_map(|line| line.strip_prefix("    "))
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| {
            line.split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("")
        })
        .collect()
}

#[test]
fn cited_statements_are_read_with_their_shorthand_and_the_standards_own_spellings() {
    assert_eq!(
        cited_ids("a [MQTT-4.7.1-1/2/3] b [MQTT-3.3.2-2, MQTT-3-8.3-4] c MQTT-3.1.2.7. MQTT-SN"),
        [
            "MQTT-4.7.1-1",
            "MQTT-4.7.1-2",
            "MQTT-4.7.1-3",
            "MQTT-3.3.2-2",
            "MQTT-3-8.3-4",
            "MQTT-3.1.2.7"
        ]
    );
}

#[test]
fn a_test_is_found_by_its_fn_or_in_a_macro_list_never_by_prose() {
    let source = "async fn plain(x: u8) {}\nboth!(listed, last);\n// mentions prose_only here\n";
    for name in ["plain", "listed", "last"] {
        assert!(defines_test(source, name), "{name}");
    }
    for name in ["prose_only", "lain", "list"] {
        assert!(!defines_test(source, name), "{name}");
    }
}

/// One row of the table.
struct Row<'a> {
    line: usize,
    id: &'a str,
    kind: &'a str,
    status: &'a str,
    evidence: &'a str,
    statement: &'a str,
}

/// The rows after the header; a line without exactly five tab-separated fields is a problem.
fn parse<'a>(text: &'a str, problems: &mut Vec<String>) -> Vec<Row<'a>> {
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, line)| line);
    if header != Some(HEADER) {
        problems.push(format!("the first line must be {HEADER:?}, not {header:?}"));
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let &[id, kind, status, evidence, statement] = fields.as_slice() else {
            problems.push(format!(
                "line {}: {} tab-separated fields, not 5",
                index + 1,
                fields.len()
            ));
            continue;
        };
        rows.push(Row {
            line: index + 1,
            id,
            kind,
            status,
            evidence,
            statement,
        });
    }
    rows
}

/// The table lists exactly Appendix B: nothing missing, nothing else, nothing twice, in order.
fn check_ids(rows: &[Row<'_>], problems: &mut Vec<String>) {
    let known: HashSet<&str> = APPENDIX_B.into_iter().collect();
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for row in rows {
        if !known.contains(row.id) {
            problems.push(format!(
                "line {}: {} is not an Appendix B statement",
                row.line, row.id
            ));
        } else if !seen.insert(row.id) {
            problems.push(format!("line {}: {} is listed twice", row.line, row.id));
        } else {
            order.push(row.id);
        }
    }
    for id in APPENDIX_B.into_iter().filter(|id| !seen.contains(id)) {
        problems.push(format!("{id} is missing"));
    }
    let expected = APPENDIX_B.into_iter().filter(|id| seen.contains(id));
    if let Some((found, wanted)) = order.iter().zip(expected).find(|(a, b)| **a != *b) {
        problems.push(format!(
            "out of Appendix B order: {found} where {wanted} belongs"
        ));
    }
}

/// Every row has a known kind, a statement, and either `tested` with evidence or `n/a` with
/// a reason; a client-side statement is `n/a` only with a reason that starts `n/a because`.
fn check_rows(rows: &[Row<'_>], problems: &mut Vec<String>) {
    for row in rows {
        let at = format!("line {} ({})", row.line, row.id);
        let tags_ok = row.kind.split(' ').all(|tag| CLIENT_TAGS.contains(&tag));
        if !NOT_CLIENT.contains(&row.kind) && !tags_ok {
            problems.push(format!("{at}: unknown kind {:?}", row.kind));
        }
        if row.statement.trim().is_empty() {
            problems.push(format!("{at}: no statement"));
        }
        match row.status {
            "tested" if references(row.evidence).is_empty() => {
                problems.push(format!("{at}: tested, but no test is named"));
            }
            "tested" => {}
            "n/a" if row.evidence.trim().is_empty() => {
                problems.push(format!("{at}: n/a without a reason"));
            }
            "n/a" if is_client(row) && !row.evidence.starts_with(CLIENT_NOT_APPLICABLE) => {
                problems.push(format!(
                    "{at}: a client-side statement is n/a, and its reason does not start \
                     {CLIENT_NOT_APPLICABLE:?}"
                ));
            }
            "n/a" => {}
            other => problems.push(format!("{at}: status {other:?} is neither tested nor n/a")),
        }
    }
}

/// Every test a `tested` row names exists. A reference is `path/from/the/root.rs::name`; the
/// file must exist and define the test by the rule of [`defines_test`].
fn check_evidence(root: &Path, rows: &[Row<'_>], problems: &mut Vec<String>) {
    let mut files: HashMap<&str, Option<String>> = HashMap::new();
    for row in rows.iter().filter(|row| row.status == "tested") {
        for reference in references(row.evidence) {
            let at = format!("line {} ({})", row.line, row.id);
            let Some((path, name)) = reference.split_once("::") else {
                problems.push(format!("{at}: {reference:?} is not path::test_name"));
                continue;
            };
            let source = files
                .entry(path)
                .or_insert_with(|| fs::read_to_string(root.join(path)).ok());
            match source {
                None => problems.push(format!("{at}: {path} does not exist")),
                Some(source) if !defines_test(source, name) => {
                    problems.push(format!("{at}: {path} has no test {name}"));
                }
                Some(_) => {}
            }
        }
    }
}

/// Whether `source` defines the test `name`: as `fn name(` (also `async fn`), or as an entry
/// of a macro's list that generates tests, `name` followed by `,` or `)` (so a name in the
/// `conformance_tests!` list of `conformance/src/lib.rs` counts). The name must be a whole
/// word; in prose it does not count.
fn defines_test(source: &str, name: &str) -> bool {
    if source.contains(&format!("fn {name}(")) {
        return true;
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    source.match_indices(name).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        let after = source[at + name.len()..].trim_start().chars().next();
        !before.is_some_and(word) && matches!(after, Some(',' | ')'))
    })
}

/// Every statement ID cited in the Rust code under [`CITING`] is listed in the table. This
/// file is left out: its [`APPENDIX_B`] is the reference the rows are checked against.
fn check_citations(root: &Path, listed: &HashSet<&str>, problems: &mut Vec<String>) {
    let mut files = Vec::new();
    for dir in CITING {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 10, "no Rust files found under {CITING:?}");
    let this_file = root.join("conformance/tests/traceability.rs");
    for file in files.into_iter().filter(|file| *file != this_file) {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (index, line) in text.lines().enumerate() {
            for id in cited_ids(line) {
                if !listed.contains(id.as_str()) {
                    problems.push(format!(
                        "{shown}:{}: cites {id}, which the table does not list",
                        index + 1
                    ));
                }
            }
        }
    }
}

/// The `*.rs` files under `dir`, skipping build output and hidden directories.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, files);
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
}

/// The statement IDs `line` cites: each `MQTT-` followed by a number, and the shorthand for
/// siblings, `MQTT-4.7.1-2/3` citing `MQTT-4.7.1-2` and `MQTT-4.7.1-3`.
fn cited_ids(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("MQTT-") {
        rest = &rest[at + "MQTT-".len()..];
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        // A sentence may end right after the ID.
        let id = rest[..len].trim_end_matches(['.', '-']);
        found.push(format!("MQTT-{id}"));
        let base = &id[..id.rfind(['-', '.']).map_or(0, |i| i + 1)];
        let mut tail = &rest[id.len()..];
        while let Some(next) = tail.strip_prefix('/') {
            let digits = next
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(next.len());
            if digits == 0 {
                break;
            }
            found.push(format!("MQTT-{base}{}", &next[..digits]));
            tail = &next[digits..];
        }
        rest = &rest[len..];
    }
    found
}

/// The test references of an `evidence` field, separated by `;`.
fn references(evidence: &str) -> Vec<&str> {
    evidence
        .split(';')
        .map(str::trim)
        .filter(|reference| !reference.is_empty())
        .collect()
}

/// Whether a row is a statement the client must keep.
fn is_client(row: &Row<'_>) -> bool {
    !NOT_CLIENT.contains(&row.kind)
}

/// The table's figures.
struct Coverage {
    client: usize,
    tested: usize,
    server: usize,
    not_applicable: usize,
}

impl Coverage {
    fn of(rows: &[Row<'_>]) -> Self {
        let client = rows.iter().filter(|row| is_client(row));
        Self {
            client: client.clone().count(),
            tested: client.filter(|row| row.status == "tested").count(),
            server: rows.iter().filter(|row| row.kind == "server").count(),
            not_applicable: rows.iter().filter(|row| row.status == "n/a").count(),
        }
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = self.tested as f64 * 100.0 / self.client.max(1) as f64;
        write!(
            f,
            "client-side statements: {}, tested: {} ({percent:.1} %); server-only: {}; \
             not applicable: {}",
            self.client, self.tested, self.server, self.not_applicable
        )
    }
}
