//! JSON Lines renderer of `crampcheck batch`: one object per finding, the
//! same finding object as `check --format json` ([`FindingJson`]) with the
//! patient id, the drug checked as proposed and the input lines in front.
//! In batch, `medication_indices` point into the patient's distinct
//! medications in order of first appearance.

use super::json::FindingJson;
use crate::batch::frames::Frames;
use crate::batch::group::PatientFindings;
use crate::kb::KbIndex;
use serde::Serialize;
use std::io;

/// One line of the JSONL output.
#[derive(Debug, Serialize)]
pub struct BatchFindingJson<'a> {
    /// Patient id as written.
    pub patient_id: &'a str,
    /// The drug checked as proposed (empty for findings about the list).
    pub proposed: &'a str,
    /// Input line numbers of the rows behind the finding.
    pub lines: &'a [u64],
    /// The finding, as in `check --format json`.
    #[serde(flatten)]
    pub finding: FindingJson,
}

/// Appends one JSON line per finding of a patient.
pub fn render_patient(kb: &KbIndex, p: &PatientFindings<'_>, out: &mut Frames) -> io::Result<()> {
    // Serialized here, then added to the frames at once: the serializer
    // writes a token at a time, each a call on the frames otherwise.
    let mut text = Vec::with_capacity(2048);
    for bf in p.findings {
        let mut finding = FindingJson::of(kb, &bf.finding);
        finding.medication_index = bf.medication_indices.first().copied();
        finding
            .medication_indices
            .clone_from(&bf.medication_indices);
        let line = BatchFindingJson {
            patient_id: p.patient_id,
            proposed: &bf.proposed,
            lines: &bf.lines,
            finding,
        };
        text.clear();
        serde_json::to_writer(&mut text, &line)?;
        text.push(b'\n');
        out.text(&text);
    }
    Ok(())
}
