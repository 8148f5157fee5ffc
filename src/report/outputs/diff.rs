//! The JSON of `pactum diff --format json`: what differs between two reports of the same
//! events.

use serde::{Deserialize, Serialize};

use crate::report::Severity;
use crate::report::diff::{Diff, Finding, what_changed};

/// Version of the diff output described here.
pub const DIFF_VERSION: u32 = 3;

/// What `pactum diff --format json` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffOutput {
    /// [`DIFF_VERSION`] at the time of writing.
    pub diff_version: u32,
    /// The pactum version that produced it.
    pub pactum_version: String,
    /// The old report's agreements, in its order.
    pub old: Vec<AgreementRef>,
    /// The new report's agreements, in its order.
    pub new: Vec<AgreementRef>,
    /// Whether both reports judged the same inputs (by SHA-256, in order).
    pub same_inputs: bool,
    /// Violations only the old rules raise.
    pub only_old: Vec<FindingRecord>,
    /// Violations only the new rules raise.
    pub only_new: Vec<FindingRecord>,
    /// Violations on the same evidence whose agreement, term, severity, party or time changed
    /// (paired by time and evidence, then by term and evidence).
    pub changed: Vec<Change>,
    /// Agreements whose id alone changed (the same place in both lists, neither id in the
    /// other): their violations compare as if it had not. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<Renamed>,
    /// How many violations both raise alike.
    pub unchanged: u64,
}

/// An agreement one side applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementRef {
    /// Its id.
    pub id: String,
    /// SHA-256 of its rule file.
    pub sha256: String,
}

/// A violation as the diff shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRecord {
    /// When, RFC 3339 UTC, as in the report.
    pub time: String,
    /// The ids of its evidence, in the report's order.
    pub evidence: Vec<String>,
    /// Agreement id.
    pub agreement: String,
    /// Term id.
    pub term: String,
    /// Severity.
    pub severity: Severity,
    /// Who is in breach; empty when unattributed (before diff version 3: one code or `null`).
    #[serde(deserialize_with = "crate::report::model::charged::deserialize")]
    pub breached_by: Vec<String>,
    /// The message.
    pub message: String,
}

/// One violation as the old rules and as the new rules judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Under the old rules.
    pub old: FindingRecord,
    /// Under the new rules.
    pub new: FindingRecord,
    /// What changed, a phrase each: `severity: high → critical`, `time: … → …`.
    #[serde(default)]
    pub what: Vec<String>,
}

/// An agreement renamed between the two reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renamed {
    /// Its id in the old report.
    pub old: String,
    /// Its id in the new report.
    pub new: String,
}

/// The diff output of `d`.
pub fn build(d: &Diff) -> DiffOutput {
    let agreements = |list: &[(String, String)]| {
        list.iter()
            .map(|(id, sha256)| AgreementRef {
                id: id.clone(),
                sha256: sha256.clone(),
            })
            .collect()
    };
    DiffOutput {
        diff_version: DIFF_VERSION,
        pactum_version: super::pactum_version(),
        old: agreements(&d.old),
        new: agreements(&d.new),
        same_inputs: d.same_inputs,
        only_old: d.only_old.iter().map(finding).collect(),
        only_new: d.only_new.iter().map(finding).collect(),
        changed: d
            .changed
            .iter()
            .map(|(old, new)| Change {
                old: finding(old),
                new: finding(new),
                what: what_changed(old, new, &d.renamed),
            })
            .collect(),
        renamed: d
            .renamed
            .iter()
            .map(|(old, new)| Renamed {
                old: old.clone(),
                new: new.clone(),
            })
            .collect(),
        unchanged: d.unchanged as u64,
    }
}

fn finding(f: &Finding) -> FindingRecord {
    FindingRecord {
        time: f.time.clone(),
        evidence: f.evidence.clone(),
        agreement: f.agreement.clone(),
        term: f.term.clone(),
        severity: f.severity,
        breached_by: f.breached_by.clone(),
        message: f.message.clone(),
    }
}
