//! The HTML rendering: one self-contained file for readers, with a timeline of violations.
//!
//! Everything is inline (styles, the timeline as SVG, a few lines of script), nothing is
//! loaded from anywhere, and every table renders and prints without JavaScript: the script
//! only adds sorting and filtering. The markup is well-formed XML (quoted attributes, closed
//! elements), so that a test can parse it. Event data is untrusted and always escaped. Like the
//! other formats it is rendered from the versioned [`Report`] alone, through its sections
//! (`sections.rs`): this module decides only the markup, the escaping and the drawings' geometry.

use std::io::{self, Write};

use super::sections::{Piece, Rendering, Violation, sections};
use super::{Report, ViolationSource};

mod labels;
mod map;
mod timeline;

// `high` in #a40, 5.9:1 against white (#c50 had 4.3:1, under WCAG AA's 4.5:1 for text). The
// contents' links at least 24 px high, as WCAG 2.2's target size asks (axe-core's `target-size`
// had found them 19 px high, one right above the next, too small for a finger).
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#111;max-width:80em}\
.contents a{display:inline-block;min-height:24px;line-height:1.5}\
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}\
th,td{border:1px solid #bbb;padding:0.25em 0.5em;text-align:left;vertical-align:top}\
th{background:#eee;cursor:pointer}td.n{text-align:right}\
.critical{color:#a00;font-weight:bold}.high{color:#a40}.hyp{color:#555;font-style:italic}\
code{font-size:0.95em}svg text{font-size:10px}\
@media print{input,.noprint{display:none}th{cursor:auto}body{margin:0}}";

// Sorting: by a cell's `data-sort` where it has one (a severity's rank), else its text; as
// numbers only when both texts are whole numbers (`parseFloat` had read "2024-05-02T…" as
// 2024, so times sorted by year alone), else as text (times and days are ISO 8601, which
// sorts as text). Headers take the keyboard too (Enter, Space) and say how they sort
// (`aria-sort`).
const SCRIPT: &str = "for(const t of document.querySelectorAll('table.sortable')){\
const h=t.tHead.rows[0].cells,k=c=>c.dataset.sort??c.innerText,\
n=s=>s.trim()!==''&&isFinite(Number(s))?Number(s):NaN;\
for(let i=0;i<h.length;i++){const go=()=>{\
const b=t.tBodies[0],r=[...b.rows],d=h[i].dataset.dir==='a'?'d':'a';h[i].dataset.dir=d;\
for(const o of h)o.removeAttribute('aria-sort');h[i].setAttribute('aria-sort',d==='a'?'ascending':'descending');\
r.sort((x,y)=>{const p=k(x.cells[i]),q=k(y.cells[i]),np=n(p),nq=n(q);\
const c=(!isNaN(np)&&!isNaN(nq))?np-nq:p.localeCompare(q);return d==='a'?c:-c});\
r.forEach(e=>b.appendChild(e))};h[i].tabIndex=0;h[i].addEventListener('click',go);\
h[i].addEventListener('keydown',e=>{if(e.key==='Enter'||e.key===' '){e.preventDefault();go()}})}}\
const f=document.getElementById('filter');if(f){f.hidden=false;f.addEventListener('input',()=>{\
const w=f.value.toLowerCase();for(const r of document.querySelectorAll('#violations tbody tr')){\
r.style.display=r.innerText.toLowerCase().includes(w)?'':'none'}})}";

pub(super) fn write(
    report: &Report,
    violations: &dyn ViolationSource,
    rendering: Rendering,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = sections(report, violations, rendering);
    let periods = s.periods()?;
    let h = &s.heading;
    let titles: Vec<String> = h.titles.iter().map(|t| esc(t)).collect();
    writeln!(out, "<!DOCTYPE html>")?;
    // A viewport, so that a phone shows the page at its width rather than zoomed out.
    writeln!(
        out,
        "<html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
    )?;
    writeln!(
        out,
        "<title>Violation report: {}</title>",
        titles.join("; ")
    )?;
    writeln!(
        out,
        "<style>/*<![CDATA[*/{STYLE}/*]]>*/</style></head><body><main>"
    )?;
    writeln!(out, "<h1>Violation report: {}</h1>", titles.join("; "))?;
    writeln!(
        out,
        "<p>pactum {}, report format {}. ",
        esc(h.pactum_version),
        h.report_version
    )?;
    match &h.period {
        Some(p) => writeln!(
            out,
            "Events from <b>{}</b> to <b>{}</b>: {}, {} violation(s).</p>",
            esc(&p.first),
            esc(&p.last),
            h.events_judged(),
            h.violations
        )?,
        None => writeln!(out, "No event was judged.</p>")?,
    }
    if let Some(zone) = h.zone_words() {
        writeln!(out, "<p>{}</p>", esc(&zone))?;
    }
    if !s.options.is_empty() {
        let options: Vec<String> = s.options.iter().map(|o| words(o)).collect();
        writeln!(out, "<p>Options: {}.</p>", options.join("; "))?;
    }

    // A table of contents, as the Markdown's.
    let mut contents = vec![
        ("agreements", "Agreements"),
        ("inputs", "Inputs"),
        ("summary", "Summary"),
        ("incidents", "Incidents"),
        ("violations-section", "Violations"),
    ];
    for (present, link) in [
        (!s.open.is_empty(), ("open-obligations", "Open obligations")),
        (!s.errors.is_empty(), ("rule-errors", "Rule errors")),
        (
            !s.off_vocabulary.is_empty(),
            ("data-outside-the-vocabulary", "Data outside the vocabulary"),
        ),
        (!s.skipped.is_empty(), ("skipped-lines", "Skipped lines")),
        (!s.late.is_empty(), ("late-events", "Late events")),
    ] {
        if present {
            contents.push(link);
        }
    }
    let links: Vec<String> = contents
        .iter()
        .map(|(id, name)| format!("<li><a href=\"#{id}\">{name}</a></li>"))
        .collect();
    writeln!(
        out,
        "<nav aria-label=\"Contents\"><strong>Contents</strong><ul class=\"contents\">{}</ul></nav>",
        links.join("")
    )?;

    // The same columns as the Markdown's (issue 13: the HTML had left out the period in
    // force, an input's blank lines and its mapping).
    writeln!(out, "<h2 id=\"agreements\">Agreements</h2>")?;
    writeln!(
        out,
        "<table><thead><tr><th>id</th><th>title</th><th>rule file</th><th>SHA-256</th><th>in force</th></tr></thead><tbody>"
    )?;
    for a in &s.agreements {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(a.id),
            esc(a.title),
            esc(a.file),
            esc(a.sha256),
            esc(&a.in_force)
        )?;
        for g in a.geography {
            writeln!(
                out,
                "<tr><td></td><td>geography</td><td>{}</td><td><code>{}</code></td><td></td></tr>",
                esc(&g.file),
                esc(&g.sha256)
            )?;
        }
        for v in a.vocabulary {
            writeln!(
                out,
                "<tr><td></td><td>vocabulary</td><td>{}</td><td><code>{}</code></td><td></td></tr>",
                esc(&v.file),
                esc(&v.sha256)
            )?;
        }
    }
    writeln!(out, "</tbody></table>")?;

    writeln!(out, "<h2 id=\"inputs\">Inputs</h2>")?;
    writeln!(
        out,
        "<table><thead><tr><th>file</th><th>SHA-256</th><th>lines</th><th>events</th><th>skipped</th><th>blank</th><th>mapping</th></tr></thead><tbody>"
    )?;
    for i in s.inputs {
        let mapping = i
            .mapping
            .as_ref()
            .map(|m| {
                format!(
                    "<code>{}</code> ({}, <code>{}</code>)",
                    esc(&m.id),
                    esc(&m.file),
                    esc(&m.sha256)
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{mapping}</td></tr>",
            esc(&i.file),
            esc(&i.sha256),
            i.lines,
            i.events,
            i.skipped,
            i.blank
        )?;
    }
    writeln!(out, "</tbody></table>")?;

    writeln!(out, "<h2 id=\"summary\">Summary</h2>")?;
    let sentences: Vec<String> = s.tally.evidence_sentences();
    writeln!(
        out,
        "<p>{}.{}</p>",
        s.tally.words(),
        sentences
            .iter()
            .map(|sentence| format!(" {}", esc(sentence)))
            .collect::<String>()
    )?;
    timeline::draw(&periods, out)?;
    map::draw(&s, out)?;
    // The summary's parts under the headings the Markdown gives them, so that the two
    // documents have the same sections (a trial compares them section by section).
    writeln!(out, "<h3 id=\"by-term\">By term</h3>")?;
    writeln!(
        out,
        "<table class=\"sortable\" id=\"terms\"><thead><tr><th>term</th><th>severity</th><th>judged</th><th>out of period</th><th>violations</th><th>errors</th></tr></thead><tbody>"
    )?;
    for t in &s.terms {
        writeln!(
            out,
            "<tr><td><code>{}</code> {}</td><td data-sort=\"{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&t.clause),
            esc(t.title),
            rank(&t.severity.to_string()),
            t.severity,
            t.evaluated,
            t.out_of_period,
            t.violations,
            t.errors
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    // The notes about the terms, after their table as in the Markdown: events without a
    // position, events whose key was `()` (the latter had been left out, issue 13).
    for note in &s.notes {
        writeln!(out, "<p>{}</p>", words(&note.words()))?;
    }
    if !s.parties.is_empty() {
        writeln!(out, "<h3 id=\"by-party\">By party</h3>")?;
        let claims = s.has_claims();
        let more = if claims {
            "<th>alleges</th><th>denies</th>"
        } else {
            ""
        };
        writeln!(
            out,
            "<table class=\"sortable\" id=\"parties\"><thead><tr><th>party</th><th>violations</th>{more}</tr></thead><tbody>"
        )?;
        for p in &s.parties {
            let more = if claims {
                format!(
                    "<td class=\"n\">{}</td><td class=\"n\">{}</td>",
                    p.alleges, p.denies
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td>{more}</tr>",
                esc(p.party),
                p.violations
            )?;
        }
        writeln!(out, "</tbody></table>")?;
        if let Some(shared) = s.shared_words() {
            writeln!(out, "<p>{}</p>", esc(&shared))?;
        }
    }

    if !periods.rows.is_empty() {
        let unit = periods.unit.name();
        writeln!(out, "<h3 id=\"by-period\">By {unit}</h3>")?;
        writeln!(out, "<p>{}</p>", esc(&periods.words()))?;
        writeln!(
            out,
            "<table class=\"sortable\" id=\"periods\"><thead><tr><th>{unit}</th><th>violations</th><th>change</th><th>parties</th><th>terms</th></tr></thead><tbody>"
        )?;
        for period in &periods.rows {
            let parties: Vec<String> = period
                .parties
                .iter()
                .map(|(party, n)| format!("{} {n}", esc(party)))
                .collect();
            let terms: Vec<String> = period
                .terms
                .iter()
                .map(|(term, n)| format!("<code>{}</code> {n}", esc(term)))
                .collect();
            writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\" data-sort=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&period.label),
                period.total,
                period.change.unwrap_or(0),
                esc(&period.change_words()),
                parties.join(", "),
                terms.join(", ")
            )?;
        }
        writeln!(out, "</tbody></table>")?;
        // The party × term matrix (as in the Markdown).
        writeln!(
            out,
            "<h3 id=\"matrix\">Parties and terms, by {unit}</h3><p>Each party's violations of each term per {unit}, for the {unit}s in which it was in breach or had been the {unit} before; the change is from its violations the {unit} before.</p>"
        )?;
        write!(
            out,
            "<table class=\"sortable\" id=\"matrix-table\"><thead><tr><th>{unit}</th><th>party</th>"
        )?;
        for term in &periods.terms {
            write!(out, "<th><code>{}</code></th>", esc(term))?;
        }
        writeln!(out, "<th>total</th><th>change</th></tr></thead><tbody>")?;
        for (label, row) in periods.matrix_rows() {
            write!(
                out,
                "<tr><td>{}</td><td>{}</td>",
                esc(label),
                esc(&row.party)
            )?;
            for n in &row.counts {
                write!(out, "<td class=\"n\">{n}</td>")?;
            }
            writeln!(
                out,
                "<td class=\"n\">{}</td><td class=\"n\" data-sort=\"{}\">{}</td></tr>",
                row.total,
                row.change.unwrap_or(0),
                esc(&row.change_words())
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    // Two passes over the violations: the number of incidents first (whether there are any,
    // and below whether they group violations), then their rows; none is held.
    let incident_count = s.incident_count()?;
    writeln!(out, "<h2 id=\"incidents\">Incidents</h2>")?;
    writeln!(
        out,
        "<p>A term's violations for one key and the same parties, none more than {} after the one before; listed as they ended.</p>",
        esc(&s.incident_gap_words())
    )?;
    if incident_count == 0 {
        writeln!(out, "<p>None.</p>")?;
    } else {
        writeln!(
            out,
            "<table class=\"sortable\" id=\"incidents\"><thead><tr><th>#</th><th>term</th><th>severity</th><th>party</th><th>key</th><th>first</th><th>last</th><th>violations</th><th>peak</th><th>opened by</th></tr></thead><tbody>"
        )?;
        s.each_incident(&mut |i| {
            writeln!(
                out,
                "<tr><td class=\"n\">{}</td><td><code>{}</code> {}</td><td class=\"{}\" data-sort=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                i.number,
                esc(&i.clause),
                esc(&i.title),
                i.severity,
                rank(&i.severity.to_string()),
                i.severity,
                esc(&i.party),
                esc(i.key.as_deref().unwrap_or("")),
                esc(&i.first),
                esc(&i.last),
                i.violations,
                esc(i.peak.as_deref().unwrap_or("")),
                esc(&i.opened_by.join(", "))
            )
        })?;
        writeln!(out, "</tbody></table>")?;
    }
    writeln!(out, "<h2 id=\"violations-section\">Violations</h2>")?;
    let count = s.violations.count();
    // Incidents come first; where they group violations, the violations one by one are
    // folded away (a threshold's burst is one incident and thousands of violations). A link
    // to a row (the map's) opens the fold.
    let folded = (incident_count) < count;
    if folded {
        writeln!(
            out,
            "<details id=\"violations-one-by-one\"><summary>{count} violations, one by one</summary>"
        )?;
    }
    writeln!(
        out,
        "<p class=\"noprint\"><input id=\"filter\" type=\"search\" placeholder=\"filter\" hidden=\"hidden\"/></p>"
    )?;
    writeln!(
        out,
        "<table class=\"sortable\" id=\"violations\"><thead><tr><th>#</th><th>time</th><th>clause</th><th>party</th><th>severity</th><th>place</th><th>message</th><th>evidence</th></tr></thead><tbody>"
    )?;
    s.each_violation(&mut |v| violation(out, v))?;
    writeln!(out, "</tbody></table>")?;
    if folded {
        writeln!(out, "</details>")?;
    }

    if !s.open.is_empty() {
        writeln!(
            out,
            "<h2 id=\"open-obligations\">Open obligations</h2><p>Due after the last event: neither kept nor broken.</p>"
        )?;
        writeln!(
            out,
            "<table><thead><tr><th>term</th><th>opened by</th><th>due</th></tr></thead><tbody>"
        )?;
        for o in &s.open {
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code> ({})</td><td>{}</td></tr>",
                esc(&o.clause),
                esc(o.trigger),
                esc(&o.at),
                esc(&o.due)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    if !s.errors.is_empty() {
        writeln!(out, "<h2 id=\"rule-errors\">Rule errors</h2>")?;
        writeln!(
            out,
            "<table><thead><tr><th>term</th><th>events</th><th>first</th><th>message</th></tr></thead><tbody>"
        )?;
        for e in &s.errors {
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td><code>{}</code> ({})</td><td>{}</td></tr>",
                esc(&e.clause),
                e.count,
                esc(e.event),
                esc(&e.at),
                esc(&e.message)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    // Skipped lines and late events as the Markdown gives them (issue 13: the HTML had left
    // out the column of a skipped line and the late events of a stream).
    if !s.off_vocabulary.is_empty() {
        writeln!(
            out,
            "<h2 id=\"data-outside-the-vocabulary\">Data outside the vocabulary</h2><p>Events the vocabulary does not describe: a term that reads a value contradicting its declaration fails on that event (rule errors).</p>"
        )?;
        writeln!(
            out,
            "<table><thead><tr><th>first</th><th>found</th><th>events</th></tr></thead><tbody>"
        )?;
        for o in &s.off_vocabulary {
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&o.at),
                words(&o.what),
                o.events
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    if !s.skipped.is_empty() {
        writeln!(out, "<h2 id=\"skipped-lines\">Skipped lines</h2>")?;
        writeln!(
            out,
            "<table><thead><tr><th>where</th><th>reason</th></tr></thead><tbody>"
        )?;
        for k in &s.skipped {
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&k.at),
                esc(k.reason)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    if !s.late.is_empty() {
        writeln!(
            out,
            "<h2 id=\"late-events\">Late events</h2><p>Came on a stream after the reorder buffer had passed their time: judged on arrival.</p>"
        )?;
        writeln!(
            out,
            "<table><thead><tr><th>event</th><th>where</th><th>time</th></tr></thead><tbody>"
        )?;
        for l in &s.late {
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(l.event),
                esc(&l.at),
                esc(&l.time)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    // In CDATA, so that the file stays well-formed XML (`<` and `&&` in the script).
    writeln!(out, "<script>//<![CDATA[\n{SCRIPT}\n//]]></script>")?;
    // The page's content is one landmark, for screen readers' navigation.
    writeln!(out, "</main></body></html>")
}

/// A severity's rank, for sorting by it (alphabetically, `critical` came before `low`).
fn rank(severity: &str) -> u8 {
    match severity {
        "low" => 0,
        "medium" => 1,
        "high" => 2,
        "critical" => 3,
        _ => 4,
    }
}

fn violation(out: &mut dyn Write, v: &Violation<'_>) -> io::Result<()> {
    let clause = match v.article {
        Some(article) => format!("{} ({})", esc(v.title), esc(article)),
        None => esc(v.title),
    };
    // The clause's own words under its title, as the Markdown's "Clause text".
    let clause = match v.clause_text {
        Some(text) => format!("{clause}<br/><q>{}</q>", esc(text)),
        None => clause,
    };
    // Place, coordinates, country and distances, as the Markdown gives them.
    let mut place = Vec::new();
    place.extend(v.place.map(esc));
    place.extend(v.coordinates.clone());
    place.extend(v.country.map(esc));
    place.extend(v.near.iter().map(|w| esc(w)));
    let mut evidence: Vec<String> = v
        .evidence
        .iter()
        .map(|e| {
            // As the Markdown: id, place, kind, time and source, the source a link when it is
            // a web address (shown as well, so that a printed page keeps it).
            let source = match e.source {
                Some(source) if web(source) => {
                    format!(", source: <a href=\"{}\">{}</a>", esc(source), esc(source))
                }
                Some(source) => format!(", source: {}", esc(source)),
                None => String::new(),
            };
            let id = format!(
                "<code>{}</code> ({}), {} {}{source}",
                esc(e.id),
                esc(&e.at),
                esc(e.kind),
                esc(&e.time)
            );
            let id = match e.verification_mark() {
                Some(mark) => format!("{id} <strong>{mark}</strong>"),
                None => id,
            };
            let account = e.account_words();
            let id = if account.is_empty() {
                id
            } else {
                format!("{id}<br/><small>{}</small>", esc(&account))
            };
            if e.hypothetical {
                format!("<span class=\"hyp\">{id} HYPOTHETICAL</span>")
            } else {
                id
            }
        })
        .collect();
    evidence.extend(v.window.as_ref().map(|w| format!("({})", esc(w))));
    if !v.claims.is_empty() {
        // Side by side: who alleges beside who denies.
        let said = |s: Option<&super::sections::Said<'_>>| {
            s.map_or(String::new(), |s| esc(&s.words(None)))
        };
        let rows: String = v
            .claims
            .rows()
            .map(|(a, d)| format!("<tr><td>{}</td><td>{}</td></tr>", said(a), said(d)))
            .collect();
        evidence.push(format!(
            "<table class=\"claims\"><tr><th>alleges</th><th>denies</th></tr>{rows}</table>"
        ));
    }
    // The key a threshold or absence violation concerns, under its message (the Markdown's
    // "Key").
    let message = match v.key {
        Some(key) => format!("{}<br/>key: <code>{}</code>", esc(v.message), esc(key)),
        None => esc(v.message),
    };
    let n = v.number;
    writeln!(
        out,
        "<tr id=\"v{n}\"><td class=\"n\">{n}</td><td>{}</td><td><code>{}</code><br/>{clause}</td><td>{}</td><td class=\"{}\" data-sort=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(&v.time),
        esc(&v.clause),
        esc(&v.party),
        v.severity,
        rank(&v.severity.to_string()),
        v.severity,
        place.join("<br/>"),
        message,
        evidence.join("<br/>")
    )
}

/// A plain web address, safe as a link target.
fn web(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://"))
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

/// Words for HTML: names in `<code>`, data escaped.
fn words(pieces: &[Piece<'_>]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Prose(text) => text.to_string(),
            Piece::Data(text) => esc(text),
            Piece::Code(name) => format!("<code>{}</code>", esc(name)),
        })
        .collect()
}

/// Text for HTML and XML alike: markup characters escaped, control characters shown escaped
/// (XML forbids most of them).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}
