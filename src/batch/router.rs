//! The patients seen while reading, and the routing of rows once they wait
//! on disk. From the moment a file's rows turn out to be scattered (and
//! from the start for standard input), a row is not checked with its
//! neighbours but written to the spill, unless its patient's group was
//! already handed over (the patient is then split). Patients first seen
//! from then on are not numbered here but when the spill is read back, so
//! the table looked up holds only the patients seen before. Encoding and
//! writing rows runs on a thread of its own ([`route_batches`]) while the
//! reading thread parses the next rows, and the two halves of the work
//! share the two cores.

use super::context::RowContext;
use super::group::Row;
use super::reader::Day;
use super::spill::Spill;
use foldhash::{HashMap, HashSet, HashSetExt};
use std::sync::mpsc;

/// What became of a patient's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PatientState {
    /// Being read now, or waiting in the spill (stdin, scattered files).
    Open,
    /// Closed, waiting to be handed over (it can still reopen).
    Ready,
    /// Handed to the checking thread.
    Closed,
    /// Seen again after being closed: gathered in the second read.
    Split,
}

/// Where a row goes once rows wait on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// To the spill; `known` when its patient may have been numbered
    /// before (it is looked up when the spill is read back).
    Spill {
        /// The patient may be in [`Seen`]; when false it surely is not.
        known: bool,
    },
    /// Nowhere for now: the patient is split, and its rows are gathered in
    /// the second read.
    Split,
}

/// Every patient seen before rows wait on disk, numbered in order of first
/// appearance.
#[derive(Default)]
pub(super) struct Seen {
    ids: HashMap<Box<[u8]>, u32>,
    states: Vec<PatientState>,
    /// Patients seen again after their group was handed over, in the order
    /// this was noticed.
    split: Vec<u32>,
    /// A group was handed over (a patient is or was [`PatientState::Closed`]).
    handed_over: bool,
}

impl Seen {
    /// The number of a patient seen before.
    pub(super) fn get(&self, id: &[u8]) -> Option<u32> {
        self.ids.get(id).copied()
    }

    /// Numbers a patient seen for the first time.
    pub(super) fn add(&mut self, id: &[u8]) -> u32 {
        let pid = self.states.len() as u32;
        self.ids.insert(id.into(), pid);
        self.states.push(PatientState::Open);
        pid
    }

    /// Patients seen.
    pub(super) fn len(&self) -> usize {
        self.states.len()
    }

    /// What became of patient `pid`'s rows.
    pub(super) fn state(&self, pid: u32) -> PatientState {
        self.states[pid as usize]
    }

    /// Records what became of patient `pid`'s rows.
    pub(super) fn set(&mut self, pid: u32, state: PatientState) {
        self.handed_over |= state == PatientState::Closed;
        self.states[pid as usize] = state;
    }

    /// Notes that a patient whose group was handed over has rows again: all
    /// of its rows are gathered in a second read.
    pub(super) fn split(&mut self, pid: u32) {
        self.states[pid as usize] = PatientState::Split;
        self.split.push(pid);
    }

    /// The split patients, in the order found.
    pub(super) fn split_patients(&self) -> &[u32] {
        &self.split
    }

    /// Where a row of patient `id` goes once rows wait on disk: to the
    /// spill, unless the patient's group was already handed over (the
    /// patient is then split, and its rows are gathered in the second
    /// read).
    pub(super) fn route(&mut self, id: &[u8]) -> Route {
        // Before any group is handed over (rows found scattered early, and
        // standard input) no row can split its patient, and a numbered
        // patient is found when the spill is read back, once per patient:
        // no lookup per row.
        if !self.handed_over {
            return Route::Spill { known: true };
        }
        let Some(pid) = self.get(id) else {
            return Route::Spill { known: false };
        };
        match self.state(pid) {
            PatientState::Closed => {
                self.split(pid);
                Route::Split
            }
            PatientState::Split => Route::Split,
            PatientState::Open | PatientState::Ready => Route::Spill { known: true },
        }
    }

    /// The split patients' ids: a table small enough to stay in cache
    /// while every row of the file is looked up in the second read.
    pub(super) fn split_ids(&self) -> HashSet<Box<[u8]>> {
        let mut ids = HashSet::with_capacity(self.split.len());
        for (id, &pid) in &self.ids {
            if self.state(pid) == PatientState::Split {
                ids.insert(id.clone());
            }
        }
        ids
    }
}

/// Valid rows on their way to the routing thread, their patient ids side
/// by side in one buffer and their fields in one buffer each: each field is
/// stored as it was written (a whole row copied at once read back the
/// narrower stores that had just made it, which stalls).
#[derive(Default)]
pub(super) struct RowBatch {
    ids: Vec<u8>,
    /// Where each row's id ends in `ids`.
    ends: Vec<usize>,
    lines: Vec<u64>,
    meds: Vec<u32>,
    proposed: Vec<u32>,
    starts: Vec<Day>,
    stops: Vec<Day>,
    /// The context of the rows that carry any, by row index.
    contexts: Vec<(usize, RowContext)>,
}

impl RowBatch {
    /// Adds a row of patient `id`.
    pub(super) fn push(&mut self, id: &[u8], row: &Row, context: &RowContext) {
        if !context.is_empty() {
            self.contexts.push((self.lines.len(), *context));
        }
        self.ids.extend_from_slice(id);
        self.ends.push(self.ids.len());
        self.lines.push(row.line);
        self.meds.push(row.med);
        self.proposed.push(row.proposed);
        self.starts.push(row.start);
        self.stops.push(row.end);
    }

    /// Rows held.
    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.ends.clear();
        self.lines.clear();
        self.meds.clear();
        self.proposed.clear();
        self.starts.clear();
        self.stops.clear();
        self.contexts.clear();
    }

    /// The rows with their patient ids, in the order pushed.
    fn iter(&self) -> impl Iterator<Item = (&[u8], Row)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        let ids = starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.ids[start..end]);
        let rows = (0..self.lines.len()).map(|at| Row {
            line: self.lines[at],
            med: self.meds[at],
            proposed: self.proposed[at],
            start: self.starts[at],
            end: self.stops[at],
        });
        ids.zip(rows)
    }
}

/// The routing thread: writes each row, with its context, to the spill, or
/// splits its patient, in the order the batches come, so rows are spilled
/// exactly as on one thread. Empty batches go back through `empties` to be
/// filled again.
pub(super) fn route_batches(
    seen: &mut Seen,
    spill: &mut Spill,
    batches: mpsc::Receiver<RowBatch>,
    empties: &mpsc::SyncSender<RowBatch>,
) {
    for mut batch in batches {
        let mut contexts = batch.contexts.iter().peekable();
        for (at, (id, row)) in batch.iter().enumerate() {
            let context = contexts
                .next_if(|(row_at, _)| *row_at == at)
                .map_or_else(RowContext::default, |(_, context)| *context);
            if let Route::Spill { known } = seen.route(id) {
                spill.push(id, &row, &context, known);
            }
        }
        batch.clear();
        // When enough wait already the batch is just freed.
        let _ = empties.try_send(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::NO_MED;
    use crate::batch::reader::OPEN_START;

    fn row(line: u64) -> Row {
        Row {
            line,
            med: 0,
            proposed: NO_MED,
            start: 0,
            end: 1,
        }
    }

    #[test]
    fn a_batch_gives_back_each_row_with_its_patient() {
        let mut batch = RowBatch::default();
        for (id, line) in [(&b"P1"[..], 2), (b"", 3), (b"P22", 4)] {
            batch.push(id, &row(line), &RowContext::default());
        }
        let back: Vec<(&[u8], u64)> = batch.iter().map(|(id, r)| (id, r.line)).collect();
        assert_eq!(back, [(&b"P1"[..], 2), (b"", 3), (b"P22", 4)]);
        // Every field comes back as pushed, each from its own buffer.
        let full = Row {
            line: u64::MAX,
            med: 7,
            proposed: 9,
            start: OPEN_START,
            end: -3,
        };
        batch.push(b"Q", &full, &RowContext::default());
        assert_eq!(batch.iter().last(), Some((&b"Q"[..], full)));
        batch.clear();
        assert_eq!(batch.len(), 0);
        assert_eq!(batch.iter().count(), 0);
    }

    #[test]
    fn before_a_hand_over_rows_are_routed_without_a_lookup_and_numbered_when_read_back() {
        let mut seen = Seen::default();
        let ready = seen.add(b"R");
        seen.set(ready, PatientState::Ready);
        for id in [&b"R"[..], b"new"] {
            assert_eq!(seen.route(id), Route::Spill { known: true });
        }
        assert!(seen.split_patients().is_empty());
        let mut spill = Spill::new(Some(1));
        for (id, line) in [(&b"new"[..], 2), (b"R", 3)] {
            let Route::Spill { known } = seen.route(id) else {
                panic!("a row of {id:?} is not spilled");
            };
            spill.push(id, &row(line), &RowContext::default(), known);
        }
        let mut numbered = Vec::new();
        spill
            .drain(
                &[],
                |id, known| match known.then(|| seen.get(id)).flatten() {
                    Some(pid) => (pid, 1),
                    None => (99, 1),
                },
                |groups| numbered.extend(groups.iter().map(|g| (g.id.to_string(), g.pid))),
            )
            .expect("drain");
        numbered.sort();
        assert_eq!(numbered, [("R".to_owned(), ready), ("new".to_owned(), 99)]);
    }

    #[test]
    fn routed_rows_wait_on_disk_unless_their_patient_was_handed_over() {
        let mut seen = Seen::default();
        let closed = seen.add(b"C");
        seen.set(closed, PatientState::Closed);
        let open = seen.add(b"O");
        let mut spill = Spill::new(Some(1));
        let (to_router, batches) = mpsc::sync_channel(2);
        let (give_back, _empties) = mpsc::sync_channel(2);
        let mut batch = RowBatch::default();
        let rows = [
            (&b"A"[..], 2),
            (b"C", 3),
            (b"B", 4),
            (b"A", 5),
            (b"C", 6),
            (b"O", 7),
        ];
        for (id, line) in rows {
            batch.push(id, &row(line), &RowContext::default());
        }
        to_router.send(batch).expect("send");
        drop(to_router);
        route_batches(&mut seen, &mut spill, batches, &give_back);
        // New patients are numbered when the spill is read back, not here.
        assert_eq!(seen.len(), 2);
        assert_eq!(seen.get(b"A"), None);
        assert_eq!(seen.split_patients(), [closed]);
        let mut spilled = Vec::new();
        spill
            .drain(
                &[],
                |id, known| (seen.get(id).filter(|_| known).unwrap_or(9), 1),
                |groups| {
                    spilled.extend(groups.iter().map(|g| {
                        let lines: Vec<u64> = g.rows.iter().map(|r| r.line).collect();
                        (g.id.to_string(), g.pid, lines)
                    }))
                },
            )
            .expect("drain");
        spilled.sort();
        let expected = [
            ("A".to_owned(), 9, vec![2, 5]),
            ("B".to_owned(), 9, vec![4]),
            ("O".to_owned(), open, vec![7]),
        ];
        assert_eq!(spilled, expected);
    }
}
